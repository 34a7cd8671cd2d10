"""digitcore: the fastai book's chapter 4, from pixels to a trained digit classifier, small enough to read."""

__version__ = "0.1.0"
