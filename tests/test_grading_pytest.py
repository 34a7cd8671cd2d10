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
    assert "not graded, not a student: roster.txt: not a .py file, a notebook (.ipynb) or a folder" in result.stdout
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


SLOW = '''
import time

def mnist_distance(a, b):
    time.sleep(1.5)
    return (a - b).abs().mean((-1, -2))
'''


def test_budgets_from_the_command_line(tmp_path):
    """--exercise-budget and --student-budget reach the grader: a slow student is cut off, and told so."""
    subs, out = tmp_path / "subs", tmp_path / "grades"
    subs.mkdir()
    (subs / "slow.py").write_text(SLOW)
    result = run_checks("--submissions", str(subs), "--grades", str(out), "--time-limit", "5",
                        "--exercise-budget", "2", "--student-budget", "50")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    md = (out / "slow" / "feedback.md").read_text()
    assert "each exercise may take at most 2 s and the whole submission 50 s" in md, md
    one = run_checks("--submission", str(subs / "slow.py"), "--time-limit", "5", "--exercise-budget", "2")
    assert one.returncode == 1 and "each exercise may take at most 2 s" in one.stdout, one.stdout[-3000:]


def test_the_class_api_passes_the_budgets_on(tmp_path, monkeypatch):
    from digitcore.exercises import CHECKS
    from digitcore.grading import classroom
    from digitcore.grading.report import ExerciseResult, SubmissionReport

    class Idle:
        startup_seconds, restarts = 0.0, 0

        def wait_ready(self):
            pass

        def close(self):
            pass

    seen = []

    def grade_with(zygote, path, registry, **kw):
        seen.append((kw["exercise_budget"], kw["student_budget"]))
        return SubmissionReport(student=kw["student"], exercises={
            ex: ExerciseResult.zero(ex, cs, "not run") for ex, cs in registry.items()})

    monkeypatch.setattr(classroom, "zygotes_for", lambda n, hidden, hidden_dir, checks: (checks, [Idle()]))
    monkeypatch.setattr(classroom, "grade_with", grade_with)
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "alice.py").write_text("")
    classroom.grade_class(tmp_path / "subs", tmp_path / "out", jobs=1, exercise_budget=7.0, student_budget=8.0,
                          checks={"mnist_distance": CHECKS["mnist_distance"]})
    assert seen == [(7.0, 8.0)]
