"""The chapter's data: fastai's MNIST_SAMPLE (3s vs 7s) and the full MNIST, from wherever they can be found.

Where the data comes from, first match wins (and `.source` always says which one is in use):
  1. a folder you name: the `path` argument, or env DIGITCORE_DATA ("embedded", or "offline", forces 3.)
     holding fastai's `mnist_sample/` PNG folders and/or MNIST IDX files (.gz or not);
  2. the per-user cache ($DIGITCORE_CACHE or ~/.cache/digitcore), filled by `digitcore data download`;
  3. the data embedded in the package (digitcore/embedded/, 4 MB; no network needed):
     - for load_sample(): fastai's MNIST_SAMPLE itself, the chapter's 14,434 3s and 7s, pixel for pixel and in the
       order of fastai's PNG folders, so the book's numbers come out exactly;
     - for load_mnist(): a sample of all ten digits, 1,000 of each for training and 200 of each for validation.
     Both are built from the MNIST IDX files by digitcore/build_embedded.py. MNIST is by Yann LeCun, Corinna Cortes
     and Christopher J.C. Burges, under the Creative Commons Attribution-Share Alike 3.0 licence; MNIST_SAMPLE is
     fastai's subset of it (see digitcore/embedded/README.md).
A folder you name that turns out to be wrong raises DataError; it is never silently swapped for another source.

MNIST_SAMPLE has the same images in the same order from every source: the PNG folders list files sorted by name,
the names are MNIST indices, and the sample derived from IDX files (and the embedded one) follows that order.
Decoded PNGs are cached on disk (uint8 tensors, written atomically) and every load is cached in-process.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import pickle
import shutil
import struct
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

SPLITS = ("train", "valid")
DIGITS = ("3", "7")
IDX_FILES = {  # role -> MNIST's file name (".gz" optional)
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "valid_images": "t10k-images-idx3-ubyte",
    "valid_labels": "t10k-labels-idx1-ubyte",
}
IDX_SUBDIRS = (".", "MNIST/raw", "mnist/raw", "raw")  # where torchvision & co. keep them
GET_DATA = "run `digitcore data download`, or set DIGITCORE_DATA to a folder with the data"
EMBEDDED = Path(__file__).resolve().parent / "embedded"  # the data shipped in the package (build_embedded.py)
EMBEDDED_NAMES = ("embedded", "offline")  # DIGITCORE_DATA / --data values that ask for it
CACHE_VERSION = 1


class DataError(ValueError):
    """The data is missing or not what was expected; the message names the file, the expectation and the fix."""


@dataclass
class DigitSample:
    """fastai's MNIST_SAMPLE: 3s vs 7s, uint8 images (N, 28, 28).

    offline: True only for a reduced sample whose numbers differ from the book's (every source of MNIST_SAMPLE,
    the embedded one included, is the whole sample: False)."""

    train_threes: Tensor
    train_sevens: Tensor
    valid_threes: Tensor
    valid_sevens: Tensor
    source: str
    offline: bool

    def train_xy(self) -> tuple[Tensor, Tensor]:
        """x float32 (N, 784) in [0, 1], 3s first then 7s; y float32 (N, 1): 1 for a 3, 0 for a 7.
        Converted once per sample and shared by every caller (every student's tab on a lesson server): clone
        before changing them in place."""
        return self._converted("train", self.train_threes, self.train_sevens)

    def valid_xy(self) -> tuple[Tensor, Tensor]:
        return self._converted("valid", self.valid_threes, self.valid_sevens)

    def _converted(self, split: str, threes: Tensor, sevens: Tensor) -> tuple[Tensor, Tensor]:
        done = self.__dict__.setdefault("_xy", {})
        if split not in done:
            done[split] = _xy(threes, sevens)
        return done[split]

    def __repr__(self) -> str:
        n = [len(t) for t in (self.train_threes, self.train_sevens, self.valid_threes, self.valid_sevens)]
        return f"DigitSample(train 3s/7s {n[0]}/{n[1]}, valid 3s/7s {n[2]}/{n[3]}; {self.source})"


@dataclass
class FullMnist:
    """All ten digits; 'valid' is MNIST's test set (or a sample of it).

    offline: True for the embedded all-digit sample (12,000 of MNIST's 70,000 images)."""

    train_images: Tensor  # uint8 (N, 28, 28)
    train_labels: Tensor  # int64 (N,)
    valid_images: Tensor
    valid_labels: Tensor
    source: str
    offline: bool

    def __repr__(self) -> str:
        return f"FullMnist(train {len(self.train_images)}, valid {len(self.valid_images)}; {self.source})"


def _xy(threes: Tensor, sevens: Tensor) -> tuple[Tensor, Tensor]:
    x = torch.cat([threes, sevens]).view(-1, 28 * 28).float() / 255
    y = torch.cat([torch.ones(len(threes)), torch.zeros(len(sevens))]).unsqueeze(1)
    return x, y


# ---------------------------------------------------------------------------------------------------------
# choosing the source


def cache_dir() -> Path:
    """The per-user cache: downloads and decoded tensors live here."""
    return Path(os.environ.get("DIGITCORE_CACHE") or Path.home() / ".cache" / "digitcore")


def _choose(path) -> tuple[str, Path | None, str]:
    """-> (kind, folder, why) with kind one of 'named', 'cache', 'embedded'."""
    if path is not None:
        if str(path) in EMBEDDED_NAMES:
            return "embedded", None, f"asked for with {path!r}"
        return "named", _existing_folder(Path(path), "the folder you named"), "folder given as argument"
    env = os.environ.get("DIGITCORE_DATA", "")
    if env in EMBEDDED_NAMES:
        return "embedded", None, f"DIGITCORE_DATA={env}"
    if env:
        return "named", _existing_folder(Path(env), "DIGITCORE_DATA"), "set by DIGITCORE_DATA"
    if _idx_files(cache_dir(), strict=False):
        return "cache", cache_dir(), "downloaded to the user cache"
    return "embedded", None, "no DIGITCORE_DATA and nothing downloaded"


def _existing_folder(path: Path, what: str) -> Path:
    path = path.expanduser()
    if not path.exists():
        raise DataError(f"{path} does not exist ({what}): expected a folder with fastai's mnist_sample/ "
                        f"or MNIST IDX files; fix the path, or {GET_DATA}")
    if not path.is_dir():
        raise DataError(f"{path} is not a folder ({what}): expected a folder with fastai's mnist_sample/ "
                        f"or MNIST IDX files")
    return path.resolve()


def _png_root(folder: Path) -> Path | None:
    """The mnist_sample folder under (or at) `folder`, or None when there are no PNG folders."""
    if (folder / "mnist_sample").is_dir():
        return folder / "mnist_sample"
    if any((folder / s).is_dir() for s in SPLITS):
        return folder
    return None


def _idx_files(folder: Path, strict: bool = True) -> dict[str, Path] | None:
    """The four IDX files in folder, MNIST/raw, mnist/raw or raw; None if none there.

    A place that holds some but not all of them raises DataError (strict) or counts as none.
    """
    for sub in IDX_SUBDIRS:
        d = folder / sub
        if not d.is_dir():
            continue
        found = {role: _idx_file(d, name) for role, name in IDX_FILES.items()}
        have = {role: p for role, p in found.items() if p}
        if len(have) == 4:
            return have
        if have and strict:
            missing = ", ".join(f"{IDX_FILES[r]}[.gz]" for r in IDX_FILES if r not in have)
            raise DataError(f"{d} has only part of MNIST: {missing} missing; {GET_DATA}")
    return None


def _idx_file(d: Path, name: str) -> Path | None:
    for candidate in (name, name + ".gz", name.replace("-idx", ".idx"), name.replace("-idx", ".idx") + ".gz"):
        if (d / candidate).is_file():
            return d / candidate
    return None


# ---------------------------------------------------------------------------------------------------------
# public loaders

_memory: dict[tuple, object] = {}  # in-process cache: same resolved source -> same object
_loading = threading.RLock()  # one load at a time: a second thread asking for the same data waits, then gets it


def load_sample(path: str | Path | None = None) -> DigitSample:
    """MNIST_SAMPLE (3s vs 7s) from the first source that has it (see the module docstring)."""
    with _loading:
        return _load_sample(path)


def _load_sample(path) -> DigitSample:
    kind, folder, why = _choose(path)
    if kind == "embedded":
        return _embedded_sample(why)
    png = _png_root(folder) if kind == "named" else None
    if png is not None:
        return _png_sample(png, why)
    idx = _idx_files(folder)
    if idx is None:
        raise DataError(f"{folder} has no MNIST data: expected fastai's mnist_sample/ (train/3, train/7, valid/3, "
                        f"valid/7 PNG folders) or the MNIST IDX files ({IDX_FILES['train_images']}[.gz], ...) "
                        f"in it or in MNIST/raw, mnist/raw or raw; {GET_DATA}")
    return _idx_sample(idx, why)


def load_mnist(path: str | Path | None = None) -> FullMnist:
    """The full MNIST (ten digits; valid = MNIST's test set) from the first source that has it."""
    with _loading:
        return _load_mnist(path)


def _load_mnist(path) -> FullMnist:
    kind, folder, why = _choose(path)
    if kind == "embedded":
        return _embedded_mnist(why)
    idx = _idx_files(folder)
    if idx is None:
        has_png = _png_root(folder) is not None
        found = "only fastai's mnist_sample PNGs (3s and 7s)" if has_png else "no MNIST IDX files"
        raise DataError(f"{folder} has {found}: the full MNIST needs the IDX files {', '.join(IDX_FILES.values())} "
                        f"(.gz or not) in it or in MNIST/raw, mnist/raw or raw; get them with "
                        f"`digitcore data download` (or point DIGITCORE_DATA at a folder that has them)")
    return _idx_mnist(idx, why)


def download(dest: Path | None = None) -> Path:
    """Download MNIST with torchvision into `dest` (default: the user cache); returns the folder of IDX files.

    The files land in a temporary folder inside `dest` and move to dest/MNIST/raw only once all four are there,
    so a failed download leaves nothing behind (not even empty folders)."""
    dest = Path(dest).expanduser() if dest is not None else cache_dir()
    raw = dest / "MNIST" / "raw"
    if _idx_files(raw, strict=False):
        return raw  # already there (torchvision would not download again either)
    created = [p for p in (dest, *dest.parents) if not p.exists()]  # deepest first: removed again on failure
    work, done = None, False
    try:
        try:
            dest.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=".download-", dir=dest))
        except OSError as e:
            raise DataError(f"cannot download MNIST into {dest}: {e.strerror or e} (it cannot be created or written to); "
                            f"make it writable, or download elsewhere with `digitcore data download --dest DIR` and "
                            f"set DIGITCORE_DATA=DIR (or set DIGITCORE_CACHE to a writable folder)") from e
        try:
            from torchvision.datasets import MNIST

            MNIST(root=str(work), train=True, download=True)
            MNIST(root=str(work), train=False, download=True)
            raw.mkdir(parents=True, exist_ok=True)
            for f in sorted((work / "MNIST" / "raw").iterdir()):
                os.replace(f, raw / f.name)
            done = True
        except Exception as e:  # network, disk, checksum
            raise DataError(f"could not download MNIST: {_download_problem(e, dest)}") from e
    finally:  # on failure or Ctrl-C too: no temporary folder, no empty folders we made
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        for d in created if not done else ():
            try:
                d.rmdir()  # only if empty
            except OSError:
                pass
    return raw


