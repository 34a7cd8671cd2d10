"""Gradescope: `digitcore gradescope OUT` builds the autograder's bundle, and `run` is what it runs.

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

import json
import shutil
import sys
import zipfile
from pathlib import Path

from .report import GRADESCOPE_FORMAT, gradescope_results

PROJECT = Path(__file__).resolve().parents[2]
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
PYTHONPATH="$ROOT/source" exec "$PYTHON" -m digitcore.grading.gradescope "$ROOT"
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


def run(root) -> dict:
    """Grade ROOT/submission (public and hidden checks) and write ROOT/results/results.json; returns it.
    A failure of the grader itself is written there too, as such, for the instructor to see."""
    from .classroom import _write  # the grader's modules import torch: only here, not to write a bundle

    root = Path(root)
    try:
        from .runner import grade_submission

        report = grade_submission(root / "submission", include_hidden=True, student="submission",
                                  hidden_dir=root / "source" / "checks" / "hidden")
        results = gradescope_results(report)
        print(f"{report.total:g} / {report.max_total:g} points; isolation: {report.isolation}")
    except Exception as e:  # noqa: BLE001 - the grader's own failure: said in results.json, never a missing file
        print(f"the grader failed: {type(e).__name__}: {e}", file=sys.stderr)
        results = {"score": 0, "output": f"The grader itself failed ({type(e).__name__}), not your submission: "
                                         "please tell your instructor.", "output_format": GRADESCOPE_FORMAT,
                   "visibility": "visible", "stdout_visibility": "hidden", "tests": []}
    (root / "results").mkdir(parents=True, exist_ok=True)
    _write(root / "results" / "results.json", json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "/autograder")
