"""digitcore.data: sources, layouts, the decoded-image cache, the embedded data, and every kind of bad data."""

import gzip
import os
import struct
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from digitcore import data
from digitcore.data import DataError, DigitSample, FullMnist, book_order, load_mnist, load_sample


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Each test: its own user cache under tmp_path and an empty in-process cache (restored afterwards)."""
    monkeypatch.setenv("DIGITCORE_CACHE", str(tmp_path / "cache"))
    saved = dict(data._memory)
    data._memory.clear()
    yield
    data._memory.clear()
    data._memory.update(saved)


def fake_torchvision(monkeypatch, mnist_class):
    """torchvision.datasets.MNIST replaced, without paying for torchvision's import."""
    package, datasets = types.ModuleType("torchvision"), types.ModuleType("torchvision.datasets")
    datasets.MNIST, package.datasets = mnist_class, datasets
    monkeypatch.setitem(sys.modules, "torchvision", package)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", datasets)


def _load_fresh(cache: Path, load, path):
    """Load with `cache` as the user cache and an empty in-process cache (for session fixtures)."""
    saved = dict(data._memory)
    data._memory.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIGITCORE_CACHE", str(cache))
        result = load(path)
    data._memory.clear()
    data._memory.update(saved)
    return result


@pytest.fixture(scope="session")
def real_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("real_cache")


@pytest.fixture(scope="session")
def real_png(shared_data, real_cache) -> DigitSample:
    """The real MNIST_SAMPLE decoded from its 14,434 PNGs, once per session (into `real_cache`)."""
    return _load_fresh(real_cache, load_sample, shared_data)


@pytest.fixture(scope="session")
def real_mnist(shared_data, real_cache) -> FullMnist:
    return _load_fresh(real_cache, load_mnist, shared_data)


@pytest.fixture(scope="session")
def real_idx_sample(shared_data, real_cache) -> DigitSample:
    """MNIST_SAMPLE derived from the IDX files (the folder mnist/ has no PNGs)."""
    return _load_fresh(real_cache, load_sample, shared_data / "mnist")


# ---------------------------------------------------------------------------------------------------------
# small data the tests make themselves


def digit_image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)


def write_pngs(root: Path, names=("2", "10", "100"), skip=()) -> Path:
    """root/mnist_sample/{train,valid}/{3,7}/<name>.png; image seed = hash of where it is, so all differ."""
    sample = root / "mnist_sample"
    for split in ("train", "valid"):
        for digit in ("3", "7"):
            if f"{split}/{digit}" in skip:
                continue
            d = sample / split / digit
            d.mkdir(parents=True)
            for name in names:
                Image.fromarray(png_pixels(split, digit, name), mode="L").save(d / f"{name}.png")
    return root


def png_pixels(split, digit, name) -> np.ndarray:
    return digit_image(hash((split, digit, name)) % 2**32)


def idx_bytes(images: np.ndarray | None = None, labels: np.ndarray | None = None) -> bytes:
    if images is not None:
        n, rows, cols = images.shape
        return struct.pack(">IIII", 0x803, n, rows, cols) + images.astype(np.uint8).tobytes()
    return struct.pack(">II", 0x801, len(labels)) + labels.astype(np.uint8).tobytes()


def write_idx(folder: Path, gz=True, n_train=30, n_valid=20, overrides=None) -> dict:
    """The four MNIST IDX files in `folder` with labels 0..9 cycling; returns the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_valid, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_valid) * 7) % 10,
    }
    for name, arr in arrays.items():
        raw = idx_bytes(images=arr) if "images" in name else idx_bytes(labels=arr)
        raw = (overrides or {}).get(name, raw)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return arrays


def baseline(sample: DigitSample) -> tuple[float, float, float]:
    """The chapter's pixel-similarity baseline: closer (mean L1) to the mean 3 or to the mean 7?"""

    def dist(a, b):
        return (a - b).abs().mean((-1, -2))

    mean3, mean7 = sample.train_threes.float().div(255).mean(0), sample.train_sevens.float().div(255).mean(0)
    v3, v7 = sample.valid_threes.float() / 255, sample.valid_sevens.float() / 255
    acc3 = (dist(v3, mean3) < dist(v3, mean7)).float().mean().item()
    acc7 = 1 - (dist(v7, mean3) < dist(v7, mean7)).float().mean().item()
    return round(acc3, 4), round(acc7, 4), round((acc3 + acc7) / 2, 4)