def _download_problem(e: BaseException, dest: Path) -> str:
    """What went wrong with a download, and what to do about it, in one line."""
    reason = " ".join(str(e).split())[:300] or type(e).__name__  # torchvision's is several lines
    chain = [e]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
    errnos = {x.errno for x in chain if isinstance(x, OSError) and x.errno}
    if errnos & {errno.EACCES, errno.EPERM, errno.EROFS}:
        return (f"{reason}; {dest} is not writable: make it writable, or download elsewhere with "
                f"`digitcore data download --dest DIR` and set DIGITCORE_DATA=DIR")
    if errno.ENOSPC in errnos:
        return f"{reason}; the disk holding {dest} is full (MNIST needs about 65 MB): free some space and try again"
    import urllib.error

    if "urlopen error" in reason or any(isinstance(x, (urllib.error.URLError, ConnectionError, TimeoutError))
                                       for x in chain):
        return (f"{reason}; MNIST's download mirrors could not be reached (no network, or a proxy in the way?): "
                f"try again when online, or set DIGITCORE_DATA to a folder with the data. "
                f"Without either, digitcore uses the data embedded in the package")
    return f"{reason}; try again, or set DIGITCORE_DATA to a folder with the data"


def data_info(path: str | Path | None = None) -> str:
    """A few lines saying which data is in use, where it comes from, and how much of it there is."""
    s = load_sample(path)
    counts = (f"train {len(s.train_threes):,} threes + {len(s.train_sevens):,} sevens, "
              f"valid {len(s.valid_threes):,} threes + {len(s.valid_sevens):,} sevens")
    lines = [f"data in use: {s.source}", f"3s vs 7s:    {counts}"]
    try:
        kind, folder, _ = _choose(path)
        idx = _idx_files(folder) if folder is not None else None
        if kind == "embedded":
            m = load_mnist(path)
            lines.append(f"full MNIST:  the embedded sample only ({len(m.train_images):,} train / "
                         f"{len(m.valid_images):,} valid images of all ten digits)")
        elif idx:
            n_train = _idx_header(idx["train_images"])[1]
            n_valid = _idx_header(idx["valid_images"])[1]
            lines.append(f"full MNIST:  {n_train:,} train / {n_valid:,} valid images in {idx['train_images'].parent}")
        else:
            lines.append("full MNIST:  not in this folder (run `digitcore data download` to get it)")
    except DataError as e:
        lines.append(f"full MNIST:  unusable: {e}")
    lines.append(f"user cache:  {cache_dir()}")
    if kind == "embedded":
        lines.append("for all of MNIST run `digitcore data download` or set DIGITCORE_DATA to a data folder")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# PNG folders (fastai's layout)


