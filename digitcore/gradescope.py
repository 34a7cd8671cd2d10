"""Gradescope: `digitcore gradescope OUT` builds the autograder's bundle; `python -m digitcore.gradescope ROOT` is
what its run_autograder runs (grading.report.autograde).

The bundle is what Gradescope asks for (docs/gradescope.md): `setup.sh`, run once as root to build the image
(Python, PyTorch for the CPU, digitcore, and bubblewrap and python3-seccomp for the sandbox where the image's
package lists have them), and `run_autograder`, run for every submission: it grades /autograder/submission with
the same grader as class grading (the sandboxed workers, the public and the hidden checks) and writes
/autograder/results/results.json. Beside them, what the grader needs: the digitcore package, the checks (with
the hidden ones), pyproject.toml, README.md and LICENSE. Never the reference solutions, the test suite (with its
corpus of correct variants), the lessons or anything else of the project.

The sandbox takes the strongest isolation the container allows and every results.json says which layers were
in force (Isolation: ...). DIGITCORE_AUTOGRADER (default /autograder) and DIGITCORE_AUTOGRADER_PYTHON (default
the bundle's venv) move the tree, so a test can run run_autograder in a simulated one.
"""

import shutil
import sys
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
# What the bundle carries of the project, and never anything else (solutions/, tests/, lessons/ stay behind).
BUNDLE_PATHS = ("pyproject.toml", "README.md", "LICENSE", "digitcore", "checks")
CACHES = ("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", "*.egg-info")

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (digitcore gradescope wrote it).
set -eu
ROOT="${DIGITCORE_AUTOGRADER:-/autograder}"
apt-get update || true
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
# the grader's sandbox: an allow-list root (bubblewrap) and a seccomp filter (libseccomp for /usr/bin/python3).
# Where the image cannot have them, the grader runs with the layers that remain and every result says so.
apt-get install -y --no-install-recommends bubblewrap || echo "digitcore: no bubblewrap, the sandbox will be weaker"
apt-get install -y --no-install-recommends python3-seccomp || echo "digitcore: no python3-seccomp, no seccomp filter"
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --upgrade pip
"$ROOT/venv/bin/pip" install --index-url https://download.pytorch.org/whl/cpu "torch>=2.2" "torchvision>=0.17"
# editable: the package stays in source/, outside the venv that the sandbox shows student code
"$ROOT/venv/bin/pip" install -e "$ROOT/source"
# the hidden checks are read by the grader (root) only, also where no bubblewrap hides them from student code
if [ -d "$ROOT/source/checks/hidden" ]; then chmod -R go-rwx "$ROOT/source/checks/hidden"; fi
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission (digitcore gradescope wrote it): grade $ROOT/submission with
# digitcore's sandboxed grader and write $ROOT/results/results.json.
set -u
ROOT="${DIGITCORE_AUTOGRADER:-/autograder}"
PYTHON="${DIGITCORE_AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
cd "$ROOT/source"
PYTHONPATH="$ROOT/source" exec "$PYTHON" -m digitcore.gradescope "$ROOT"
"""

SCRIPTS = {"setup.sh": SETUP_SH, "run_autograder": RUN_AUTOGRADER}


class BundleError(Exception):
    """The bundle cannot be written (the message says why)."""


def bundle_files(project: Path = PROJECT) -> dict[str, Path]:
    """{path in the bundle: file of the project} for everything the bundle carries besides the scripts."""
    project = Path(project).resolve()
    missing = [p for p in ("pyproject.toml", "README.md", "digitcore", "checks") if not (project / p).exists()]
    if missing:
        raise BundleError(f"{project} is not the course's source folder (no {', '.join(missing)}): run `digitcore "
                          "gradescope` from a clone of the project, where digitcore is installed with `pip install -e`")
    files = {}
    for name in BUNDLE_PATHS:
        src = project / name
        if not src.exists():   # LICENSE, where there is one
            continue
        found = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file() and not _cache(p, src))
        files.update({p.relative_to(project).as_posix(): p for p in found})
    return files


def _cache(path: Path, top: Path) -> bool:
    return any(Path(part).match(pattern) for part in path.relative_to(top).parts for pattern in CACHES)


def write_bundle(dest, project: Path = PROJECT) -> list[str]:
    """Write the bundle to `dest`: a .zip (Gradescope's upload) or a new or empty folder. Returns its paths."""
    dest = Path(dest).expanduser().resolve()
    files = bundle_files(project)
    if dest.exists() and (dest.suffix == ".zip" or not dest.is_dir() or any(dest.iterdir())):
        raise BundleError(f"{dest} already exists; nothing was written. Name a new .zip or an empty folder")
    if dest.suffix == ".zip":
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
            for name, text in SCRIPTS.items():
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o100755 << 16
                z.writestr(info, text)
            for name, src in files.items():
                z.write(src, name)
    else:
        dest.mkdir(parents=True, exist_ok=True)
        for name, text in SCRIPTS.items():
            (dest / name).write_text(text)
            (dest / name).chmod(0o755)
        for name, src in files.items():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return [*SCRIPTS, *files]


if __name__ == "__main__":
    from .grading.report import autograde

    autograde(sys.argv[1] if len(sys.argv) > 1 else "/autograder")