# ---------------------------------------------------------------------------------------------------------
# the real data


def test_real_png_sample(real_png, shared_data):
    s = real_png
    assert [len(t) for t in (s.train_threes, s.train_sevens, s.valid_threes, s.valid_sevens)] == [6131, 6265, 1010, 1028]
    for t in (s.train_threes, s.train_sevens, s.valid_threes, s.valid_sevens):
        assert t.dtype == torch.uint8 and t.shape[1:] == (28, 28)
    assert not s.offline
    assert "PNG" in s.source and str(shared_data.resolve() / "mnist_sample") in s.source and "\n" not in s.source


def test_real_mnist(real_mnist):
    m = real_mnist
    assert m.train_images.shape == (60000, 28, 28) and m.valid_images.shape == (10000, 28, 28)
    assert m.train_images.dtype == torch.uint8 and m.train_labels.dtype == torch.int64
    assert m.train_labels.shape == (60000,) and m.valid_labels.shape == (10000,)
    assert m.train_labels.bincount().tolist()[3] == 6131 and m.valid_labels.bincount().tolist()[7] == 1028
    assert m.train_labels[:5].tolist() == [5, 0, 4, 1, 9]  # MNIST's first training labels
    assert not m.offline and "IDX" in m.source


def test_png_names_are_mnist_indices_and_match_idx_exactly(real_png, real_mnist, shared_data):
    """PNG file names are MNIST indices: each PNG tensor equals MNIST's image at that index, in sorted-name order."""
    for split, images, labels in (("train", real_mnist.train_images, real_mnist.train_labels),
                                  ("valid", real_mnist.valid_images, real_mnist.valid_labels)):
        for digit, name in ((3, "threes"), (7, "sevens")):
            names = sorted(p.name for p in (shared_data / "mnist_sample" / split / str(digit)).iterdir())
            index = torch.tensor([int(n.removesuffix(".png")) for n in names])
            assert (labels[index] == digit).all()
            assert torch.equal(getattr(real_png, f"{split}_{name}"), images[index])


def test_idx_derived_sample_equals_the_png_folders_in_order(real_png, real_idx_sample):
    """Same pixels, same order: the unshuffled training then gives the same numbers from either source."""
    s = real_idx_sample
    assert "IDX" in s.source and not s.offline
    for name in ("train_threes", "train_sevens", "valid_threes", "valid_sevens"):
        assert torch.equal(getattr(s, name), getattr(real_png, name)), name


def test_embedded_sample_equals_the_png_folders_in_order(real_png):
    s = load_sample("embedded")
    assert s.source.startswith("the embedded MNIST_SAMPLE (14,434 digits built from MNIST") and not s.offline
    for name in ("train_threes", "train_sevens", "valid_threes", "valid_sevens"):
        assert torch.equal(getattr(s, name), getattr(real_png, name)), name


def test_embedded_all_digit_sample_is_real_mnist(real_mnist):
    """Every embedded image is MNIST's image at the index stored beside it, with MNIST's label."""
    m = load_mnist("embedded")
    assert m.offline and m.train_labels.bincount().tolist() == [1000] * 10
    assert m.valid_labels.bincount().tolist() == [200] * 10
    with np.load(data.EMBEDDED / "mnist_digits.npz") as z:
        for split in ("train", "valid"):
            index = torch.from_numpy(z[f"{split}_index"].astype(np.int64))
            assert (index.diff() > 0).all()  # MNIST order, no repeats
            assert torch.equal(getattr(m, f"{split}_images"), getattr(real_mnist, f"{split}_images")[index])
            assert torch.equal(getattr(m, f"{split}_labels"), getattr(real_mnist, f"{split}_labels")[index])
        assert int(z["valid_index"].min()) < 100 and int(z["valid_index"].max()) > 9900  # both halves of the test set


