"""`digitcore handout DIR`: write the course as students get it, without what only instructors may see.

What goes in is a list of what students need (the lessons, the library, the grader's public checks, the docs
and the setup script); everything else stays behind: the reference solutions (solutions/), the hidden checks
(checks/hidden/), the test suite with its corpus of correct and buggy variants (tests/), the benchmarks, CI,
git history, and whatever else sits in the instructor's folder (a class's submissions, grades). Caches are
never copied. In the copy, pytest's default test path is the grader (there is no tests/ to name), and the
README starts with a note that says what this copy is.
"""

import re
import shutil
from pathlib import Path

from .snapshots import copy_first_screen, lessons

PROJECT = Path(__file__).resolve().parents[1]

# Everything a student's copy holds, relative to the project; nothing outside this list is copied.
STUDENT_PATHS = ("README.md", "LICENSE", "pyproject.toml", "dev.sh", ".gitignore",
                 "lessons", "digitcore", "checks", "docs")
# Inside those, what stays behind, and why (the reason is printed).
LEFT_OUT = {"checks/hidden": "the hidden checks"}
# Never copied, anywhere: caches and build output. (The lessons' saved first screens in lessons/__marimo__ are not a
# cache: write_handout copies them on their own.)
CACHES = ("__pycache__", "__marimo__", ".pytest_cache", ".ruff_cache", "*.egg-info", "*.pyc", "*.ipynb")

NOTE = """\
> **This is the student copy of the course**, written by `digitcore handout`. It has the lessons, the
> library and the public checks; the reference solutions, the hidden checks and the project's own test
> suite are not part of it, so the sections below about them are for your instructor. Set up with
> `./dev.sh setup`, write the exercises in the lessons, and check them with
> `.venv/bin/pytest checks --submission lessons/05_sgd.py` (see [docs/exercises.md](docs/exercises.md)).

"""


class HandoutError(Exception):
    """The handout cannot be written (the message says why and what to do)."""


def write_handout(dest, project: Path = PROJECT) -> list[Path]:
    """Copy the student's part of `project` into `dest` (a new or empty folder); returns the files written."""
    project = Path(project).resolve()
    dest = Path(dest).expanduser().resolve()
    missing = [p for p in ("lessons", "checks", "pyproject.toml") if not (project / p).exists()]
    if missing:
        raise HandoutError(f"{project} is not the course's source folder (no {', '.join(missing)}): run "
                           "`digitcore handout` from a clone of the project, where digitcore is installed with `pip install -e`")
    if dest == project or project in dest.parents and dest.relative_to(project).parts[0] in STUDENT_PATHS:
        raise HandoutError(f"{dest} is inside the project's own files; choose a folder outside them, "
                           "for example ../course-for-students")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise HandoutError(f"{dest} already exists and is not an empty folder; nothing was written. "
                           "Choose a new folder, or remove that one first")
    written = []
    dest.mkdir(parents=True, exist_ok=True)
    for name in STUDENT_PATHS:
        src = project / name
        if src.is_file():
            shutil.copy2(src, dest / name)
            written.append(dest / name)
        elif src.is_dir():
            left_out = {project / p for p in LEFT_OUT}

            def ignore(folder, names, left_out=left_out):
                skip = set(shutil.ignore_patterns(*CACHES)(folder, names))
                return skip | {n for n in names if Path(folder, n) in left_out}

            shutil.copytree(src, dest / name, ignore=ignore, symlinks=False)
            written += [p for p in (dest / name).rglob("*") if p.is_file()]
    written += [p for lesson in lessons(project / "lessons")  # the lessons' saved first screens, which are no cache
                for p in copy_first_screen(lesson, dest / "lessons" / lesson.name)]
    _student_pyproject(dest / "pyproject.toml")
    readme = dest / "README.md"
    if readme.is_file():
        readme.write_text(NOTE + readme.read_text(encoding="utf-8"), encoding="utf-8")
    return sorted(written)


def _student_pyproject(path: Path) -> None:
    """pytest's default test path becomes the grader: the copy has no tests/ for it to name."""
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(r'(?m)^testpaths = \[.*\]$', 'testpaths = ["checks"]', text)
    if n != 1:
        raise HandoutError(f"{path}: expected one `testpaths = [...]` line under [tool.pytest.ini_options]")
    path.write_text(new, encoding="utf-8")


def summary(dest, files: list[Path], project: Path = PROJECT) -> str:
    """What was written and what was left out, for the terminal."""
    left = sorted(p.name + "/" * p.is_dir() for p in Path(project).iterdir() if p.name not in STUDENT_PATHS)
    left[:0] = [f"{p}/ ({why})" for p, why in LEFT_OUT.items()]
    return (f"wrote the student copy of the course to {Path(dest).resolve()} ({len(files)} files)\n"
            f"left out: {', '.join(left)}\n"
            f"students set it up with `./dev.sh setup` and check their work with "
            f"`.venv/bin/pytest checks --submission lessons/05_sgd.py`")
