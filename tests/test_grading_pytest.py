"""The pytest front end (checks/): the two commands as instructors and students type them."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "exercises.py"
ATTACKS = Path(__file__).parent / "attacks"


def run_checks(*args, timeout=400):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run([sys.executable, "-m", "pytest", "checks", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, capture_output=True, check=False, text=True, timeout=timeout, env=env)


def test_without_options_explains_both_commands():
    result = run_checks()
    assert result.returncode == 4
    err = result.stderr + result.stdout
    assert "--submission PATH" in err and "--submissions DIR --grades OUT" in err
    assert "Traceback" not in err


def test_student_folder_feedback_and_its_conftest_is_never_imported(tmp_path):
    """A folder whose code prints forged pytest and Gradescope summaries, next to a conftest.py."""
    folder = tmp_path / "alice"
    folder.mkdir()
    shutil.copy(ATTACKS / "forged_output.py", folder / "work.py")
    marker = tmp_path / "conftest_ran"
    (folder / "conftest.py").write_text(f"import os\nopen({str(marker)!r}, 'w').close()\nos._exit(0)\n")
    result = run_checks("--submission", str(folder), "--time-limit", "5")
    out = result.stdout + result.stderr
    assert not marker.exists()
    assert result.returncode == 1, out[-3000:]
    assert "35 passed" not in out and '"score": 50.0' not in out and "PASSED mnist_loss" not in out
    assert "15 failed, 24 passed" in out
    assert "mnist_loss: returns a 0-dim float tensor: not started yet" in out   # said once per exercise
    assert "mnist_loss: value on (n,) inputs: not graded (see mnist_loss-returns_scalar)" in out
    assert "total               30 / 50" in out and "sandbox: " in out and "fork" in out
    assert "Traceback" not in out and "digitcore/grading" not in out


def test_class_grading_writes_the_contract_files(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "grades"
    subs.mkdir()
    shutil.copy(SOLUTION, subs / "alice.py")
    shutil.copy(ATTACKS / "infinite_loop.py", subs / "bob.py")
    (subs / "roster.txt").write_text("alice\nbob\n")
    result = run_checks("--submissions", str(subs), "--grades", str(out), "--time-limit", "3")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 passed" in result.stdout and "class grades" in result.stdout
    assert "not graded, not a student: roster.txt: not a .py file or a folder" in result.stdout
    grades = json.loads((out / "grades.json").read_text())
    assert set(grades["students"]) == {"alice", "bob"}
    assert grades["students"]["alice"]["total"] == grades["max"]["total"]
    assert grades["students"]["bob"]["train_epoch"] == 0
    assert grades["students"]["bob"]["total"] == grades["max"]["total"] - grades["max"]["train_epoch"]
    rows = (out / "gradebook.csv").read_text().splitlines()
    assert rows[0] == "student,mnist_loss,apply_step,train_epoch,mnist_distance,batch_accuracy,total"
    assert len(rows) == 3
    for student in ("alice", "bob"):
        assert json.loads((out / student / "results.json").read_text())["tests"]
        assert (out / student / "feedback.md").read_text().startswith(f"# Feedback for `{student}`")
    assert "did not finish within 3 s" in (out / "bob" / "feedback.md").read_text()


def test_grades_inside_the_submissions_are_refused(tmp_path):
    shutil.copy(SOLUTION, tmp_path / "alice.py")
    result = run_checks("--submissions", str(tmp_path), "--grades", str(tmp_path / "out"))
    assert result.returncode == 4
    assert "inside the submissions folder" in result.stderr + result.stdout