def test_embedded_files_rebuild_byte_for_byte(shared_data, tmp_path):
    """build_embedded.py from MNIST's IDX files gives exactly the shipped bytes (so they are what it says)."""
    import hashlib

    from digitcore import build_embedded

    rebuilt = build_embedded.build(shared_data / "mnist" / "raw", tmp_path)
    shipped = {name: hashlib.sha256((data.EMBEDDED / name).read_bytes()).hexdigest() for name in rebuilt}
    assert rebuilt == shipped
    readme = (data.EMBEDDED / "README.md").read_text()
    assert all(digest in readme for digest in shipped.values()), "the README's sha256 table is out of date"


def test_pixel_similarity_baseline_matches_the_book(real_png, real_idx_sample):
    assert baseline(real_png) == (0.9168, 0.9854, 0.9511)
    assert baseline(real_idx_sample) == (0.9168, 0.9854, 0.9511)
    assert baseline(load_sample("embedded")) == (0.9168, 0.9854, 0.9511)


def test_real_second_load_comes_from_disk_without_decoding(real_png, real_cache, shared_data, monkeypatch):
    monkeypatch.setenv("DIGITCORE_CACHE", str(real_cache))
    monkeypatch.setattr(data, "_decode_png", lambda p: pytest.fail(f"decoded {p} despite the cache"))
    s = load_sample(shared_data)
    assert s is not real_png and torch.equal(s.train_sevens, real_png.train_sevens)
    assert torch.equal(s.valid_threes, real_png.valid_threes)
    assert load_sample(shared_data) is s  # then in-process


def test_real_train_xy(real_png):
    x, y = real_png.train_xy()
    assert x.shape == (12396, 784) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert y.shape == (12396, 1) and y.dtype == torch.float32
    assert y[:6131].eq(1).all() and y[6131:].eq(0).all()
    assert torch.equal(x[0], real_png.train_threes[0].flatten().float() / 255)
    xv, yv = real_png.valid_xy()
    assert xv.shape == (2038, 784) and yv.sum() == 1010


# ---------------------------------------------------------------------------------------------------------
# layouts and order


@pytest.mark.parametrize("at_sample_folder", [False, True])
def test_png_layout_parent_or_folder_itself(tmp_path, at_sample_folder):
    write_pngs(tmp_path)
    s = load_sample(tmp_path / "mnist_sample" if at_sample_folder else tmp_path)
    assert [len(t) for t in (s.train_threes, s.train_sevens, s.valid_threes, s.valid_sevens)] == [3, 3, 3, 3]
    # sorted the way fastai's .ls().sorted() does: by name as text, so 10 < 100 < 2
    expected = [png_pixels("valid", "7", n) for n in ("10", "100", "2")]
    assert torch.equal(s.valid_sevens, torch.from_numpy(np.stack(expected)))


@pytest.mark.parametrize("sub", [".", "raw", "mnist/raw", "MNIST/raw"])
@pytest.mark.parametrize("gz", [True, False])
def test_idx_layouts(tmp_path, sub, gz):
    arrays = write_idx(tmp_path / sub, gz=gz)
    m = load_mnist(tmp_path)
    assert torch.equal(m.train_images, torch.from_numpy(arrays["train-images-idx3-ubyte"]))
    assert m.valid_labels.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()
    assert m.train_labels.dtype == torch.int64
    s = load_sample(tmp_path)
    threes = np.flatnonzero(arrays["train-labels-idx1-ubyte"] == 3)
    assert threes.tolist() == [3, 13, 23] and book_order(threes).tolist() == [13, 23, 3]  # as the PNGs would sort
    assert torch.equal(s.train_threes, torch.from_numpy(arrays["train-images-idx3-ubyte"][[13, 23, 3]]))
    assert len(s.valid_sevens) == (arrays["t10k-labels-idx1-ubyte"] == 7).sum()


