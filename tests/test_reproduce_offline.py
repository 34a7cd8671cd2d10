"""A fresh machine: no DIGITCORE_DATA, an empty HOME and cache, no ../shared beside the code. `digitcore reproduce`
must still print the book's numbers, from the MNIST_SAMPLE shipped inside the package."""

import json
import os
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest

from digitcore import data
from digitcore.reproduce import BOOK

ROOT = Path(__file__).resolve().parent.parent


def fresh_copy(tmp_path: Path) -> tuple[Path, dict]:
    """The package alone, copied into a folder with a space, a dot and a dash in its name, and an environment
    with nothing configured: a new user's machine."""
    where = tmp_path / "a fresh.copy-1"
    shutil.copytree(ROOT / "digitcore", where / "digitcore", ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGITCORE_") and k != "XDG_CACHE_HOME"}
    env.update(HOME=str(home), PYTHONPATH=str(where), PYTHONDONTWRITEBYTECODE="1")
    return where, env


def test_reproduce_on_a_fresh_machine_gives_the_books_numbers(tmp_path):
    where, env = fresh_copy(tmp_path)
    out = subprocess.run([sys.executable, "-c", "import digitcore.cli, sys; print(digitcore.cli.__file__); "
                          "sys.exit(digitcore.cli.main(['reproduce', '--json']))"],
                         cwd=where, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    first, _, rest = out.stdout.partition("\n")
    assert Path(first).is_relative_to(where), f"ran {first}, not the fresh copy"
    res = json.loads(rest)
    assert res["data"].startswith("the embedded MNIST_SAMPLE (14,434 digits built from MNIST"), res["data"]
    pix = res["pixel_similarity"]
    assert [round(pix[k], 4) for k in ("threes", "sevens", "accuracy")] == [0.9168, 0.9854, 0.9511]  # exactly
    for name in ("linear", "simple_net"):  # trained: within half a point of the book
        assert abs(res[name]["accuracy"] - BOOK[name]) < 0.005, (name, res[name]["accuracy"], BOOK[name])
    assert list((tmp_path / "home").iterdir()) == []  # nothing downloaded, nothing cached
    assert "Warning" not in out.stderr, out.stderr


def test_the_embedded_files_are_declared_as_package_data():
    """A wheel or sdist carries digitcore/embedded/*.npz only if pyproject.toml says so."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python 3.11 and later")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "digitcore.embedded" in config["packages"]
    globs = config["package-data"]["digitcore.embedded"]
    for f in data.EMBEDDED.iterdir():
        if f.suffix in (".npz", ".md"):
            assert any(fnmatch(f.name, g) for g in globs), f"{f.name} would be left out of the package"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(dep.startswith("mlxtend") for dep in project["dependencies"])
