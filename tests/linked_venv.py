"""A `.venv` for a copy of the project that costs seconds, not a PyTorch download.

The new venv's own site-packages holds digitcore installed from the copy (`pip install --no-deps -e`), and a
`.pth` file that puts this test run's site-packages (torch, marimo, pytest, ...) after it on sys.path. Python
reads .pth files only in the venv's own site-packages, so the editable install of the project under test is not
seen there: `import digitcore` in the new venv finds the copy. The console scripts that a real install would
put in .venv/bin (pytest, marimo, ...) are made to start the new venv's Python.
"""

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

HERE_SITE = Path(sysconfig.get_paths()["purelib"])
HERE_BIN = Path(sys.executable).parent


def clean_env(**extra) -> dict:
    """The environment a user has: no DIGITCORE_* settings, no virtualenv active, no project .venv on PATH."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DIGITCORE_") and k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != HERE_BIN.resolve() and ".venv" not in p)
    env.update(extra)
    return env


def make_linked_venv(project: Path) -> Path:
    """Create project/.venv as described above, with the copy installed; returns the venv's python."""
    target = Path(project) / ".venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(target)
    py = target / "bin" / "python"
    site = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz_digitcore_test_packages.pth").write_text(f"{HERE_SITE}\n")
    subprocess.run([py, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                    "-e", str(project)], check=True, capture_output=True, text=True, env=clean_env(), timeout=600)
    for script in HERE_BIN.iterdir():
        if (target / "bin" / script.name).exists() or not script.is_file():
            continue
        lines = script.read_bytes().split(b"\n", 1)
        if len(lines) == 2 and lines[0].startswith(b"#!") and b"python" in lines[0]:
            # pip's own launcher, for a path with spaces that a #! line cannot hold
            launcher = b"#!/bin/sh\n'''exec' \"" + bytes(py) + b"\" \"$0\" \"$@\"\n' '''\n"
            (target / "bin" / script.name).write_bytes(launcher + lines[1])
            (target / "bin" / script.name).chmod(0o755)
    # what ./dev.sh setup leaves behind after installing, so that it has nothing left to do
    (target / ".digitcore-installed").touch()
    return py


def make_system_python_venv(where: Path, python: str = "/usr/bin/python3") -> Path:
    """A venv made the way a stock Debian or Ubuntu makes one (`/usr/bin/python3 -m venv`: bin/python is a link
    to /usr/bin/python3, itself a link), seeing this test run's packages through a .pth; returns its python.
    The project itself comes from PYTHONPATH (the caller's checkout)."""
    subprocess.run([python, "-m", "venv", "--without-pip", str(where)], check=True, capture_output=True)
    py = Path(where) / "bin" / "python"
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "zz_digitcore_test_packages.pth").write_text(f"{HERE_SITE}\n")
    return py