def test_book_order_is_the_png_file_names_sorted_as_text():
    assert book_order(np.array([2, 10, 100, 9, 10000, 1])).tolist() == [1, 10, 100, 10000, 2, 9]


def test_png_preferred_for_sample_idx_for_mnist(tmp_path):
    write_pngs(tmp_path)
    write_idx(tmp_path / "mnist" / "raw")
    assert "PNG" in load_sample(tmp_path).source
    assert "IDX" in load_mnist(tmp_path).source


def test_argument_beats_env_and_env_is_used(tmp_path, monkeypatch):
    write_pngs(tmp_path / "a")
    write_idx(tmp_path / "b")
    monkeypatch.setenv("DIGITCORE_DATA", str(tmp_path / "b"))
    assert "IDX" in load_sample().source and "DIGITCORE_DATA" in load_sample().source
    assert "PNG" in load_sample(tmp_path / "a").source


def test_in_process_cache_returns_the_same_object(tmp_path):
    write_pngs(tmp_path)
    write_idx(tmp_path / "raw")
    assert load_sample(tmp_path) is load_sample(tmp_path / "mnist_sample")
    assert load_mnist(tmp_path) is load_mnist(tmp_path)


# ---------------------------------------------------------------------------------------------------------
# the decoded-image cache on disk


def count_decodes(monkeypatch) -> list:
    calls = []
    real = data._decode_png

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(data, "_decode_png", counting)
    return calls


def cache_files(tmp_path) -> list[Path]:
    folder = tmp_path / "cache" / "decoded"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_disk_cache_hit_skips_decoding(tmp_path, monkeypatch):
    write_pngs(tmp_path / "d")
    first = load_sample(tmp_path / "d")
    assert [p.name.split("-")[:2] for p in cache_files(tmp_path)] == [["sample", "png"]]
    data._memory.clear()
    monkeypatch.setattr(data, "_decode_png", lambda p: pytest.fail("decoded despite the cache"))
    second = load_sample(tmp_path / "d")
    assert second is not first and torch.equal(second.train_threes, first.train_threes)


def test_changed_file_invalidates_the_disk_cache(tmp_path, monkeypatch):
    write_pngs(tmp_path / "d")
    load_sample(tmp_path / "d")
    data._memory.clear()
    changed = tmp_path / "d" / "mnist_sample" / "train" / "3" / "2.png"
    Image.fromarray(np.zeros((28, 28), np.uint8), mode="L").save(changed)
    os.utime(changed, ns=(1, 1))
    s = load_sample(tmp_path / "d")
    assert s.train_threes[2].sum() == 0  # "2.png" sorts last


def test_leftover_temp_file_from_a_crash_is_harmless(tmp_path, monkeypatch):
    write_pngs(tmp_path / "d")
    decoded = tmp_path / "cache" / "decoded"
    decoded.mkdir(parents=True)
    old, recent = decoded / ".sample-png-0123.pt.abcd.tmp", decoded / ".sample-png-0123.pt.efgh.tmp"
    for leftover in (old, recent):  # what writers killed mid-write leave behind
        leftover.write_bytes(b"PK\x03\x04 half a file")
    os.utime(old, (0, 0))
    s = load_sample(tmp_path / "d")
    assert not old.exists() and recent.exists()  # a recent one may belong to a writer still at work
    data._memory.clear()
    monkeypatch.setattr(data, "_decode_png", lambda p: pytest.fail("decoded despite the cache"))
    assert torch.equal(load_sample(tmp_path / "d").valid_threes, s.valid_threes)