def _png_sample(root: Path, why: str) -> DigitSample:
    folders = {f"{split}_{digit}": root / split / digit for split in SPLITS for digit in DIGITS}
    for d in folders.values():
        if not d.is_dir():
            raise DataError(f"{d} is missing: expected folders train/3, train/7, valid/3, valid/7 in {root} "
                            f"(fastai's MNIST_SAMPLE layout); {GET_DATA}")
    # in-process: the same folders, unchanged since (a folder's mtime moves when files come or go)
    key = ("png", str(root.resolve()), tuple(d.stat().st_mtime_ns for d in folders.values()))
    if key not in _memory:
        files, stats = {}, []
        for k, d in folders.items():
            # fastai's .ls().sorted(): sorted Path objects, i.e. by file name within one folder
            entries = sorted((e for e in os.scandir(d) if e.name.lower().endswith(".png") and e.is_file()),
                             key=lambda e: e.name)
            if not entries:
                raise DataError(f"{d} has no .png images: expected 28x28 greyscale PNGs of the digit {k[-1]}")
            files[k] = [e.path for e in entries]
            stats += [(f"{k}/{e.name}", e.stat()) for e in entries]
        fingerprint = _fingerprint(root, stats)
        tensors = _disk_cached("sample-png", fingerprint, lambda: {k: _decode_all(ps) for k, ps in files.items()},
                               _is_sample)
        n = [len(t) for t in tensors.values()]
        source = (f"MNIST_SAMPLE from PNG folders in {root} ({n[0] + n[1]:,} train / {n[2] + n[3]:,} valid images; "
                  f"{why})")
        _memory[key] = DigitSample(tensors["train_3"], tensors["train_7"], tensors["valid_3"], tensors["valid_7"],
                                   source=source, offline=False)
    return _memory[key]


