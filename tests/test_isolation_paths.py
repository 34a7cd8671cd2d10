"""Issue 9 item 8: the grader works wherever the course, its Python, the class and OUT live.

A copy of the project under /tmp or /var/tmp, in a folder whose name has spaces, dots and dashes, with a
virtual environment inside it (the students' `course-for-students/.venv`) or beside it; the class folder
and OUT in other such folders. Each case grades two honest students as a class in a fresh process
started from the copy, and every student must get full marks (hidden checks included) with the
isolation layers in force, and nothing may be written outside OUT.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from digitcore.grading.client import isolation_mode

ROOT = Path(__file__).resolve().parent.parent
SITE = sysconfig.get_paths()["purelib"]   # this venv's packages (torch, marimo...), reached through a .pth

GRADE = """
import json, sys
from digitcore.grading.classroom import grade_reports, write_outputs
registry, reports, _ = grade_reports(sys.argv[1], jobs=1, time_limit=20.0, hide=[sys.argv[2]])
grades = write_outputs(sys.argv[2], registry, reports)
print(json.dumps({"grades": grades, "isolation": {r.student: r.isolation for r in reports}}))
"""

CASES = {
    # checkout folder, venv folder (relative to the checkout when it starts with "."), class, OUT
    "checkout and venv in /tmp": ("/tmp", "course-for students.v1", ".venv", "/var/tmp", "/tmp"),
    "checkout in /var/tmp, venv in /tmp": ("/var/tmp", "course.v2 copy-x", "/tmp", "/tmp", "/var/tmp"),
}


def make_venv(where: Path) -> Path:
    """A venv without pip whose site-packages points at this one's (torch comes from local disk only)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, capture_output=True)
    python = where / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "digitcore_base.pth").write_text(SITE + "\n")
    return python


def copy_project(dest: Path):
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv", "corpus", "browser")
    for name in ("digitcore", "checks", "solutions"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")


@pytest.mark.skipif(not isolation_mode()["bwrap"] or os.geteuid() != 0,
                    reason="needs bubblewrap (apt-get install bubblewrap) and root")
@pytest.mark.parametrize("case", sorted(CASES))
def test_grader_works_from_any_folder(case):
    top, name, venv_at, class_top, out_top = CASES[case]
    made = []
    try:
        checkout = Path(tempfile.mkdtemp(prefix=name + "-", dir=top))
        made.append(checkout)
        copy_project(checkout)
        if venv_at.startswith("."):
            venv = checkout / venv_at
        else:
            venv = Path(tempfile.mkdtemp(prefix="venv dir.x-", dir=venv_at))
            made.append(venv)
        python = make_venv(venv)
        class_dir = Path(tempfile.mkdtemp(prefix="class dir.a-b ", dir=class_top))
        out_dir = Path(tempfile.mkdtemp(prefix="out put.z-9 ", dir=out_top))
        made += [class_dir, out_dir]
        subs = class_dir / "submissions"
        subs.mkdir()
        for student in ("alice", "bob-b"):
            shutil.copy(ROOT / "solutions" / "exercises.py", subs / f"{student}.py")
        before = sorted(os.listdir(class_dir)), sorted(os.listdir(checkout))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DIGITCORE_HIDDEN"))}
        done = subprocess.run([str(python), "-c", GRADE, str(subs), str(out_dir / "grades")], cwd=checkout, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        printed = json.loads(done.stdout.strip().splitlines()[-1])
        grades = printed["grades"]
        assert set(grades["students"]) == {"alice", "bob-b"}
        for student, points in grades["students"].items():
            assert points == grades["max"], (student, points)
            feedback = (out_dir / "grades" / student / "feedback.md").read_text()
            assert "the grader itself failed" not in feedback
        for student, isolation in printed["isolation"].items():
            for layer in ("bwrap", "private-tmpfs", "setuid(nobody)", "pidns", "netns"):
                assert layer in isolation, (student, isolation)
        assert (sorted(os.listdir(class_dir)), sorted(os.listdir(checkout))) == before
    finally:
        for path in made:
            shutil.rmtree(path, ignore_errors=True)
