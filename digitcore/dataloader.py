"""DataLoader: batches from a collection, shuffled afresh every pass, like fastai's in the book.

Two paths:
- any collection (a range, a list of (int, letter) pairs, ...): items are gathered and collated one batch at a
  time, as the book's toy examples show;
- stacked tensors (a list of (x, y) tensor pairs, or `DataLoader.from_tensors(X, Y)`): the items are stacked ONCE,
  and each batch is a slice (or one index_select per batch when shuffling). No per-item work: this is what makes training fast.
"""

import math

import torch
from torch import Tensor


def collate(items: list):
    """Turn a list of items into a batch: numbers and tensors are stacked, strings kept in a tuple,
    tuples collated field by field."""
    first = items[0]
    if isinstance(first, Tensor):
        return torch.stack(items)
    if isinstance(first, (bool, int, float)):
        return torch.tensor(items)
    if isinstance(first, (tuple, list)):
        return tuple(collate(list(field)) for field in zip(*items))
    return tuple(items)


def _stackable(dataset) -> bool:
    """A non-empty list/tuple of (x, y) pairs of tensors whose shapes agree."""
    if not isinstance(dataset, (list, tuple)) or not dataset:
        return False
    first = dataset[0]
    if not (isinstance(first, tuple) and first and all(isinstance(t, Tensor) for t in first)):
        return False
    shapes = [t.shape for t in first]
    return all(
        isinstance(item, tuple)
        and len(item) == len(first)
        and all(isinstance(t, Tensor) and t.shape == s for t, s in zip(item, shapes))
        for item in dataset
    )


def _stack(items: tuple[Tensor, ...]) -> Tensor:
    """torch.stack(items); but when the items are consecutive rows of one tensor, as in the book's
    `list(zip(train_x, train_y))`, that tensor already is their stack: return a view of it instead of copying
    (for 12,396 digits: 0.2 s saved). The view shares memory with the rows, just as the list of rows does."""
    first, base = items[0], items[0]._base
    if base is not None and base.dim() == first.dim() + 1 and base.stride(0) > 0 and base.shape[1:] == first.shape:
        start, rem = divmod(first.storage_offset() - base.storage_offset(), base.stride(0))
        offsets = range(first.storage_offset(), first.storage_offset() + len(items) * base.stride(0), base.stride(0))
        if (rem == 0 and start + len(items) <= len(base)
                and all(t._base is base and t.storage_offset() == o and t.stride() == first.stride()
                        for t, o in zip(items, offsets))):
            return base[start : start + len(items)]
    return torch.stack(items)


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size`; `shuffle` draws a new order every pass."""

    def __init__(self, dataset, batch_size: int = 64, shuffle: bool = False, drop_last: bool = False, seed=None):
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.generator = torch.Generator()
        self.generator.manual_seed(seed if seed is not None else int(torch.randint(2**62, ())))
        self.dataset, self.tensors = dataset, None
        if _stackable(dataset):  # stack once, batch by slicing from now on
            self.tensors = tuple(_stack(field) for field in zip(*dataset))

    @classmethod
    def from_tensors(cls, *tensors: Tensor, **kwargs) -> "DataLoader":
        """A loader over already-stacked tensors (same first dimension): item i is (X[i], Y[i], ...)."""
        if len({len(t) for t in tensors}) != 1:
            raise ValueError(f"from_tensors needs tensors of equal length, got {[len(t) for t in tensors]}")
        dl = cls([], **kwargs)
        dl.dataset, dl.tensors = None, tuple(tensors)
        return dl

    def to(self, device) -> "DataLoader":
        """Move the stacked tensors to `device` once (the collated path moves nothing)."""
        if self.tensors is not None:
            self.tensors = tuple(t.to(device) for t in self.tensors)
        return self

    @property
    def n(self) -> int:
        return len(self.tensors[0]) if self.tensors is not None else len(self.dataset)

    def __len__(self) -> int:
        n, bs = self.n, self.batch_size
        return n // bs if self.drop_last else math.ceil(n / bs)

    def _order(self) -> Tensor | None:
        return torch.randperm(self.n, generator=self.generator) if self.shuffle else None

    def __iter__(self):
        order, bs = self._order(), self.batch_size
        stop = len(self) * bs
        if self.tensors is not None:
            tensors = self.tensors
            if order is None:  # in order: every batch is a view, no copy at all
                for i in range(0, min(stop, self.n), bs):
                    yield tuple(t[i : i + bs] for t in tensors)
                return
            # Shuffled: gather one batch at a time. The same total copying as reordering the whole set first,
            # but each batch is still in cache when the model reads it (10 linear epochs: 0.81 s -> 0.48 s CPU).
            order = order.to(tensors[0].device)
            for i in range(0, min(stop, self.n), bs):
                idx = order[i : i + bs]
                yield tuple(t.index_select(0, idx) for t in tensors)
        else:
            idxs = order.tolist() if order is not None else range(self.n)
            for i in range(0, min(stop, self.n), bs):
                yield collate([self.dataset[j] for j in idxs[i : i + bs]])


class DataLoaders:
    """A training and a validation loader, side by side."""

    def __init__(self, train: DataLoader, valid: DataLoader):
        self.train, self.valid = train, valid

    def __getitem__(self, i: int) -> DataLoader:
        return (self.train, self.valid)[i]

    @classmethod
    def from_sample(cls, data, batch_size: int = 256, valid_batch_size: int = 1024, shuffle: bool = False,
                    seed=None) -> "DataLoaders":
        """Loaders over a DigitSample's stacked tensors (`data.train_xy()` and `data.valid_xy()`): the training set in
        batches of `batch_size` (drawn afresh every pass with `shuffle`, from `seed`), the validation set in order."""
        (train_x, train_y), (valid_x, valid_y) = data.train_xy(), data.valid_xy()
        return cls(DataLoader.from_tensors(train_x, train_y, batch_size=batch_size, shuffle=shuffle, seed=seed),
                   DataLoader.from_tensors(valid_x, valid_y, batch_size=valid_batch_size))

    def to(self, device) -> "DataLoaders":
        self.train.to(device), self.valid.to(device)
        return self