def _is_sample(t) -> bool:
    return (isinstance(t, dict) and list(t) == ["train_3", "train_7", "valid_3", "valid_7"]
            and all(isinstance(v, Tensor) and v.dtype == torch.uint8 and v.dim() == 3 and v.shape[1:] == (28, 28)
                    for v in t.values()))


def _decode_png(path: str) -> np.ndarray:
    """One PNG -> uint8 (28, 28); DataError naming the file when it is not a 28x28 greyscale image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            if im.size != (28, 28) or im.mode != "L":
                raise DataError(f"{path} is a {im.size[0]}x{im.size[1]} {im.mode} image: expected a 28x28 greyscale "
                                f"(mode L) digit like every MNIST_SAMPLE image; remove or replace it")
            return np.asarray(im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path} is not a readable PNG ({type(e).__name__}: {e}); remove or replace the file, "
                        f"or get a fresh copy of the data") from e


def _decode_all(paths: list[str]) -> Tensor:
    # one thread: PIL's per-file overhead holds the GIL, so threads did not help (measured); ~0.2 ms a file
    return torch.from_numpy(np.stack([_decode_png(p) for p in paths]))


# ---------------------------------------------------------------------------------------------------------
# IDX files (MNIST's own format)


def _read_idx(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            raw = f.read()
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"{path} could not be read ({type(e).__name__}: {e}): the file is damaged; "
                        f"get a fresh copy ({GET_DATA})") from e


def _idx_header(path: Path) -> tuple[int, int]:
    """(magic, count) from the first 8 bytes, reading only the start of a .gz."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open if gz else open)(path, "rb") as f:
            head = f.read(8)
    except (OSError, EOFError) as e:
        raise DataError(f"{path} could not be read ({type(e).__name__}: {e}): the file is damaged") from e
    if len(head) < 8:
        raise DataError(f"{path} is truncated: shorter than an IDX header")
    return struct.unpack(">II", head)


