"""Build the data that ships inside the package (digitcore/embedded/) from MNIST's own IDX files.

    python -m digitcore.build_embedded /path/to/mnist/raw      # the four IDX files, .gz or not

writes, byte for byte the same on every run (fixed zip timestamps, fixed order, no randomness):

  mnist_sample.npz  fastai's MNIST_SAMPLE, the chapter's data: every 3 and 7 of MNIST's training set (train,
                    6,131 + 6,265) and of its test set (valid, 1,010 + 1,028), in the order fastai's PNG folders
                    list them (file names are MNIST indices, sorted as text). Arrays train_3, train_7, valid_3,
                    valid_7 (uint8, N x 28 x 28) and train_3_index, ... (each image's index in MNIST).
  mnist_digits.npz  all ten digits, for lesson 09: 1,000 of each digit from MNIST's training set (train) and
                    200 of each from its test set (valid), picked evenly spaced through each digit's images in
                    MNIST order (so both halves of the test set, its cleaner and its harder writers, are in),
                    then kept in MNIST order. Arrays train_images, train_labels, valid_images, valid_labels,
                    train_index, valid_index.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges (CC BY-SA 3.0); MNIST_SAMPLE is fastai's
subset of it. See digitcore/embedded/README.md.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

from .data import EMBEDDED, SPLITS, DataError, _idx_files, _parse_idx, book_order

PER_DIGIT = {"train": 1000, "valid": 200}  # the all-digit sample: images of each digit per split


def read_mnist(folder: Path) -> dict[str, np.ndarray]:
    """{train,valid}_{images,labels} as numpy arrays, from the IDX files in `folder` (or its MNIST/raw, raw)."""
    idx = _idx_files(Path(folder))
    if idx is None:
        raise DataError(f"{folder} has no MNIST IDX files (train-images-idx3-ubyte[.gz], ...)")
    return {f"{split}_{kind}": _parse_idx(idx[f"{split}_{kind}"], images=kind == "images")
            for split in SPLITS for kind in ("images", "labels")}


def sample_arrays(mnist: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """MNIST_SAMPLE: every 3 and 7 of each split, in the PNG folders' order, with their MNIST indices."""
    out = {}
    for split in SPLITS:
        for digit in (3, 7):
            index = book_order(np.flatnonzero(mnist[f"{split}_labels"] == digit))
            out[f"{split}_{digit}"] = mnist[f"{split}_images"][index]
            out[f"{split}_{digit}_index"] = index.astype(np.uint16)
    return out


def digits_arrays(mnist: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """PER_DIGIT images of each digit per split, evenly spaced through that digit's images, in MNIST order."""
    out = {}
    for split in SPLITS:
        labels, n = mnist[f"{split}_labels"], PER_DIGIT[split]
        picks = []
        for digit in range(10):
            of_digit = np.flatnonzero(labels == digit)
            picks.append(of_digit[np.arange(n) * len(of_digit) // n])  # integer arithmetic: exact everywhere
        index = np.sort(np.concatenate(picks))
        out[f"{split}_images"] = mnist[f"{split}_images"][index]
        out[f"{split}_labels"] = labels[index].astype(np.uint8)
        out[f"{split}_index"] = index.astype(np.uint16)
    return out


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz that np.load reads, written so that the same arrays always give the same bytes."""
    tmp = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(tmp, "w") as z:
        for name, array in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, buf.getvalue(), compresslevel=9)
    os.replace(tmp, path)


def build(mnist_folder: Path, out: Path = EMBEDDED) -> dict[str, str]:
    """Write both files into `out`; returns {file name: sha256}."""
    mnist = read_mnist(mnist_folder)
    out.mkdir(parents=True, exist_ok=True)
    hashes = {}
    for name, arrays in (("mnist_sample.npz", sample_arrays(mnist)), ("mnist_digits.npz", digits_arrays(mnist))):
        write_npz(out / name, arrays)
        hashes[name] = hashlib.sha256((out / name).read_bytes()).hexdigest()
    return hashes


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (1, 2):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    out = Path(argv[1]) if len(argv) == 2 else EMBEDDED
    for name, digest in build(Path(argv[0]), out).items():
        print(f"{out / name}  {(out / name).stat().st_size:,} bytes  sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