def test_crash_mid_write_leaves_no_cache_file(tmp_path, monkeypatch):
    write_pngs(tmp_path / "d")

    def dies_half_way(obj, f):
        f.write(b"PK\x03\x04 half")
        raise KeyboardInterrupt  # the process is killed while writing

    monkeypatch.setattr(data.torch, "save", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        load_sample(tmp_path / "d")
    assert cache_files(tmp_path) == []  # neither a final file nor the temporary one
    monkeypatch.undo()
    monkeypatch.setenv("DIGITCORE_CACHE", str(tmp_path / "cache"))
    assert len(load_sample(tmp_path / "d").train_threes) == 3


def test_unwritable_cache_says_so_in_one_line_and_still_loads(tmp_path, monkeypatch, capsys, recwarn):
    write_pngs(tmp_path / "d")
    write_pngs(tmp_path / "e")

    def no_space(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(data.os, "replace", no_space)
    monkeypatch.setattr(data, "_told_unwritable", set())
    s = load_sample(tmp_path / "d")
    load_sample(tmp_path / "e")
    assert len(s.train_sevens) == 3 and cache_files(tmp_path) == []
    err = capsys.readouterr().err
    assert err == (f"digitcore: note: could not save decoded images in {tmp_path / 'cache' / 'decoded'} (No space "
                   f"left on device), so the next start decodes them again; make it writable or set DIGITCORE_CACHE "
                   f"to a folder that is\n")  # once, not once per load
    assert not recwarn.list  # no raw UserWarning with a source line


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong_content"])
def test_damaged_cache_file_is_rebuilt(tmp_path, monkeypatch, damage):
    write_pngs(tmp_path / "d")
    first = load_sample(tmp_path / "d")
    (cached,) = cache_files(tmp_path)
    if damage == "truncate":
        cached.write_bytes(cached.read_bytes()[: cached.stat().st_size // 2])
    elif damage == "garbage":
        cached.write_bytes(b"not a torch file at all")
    else:
        torch.save({"train_3": torch.zeros(2, 5)}, cached)
    data._memory.clear()
    calls = count_decodes(monkeypatch)
    again = load_sample(tmp_path / "d")
    assert len(calls) == 12 and torch.equal(again.valid_sevens, first.valid_sevens)
    data._memory.clear()
    calls.clear()
    load_sample(tmp_path / "d")
    assert calls == []  # the rebuilt file is good


# ---------------------------------------------------------------------------------------------------------
# sources: cache, embedded, download


def test_no_data_anywhere_uses_the_embedded_mnist_sample(monkeypatch):
    monkeypatch.delenv("DIGITCORE_DATA", raising=False)
    s = load_sample()
    assert not s.offline and s.source == ("the embedded MNIST_SAMPLE (14,434 digits built from MNIST: train 6,131 3s "
                                          "+ 6,265 7s, valid 1,010 + 1,028; shipped in the package; no DIGITCORE_DATA "
                                          "and nothing downloaded)")
    assert [len(t) for t in (s.train_threes, s.train_sevens, s.valid_threes, s.valid_sevens)] == [6131, 6265, 1010, 1028]
    assert baseline(s) == (0.9168, 0.9854, 0.9511)  # the book's numbers, exactly
    assert not (tmp := Path(os.environ["DIGITCORE_CACHE"])).exists() or not any(tmp.iterdir())  # nothing written


@pytest.mark.parametrize("name", ["embedded", "offline"])
def test_embedded_sample_on_request(monkeypatch, name):
    monkeypatch.setenv("DIGITCORE_DATA", name)
    s = load_sample()
    assert f"DIGITCORE_DATA={name}" in s.source
    assert s.train_threes.dtype == torch.uint8 and s.train_threes.shape == (6131, 28, 28)
    assert s.train_threes.max() == 255  # pixel values 0..255, not floats in [0, 1]
    x, y = s.train_xy()
    assert x.shape == (12396, 784) and y.sum() == 6131
    assert load_sample() is load_sample()  # in-process
    assert load_sample("embedded").train_threes is s.train_threes  # read once, whoever asks
    assert load_sample("embedded").source.endswith("asked for with 'embedded')")  # and says why it is in use


def test_embedded_mnist(monkeypatch):
    monkeypatch.setenv("DIGITCORE_DATA", "embedded")
    m = load_mnist()
    assert m.offline and m.train_images.shape == (10000, 28, 28) and m.valid_images.shape == (2000, 28, 28)
    assert m.train_images.dtype == torch.uint8 and m.train_labels.dtype == torch.int64
    assert m.train_labels.bincount().tolist() == [1000] * 10 and m.valid_labels.bincount().tolist() == [200] * 10
    assert "all ten digits" in m.source and "digitcore data download" in m.source
    train = {row.tobytes() for row in m.train_images.flatten(1).numpy()}
    assert len(train) == 10000 and not any(row.tobytes() in train for row in m.valid_images.flatten(1).numpy())


@pytest.mark.parametrize("damage", ["missing", "garbage", "wrong_shape"])
def test_damaged_embedded_file_is_a_clear_data_error(tmp_path, monkeypatch, damage):
    monkeypatch.setattr(data, "EMBEDDED", tmp_path)
    if damage == "garbage":
        (tmp_path / "mnist_sample.npz").write_bytes(b"PK\x03\x04 not really")
    elif damage == "wrong_shape":
        np.savez(tmp_path / "mnist_sample.npz", **{f"{s}_{d}": np.zeros((2, 27, 28), np.uint8)
                                                  for s in ("train", "valid") for d in (3, 7)})
    with pytest.raises(DataError, match=r"mnist_sample.npz.* reinstall digitcore, or rebuild it .*build_embedded"):
        load_sample("embedded")


def test_downloaded_cache_is_used_before_the_embedded_data(tmp_path, monkeypatch):
    monkeypatch.delenv("DIGITCORE_DATA", raising=False)
    write_idx(tmp_path / "cache" / "MNIST" / "raw")
    m = load_mnist()
    assert not m.offline and str(tmp_path / "cache" / "MNIST" / "raw") in m.source and len(m.train_images) == 30
    assert "IDX" in load_sample().source
    monkeypatch.setenv("DIGITCORE_DATA", "embedded")
    assert "embedded" in load_sample().source


def offline_mnist(message):
    class NoNetwork:
        def __init__(self, root, train=True, download=False):
            (Path(root) / "MNIST" / "raw").mkdir(parents=True, exist_ok=True)  # as torchvision does, first
            (Path(root) / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b half")
            raise RuntimeError(message)

    return NoNetwork


def test_download_failure_is_a_clear_data_error_and_leaves_nothing(tmp_path, monkeypatch):
    fake_torchvision(monkeypatch, offline_mnist(
        "Error downloading train-images-idx3-ubyte.gz:\nTried https://ossci-datasets/, got:\n"
        "<urlopen error [Errno -3] Temporary failure in name resolution>"))
    with pytest.raises(DataError, match=r"could not download MNIST: Error downloading train-images.* got: <urlopen "
                                        r"error .*name resolution>; MNIST's download mirrors could not be reached "
                                        r"\(no network.*set DIGITCORE_DATA"):
        data.download()
    assert not (tmp_path / "cache").exists()  # no empty MNIST/raw/ folders, no half file
    (tmp_path / "cache").mkdir()
    with pytest.raises(DataError):
        data.download()
    assert list((tmp_path / "cache").iterdir()) == []  # a folder that was there stays, empty as it was


def test_download_into_a_read_only_folder_names_the_folder_and_the_fix(tmp_path, monkeypatch):
    fake_torchvision(monkeypatch, offline_mnist("should not be reached"))
    ro = tmp_path / "ro"
    ro.mkdir()

    def refuse(*args, **kwargs):  # what a read-only cache does (a chmod would not stop root, who runs CI)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(data.tempfile, "mkdtemp", refuse)
    with pytest.raises(DataError) as e:
        data.download(ro / "cache")
    assert str(e.value) == (f"cannot download MNIST into {ro / 'cache'}: Permission denied (it cannot be "
                            f"created or written to); make it writable, or download elsewhere with `digitcore data download --dest "
                            f"DIR` and set DIGITCORE_DATA=DIR (or set DIGITCORE_CACHE to a writable folder)")
    assert "network" not in str(e.value) and list(ro.iterdir()) == []


def test_download_that_cannot_write_midway_says_so(tmp_path, monkeypatch):
    class DiskGoesReadOnly:
        def __init__(self, root, train=True, download=False):
            raise OSError(30, "Read-only file system")

    fake_torchvision(monkeypatch, DiskGoesReadOnly)
    with pytest.raises(DataError, match=r"Read-only file system; .*cache is not writable: make it writable"):
        data.download()


def test_download_when_already_there_does_not_download_again(tmp_path, monkeypatch):
    fake_torchvision(monkeypatch, offline_mnist("should not be reached"))
    write_idx(tmp_path / "cache" / "MNIST" / "raw")
    assert data.download() == tmp_path / "cache" / "MNIST" / "raw"


def test_download_puts_data_where_the_loader_finds_it(tmp_path, monkeypatch):
    class FakeMNIST:  # writes what torchvision would
        def __init__(self, root, train=True, download=False):
            if not (Path(root) / "MNIST" / "raw").is_dir():
                write_idx(Path(root) / "MNIST" / "raw", gz=False)

    fake_torchvision(monkeypatch, FakeMNIST)
    monkeypatch.delenv("DIGITCORE_DATA", raising=False)
    assert data.download() == tmp_path / "cache" / "MNIST" / "raw"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["MNIST"]  # the temporary folder is gone
    assert len(load_mnist().valid_images) == 20


def test_data_info(tmp_path, monkeypatch):
    write_pngs(tmp_path)
    info = data.data_info(tmp_path)
    assert "PNG folders" in info and "train 3 threes + 3 sevens" in info and "full MNIST:  not in this folder" in info
    write_idx(tmp_path / "raw")
    data._memory.clear()
    assert "30 train / 20 valid images" in data.data_info(tmp_path)
    monkeypatch.setenv("DIGITCORE_DATA", "embedded")
    info = data.data_info()
    assert "the embedded MNIST_SAMPLE" in info and "6,131 threes" in info and "digitcore data download" in info
    assert "full MNIST:  the embedded sample only (10,000 train / 2,000 valid images of all ten digits)" in info


def test_repr_is_short(monkeypatch):
    monkeypatch.setenv("DIGITCORE_DATA", "embedded")
    assert repr(load_sample()).startswith("DigitSample(train 3s/7s 6131/6265, valid 3s/7s 1010/1028; the embedded")


# ---------------------------------------------------------------------------------------------------------
# bad data: a clear DataError naming the file or folder, the expectation and the fix


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match=rf"{tmp_path / 'nope'} does not exist"):
        load_sample(tmp_path / "nope")


def test_path_is_a_file(tmp_path):
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(DataError, match="is not a folder"):
        load_mnist(tmp_path / "f.txt")


def test_named_bad_folder_is_never_replaced_by_the_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITCORE_DATA", str(tmp_path / "missing"))
    with pytest.raises(DataError, match="DIGITCORE_DATA"):
        load_sample()
    monkeypatch.setenv("DIGITCORE_DATA", str(tmp_path))  # exists, but holds no data
    with pytest.raises(DataError, match=rf"{tmp_path} has no MNIST data: expected fastai's mnist_sample/"):
        load_sample()


def test_missing_digit_folder(tmp_path):
    write_pngs(tmp_path, skip=("train/7",))
    with pytest.raises(DataError) as e:
        load_sample(tmp_path)
    assert str(e.value).startswith(f"{tmp_path / 'mnist_sample' / 'train' / '7'} is missing: "
                                   "expected folders train/3, train/7, valid/3, valid/7")


def test_empty_digit_folder(tmp_path):
    write_pngs(tmp_path)
    for p in (tmp_path / "mnist_sample" / "valid" / "3").iterdir():
        p.unlink()
    with pytest.raises(DataError, match=r"valid/3 has no \.png images"):
        load_sample(tmp_path)


@pytest.mark.parametrize("size,mode,said", [((28, 32), "L", "28x32 L image"), ((28, 28), "RGB", "28x28 RGB image")])
def test_wrong_image_size_or_mode(tmp_path, size, mode, said):
    write_pngs(tmp_path)
    bad = tmp_path / "mnist_sample" / "train" / "3" / "10.png"
    Image.new(mode, size).save(bad)
    with pytest.raises(DataError, match=rf"{bad} is a {said}: expected a 28x28 greyscale"):
        load_sample(tmp_path)


def test_corrupt_png(tmp_path):
    write_pngs(tmp_path)
    bad = tmp_path / "mnist_sample" / "valid" / "7" / "2.png"
    bad.write_bytes(bad.read_bytes()[:40])  # cut short
    with pytest.raises(DataError, match=rf"{bad} is not a readable PNG"):
        load_sample(tmp_path)
    bad.write_bytes(b"hello")
    with pytest.raises(DataError, match=rf"{bad} is not a readable PNG"):
        load_sample(tmp_path)


def test_png_only_folder_has_no_full_mnist(tmp_path):
    write_pngs(tmp_path)
    with pytest.raises(DataError) as e:
        load_mnist(tmp_path)
    message = str(e.value)
    assert "only fastai's mnist_sample PNGs" in message and "train-images-idx3-ubyte" in message
    assert "digitcore data download" in message


def test_idx_wrong_magic(tmp_path):
    write_idx(tmp_path, overrides={"t10k-labels-idx1-ubyte": struct.pack(">II", 0x803, 20) + bytes(20)})
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz has magic number 0x00000803, expected 0x00000801"):
        load_mnist(tmp_path)


def test_idx_truncated(tmp_path):
    full = idx_bytes(images=np.zeros((30, 28, 28), np.uint8))
    write_idx(tmp_path, gz=False, overrides={"train-images-idx3-ubyte": full[:-100]})
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte is truncated or padded: its header says 30 images"):
        load_sample(tmp_path)


def test_idx_shorter_than_header(tmp_path):
    write_idx(tmp_path, overrides={"train-labels-idx1-ubyte": b"\x00\x00"})
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.gz is truncated: 2 bytes"):
        load_mnist(tmp_path)


def test_idx_damaged_gzip(tmp_path):
    write_idx(tmp_path)
    gz = tmp_path / "t10k-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:50])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz could not be read"):
        load_mnist(tmp_path)


def test_idx_label_count_mismatch(tmp_path):
    write_idx(tmp_path, overrides={"train-labels-idx1-ubyte": idx_bytes(labels=np.zeros(29))})
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.gz has 29 labels but train-images-idx3-ubyte.gz "
                                        r"has 30 images"):
        load_mnist(tmp_path)


def test_idx_partial_set(tmp_path):
    write_idx(tmp_path / "raw")
    (tmp_path / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"has only part of MNIST: t10k-labels-idx1-ubyte\[\.gz\] missing"):
        load_mnist(tmp_path)


# ---------------------------------------------------------------------------------------------------------
# first contact


def test_wrong_lesson_name_is_refused_without_importing_torch():
    """`digitcore lesson nosuchlesson` must not pay for torch (seconds) before saying the name is wrong."""
    import subprocess

    code = ("import sys\nfrom digitcore.cli import main\ntry:\n    main(['lesson', 'nosuchlesson'])\n"
            "except SystemExit as e:\n    print(e)\nprint('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "'nosuchlesson' is not a lesson" in out.stdout and out.stdout.split()[-1] == "False", out.stdout + out.stderr