def _parse_idx(path: Path, images: bool) -> np.ndarray:
    data = _read_idx(path)
    magic, header = (0x803, 16) if images else (0x801, 8)
    what = "images (idx3)" if images else "labels (idx1)"
    if len(data) < header:
        raise DataError(f"{path} is truncated: {len(data)} bytes, shorter than the {header}-byte IDX header; "
                        f"get a fresh copy ({GET_DATA})")
    got = struct.unpack(">I", data[:4])[0]
    if got != magic:
        raise DataError(f"{path} has magic number 0x{got:08x}, expected 0x{magic:08x} for MNIST {what}: "
                        f"wrong or damaged file; get a fresh copy ({GET_DATA})")
    if images:
        n, rows, cols = struct.unpack(">III", data[4:16])
        if (rows, cols) != (28, 28):
            raise DataError(f"{path} holds {rows}x{cols} images, expected 28x28 MNIST digits")
    else:
        n, rows, cols = struct.unpack(">I", data[4:8])[0], 1, 1
    want = header + n * rows * cols
    if len(data) != want:
        raise DataError(f"{path} is truncated or padded: its header says {n:,} {what.split()[0]} "
                        f"({want:,} bytes) but it holds {len(data):,} bytes; get a fresh copy ({GET_DATA})")
    arr = np.frombuffer(data, dtype=np.uint8, offset=header)
    return arr.reshape(n, 28, 28) if images else arr


def _idx_mnist(idx: dict[str, Path], why: str) -> FullMnist:
    stats = [(p.name, p.stat()) for p in idx.values()]
    key = ("idx", str(idx["train_images"].resolve()), tuple((s.st_size, s.st_mtime_ns) for _, s in stats))
    if key not in _memory:
        fingerprint = _fingerprint(idx["train_images"].parent, stats)
        t = _disk_cached("mnist-idx", fingerprint, lambda: _parse_mnist(idx), _is_mnist)
        n_train, n_valid = len(t["train_images"]), len(t["valid_images"])
        source = (f"MNIST from IDX files in {idx['train_images'].parent} ({n_train:,} train / {n_valid:,} valid "
                  f"images = MNIST's test set; {why})")
        _memory[key] = FullMnist(t["train_images"], t["train_labels"].long(), t["valid_images"],
                                 t["valid_labels"].long(), source=source, offline=False)
    return _memory[key]


def _parse_mnist(idx: dict[str, Path]) -> dict[str, Tensor]:
    t = {}
    for split in SPLITS:
        imgs = _parse_idx(idx[f"{split}_images"], images=True)
        labels = _parse_idx(idx[f"{split}_labels"], images=False)
        if len(imgs) != len(labels):
            raise DataError(f"{idx[f'{split}_labels']} has {len(labels):,} labels but "
                            f"{idx[f'{split}_images'].name} has {len(imgs):,} images: they must match; "
                            f"get a fresh copy of both ({GET_DATA})")
        if len(labels) and labels.max() > 9:
            raise DataError(f"{idx[f'{split}_labels']} has label {labels.max()}: MNIST labels are 0 to 9")
        t[f"{split}_images"] = torch.from_numpy(imgs.copy())
        t[f"{split}_labels"] = torch.from_numpy(labels.copy())  # uint8 on disk, int64 once loaded
    return t


def _is_mnist(t) -> bool:
    return (isinstance(t, dict) and list(t) == ["train_images", "train_labels", "valid_images", "valid_labels"]
            and all(isinstance(v, Tensor) and v.dtype == torch.uint8 for v in t.values())
            and all(t[f"{s}_images"].dim() == 3 and t[f"{s}_images"].shape[1:] == (28, 28)
                    and t[f"{s}_labels"].shape == (len(t[f"{s}_images"]),) for s in SPLITS))


def _idx_sample(idx: dict[str, Path], why: str) -> DigitSample:
    full = _idx_mnist(idx, why)
    key = ("idx-sample", id(full))
    if key not in _memory:

        def pick(images, labels, digit):
            return images[torch.from_numpy(book_order(np.flatnonzero(labels.numpy() == digit)))]

        tr, va = (full.train_images, full.train_labels), (full.valid_images, full.valid_labels)
        source = (f"MNIST_SAMPLE derived from the MNIST IDX files in {idx['train_images'].parent} (train = MNIST's "
                  f"training 3s and 7s, valid = its test 3s and 7s, in the order of fastai's PNG folders; {why})")
        _memory[key] = DigitSample(pick(*tr, 3), pick(*tr, 7), pick(*va, 3), pick(*va, 7), source=source,
                                   offline=False)
    return _memory[key]


def book_order(indices: np.ndarray) -> np.ndarray:
    """MNIST indices in the order fastai's MNIST_SAMPLE lists its images: its PNG files are named by MNIST index
    and listed sorted by name, as text (10.png, 10000.png, 10011.png, ..., 9998.png)."""
    return np.array(sorted(np.asarray(indices).tolist(), key=str), dtype=np.int64)


# ---------------------------------------------------------------------------------------------------------
# the data embedded in the package (built by build_embedded.py)


_embedded_tensors: dict[Path, dict[str, Tensor]] = {}  # file -> its tensors, read once per process


def _read_embedded(name: str, shapes: dict[str, tuple]) -> dict[str, Tensor]:
    """The arrays of digitcore/embedded/<name> as tensors, checked against the expected shapes (None: any length)."""
    path = EMBEDDED / name
    if path in _embedded_tensors:
        return _embedded_tensors[path]
    fix = (f"reinstall digitcore, or rebuild it from the MNIST IDX files with "
           f"`python -m digitcore.build_embedded DIR`; or {GET_DATA}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in shapes}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path} (the data embedded in the package) could not be read "
                        f"({type(e).__name__}: {e}): {fix}") from e
    for k, shape in shapes.items():
        a = arrays[k]
        if a.dtype != np.uint8 or len(a.shape) != len(shape) or any(
                want is not None and got != want for got, want in zip(a.shape, shape)):
            raise DataError(f"{path}: {k} is {a.dtype} {a.shape}, expected {shape}: the file is damaged; {fix}")
    _embedded_tensors[path] = {k: torch.from_numpy(a) for k, a in arrays.items()}
    return _embedded_tensors[path]


def _embedded_sample(why: str) -> DigitSample:
    """fastai's MNIST_SAMPLE as shipped in the package: the same pixels, in the same order, as its PNG folders."""
    if ("embedded-sample", why) not in _memory:  # one object per reason it was chosen, all sharing one read
        keys = [f"{split}_{digit}" for split in SPLITS for digit in DIGITS]
        a = _read_embedded("mnist_sample.npz", {k: (None, 28, 28) for k in keys})
        t = [a[k] for k in keys]
        n = [len(x) for x in t]
        source = (f"the embedded MNIST_SAMPLE ({sum(n):,} digits built from MNIST: train {n[0]:,} 3s + {n[1]:,} 7s, "
                  f"valid {n[2]:,} + {n[3]:,}; shipped in the package; {why})")
        _memory[("embedded-sample", why)] = DigitSample(*t, source=source, offline=False)
    return _memory[("embedded-sample", why)]


def _embedded_mnist(why: str) -> FullMnist:
    """The embedded sample of all ten digits: 1,000 of each from MNIST's training set, 200 of each from its test set."""
    if ("embedded-mnist", why) not in _memory:
        t = _read_embedded("mnist_digits.npz", {"train_images": (None, 28, 28), "train_labels": (None,),
                                                "valid_images": (None, 28, 28), "valid_labels": (None,)})
        n_train, n_valid = len(t["train_images"]), len(t["valid_images"])
        source = (f"the embedded sample of all ten digits ({n_train:,} train / {n_valid:,} valid images, "
                  f"{n_train // 10:,} / {n_valid // 10:,} of each digit, built from MNIST's training and test sets; "
                  f"shipped in the package; {why}); for all 70,000 run `digitcore data download`")
        _memory[("embedded-mnist", why)] = FullMnist(t["train_images"], t["train_labels"].long(), t["valid_images"],
                                                     t["valid_labels"].long(), source=source, offline=True)
    return _memory[("embedded-mnist", why)]


# ---------------------------------------------------------------------------------------------------------
# the on-disk cache of decoded tensors


def _fingerprint(root: Path, stats: list[tuple[str, os.stat_result]]) -> str:
    """A hash of the resolved folder and every file's name, size and mtime: changes whenever the data does."""
    h = hashlib.sha256(f"v{CACHE_VERSION}\0{root.resolve()}".encode())
    h.update("".join(f"\0{name}\0{st.st_size}\0{st.st_mtime_ns}" for name, st in stats).encode())
    return h.hexdigest()[:32]


def _disk_cached(name: str, fingerprint: str, build, is_valid) -> dict[str, Tensor]:
    """Load a dict of tensors from the cache, or build it and store it atomically.

    A missing, truncated or otherwise unreadable cache file is rebuilt; a cache that cannot be written is skipped.
    """
    path = cache_dir() / "decoded" / f"{name}-{fingerprint}.pt"
    if path.is_file():
        try:
            tensors = torch.load(path, weights_only=True)
        except (OSError, EOFError, RuntimeError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile):
            tensors = None  # truncated, corrupt or unreadable: rebuilt below
        if is_valid(tensors):
            return tensors
    tensors = build()
    _atomic_save(tensors, path)
    return tensors


_told_unwritable: set[Path] = set()


def _atomic_save(obj, path: Path) -> None:
    """Write to a temporary file next to `path`, fsync, then rename over it: readers never see half a file."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        if path.parent not in _told_unwritable:  # one line, once per folder: loading itself worked
            _told_unwritable.add(path.parent)
            print(f"digitcore: note: could not save decoded images in {path.parent} ({e.strerror or e}), so the "
                  f"next start decodes them again; make it writable or set DIGITCORE_CACHE to a folder that is",
                  file=sys.stderr)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _remove_stale_temps(folder: Path, older_than_s: float = 3600) -> None:
    """Temporary files left by writers that were killed mid-write (recent ones may still be being written)."""
    now = time.time()
    for p in folder.glob(".*.tmp"):
        try:
            if now - p.stat().st_mtime > older_than_s:
                p.unlink()
        except OSError:
            pass
