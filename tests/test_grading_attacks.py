"""The grader against hostile submissions (tests/attacks/*.py), graded as one class next to honest students.

Every attack must score zero on the exercises it attacks and full marks on the others (each attack file
also solves the other exercises correctly), leave the honest students' grades untouched, write nothing
where the grader looks, and leave no process behind.
"""

import os
import shutil
from pathlib import Path

import pytest

from digitcore.grading.classroom import grade_reports, write_outputs
from digitcore.grading.client import isolation_mode
from digitcore.grading.sandboxed.zygote import children_of

ATTACKS = Path(__file__).parent / "attacks"
SOLUTION = Path(__file__).parent.parent / "solutions" / "exercises.py"
TIME_LIMIT = 3.0
FATAL = "fatal"

# attack file -> the exercises it attacks (they must score 0), or FATAL (the whole file scores 0)
EXPECTED = {
    "exit_inside_exercise": {"mnist_loss"},
    "sys_exit_inside_exercise": {"apply_step"},
    "exit_at_import": FATAL,
    "sys_exit_at_import": FATAL,
    "syntax_error": FATAL,
    "atexit_forgery": {"mnist_loss"},
    "base_exceptions": {"mnist_loss", "apply_step", "batch_accuracy"},
    "pytest_skip": {"mnist_distance", "batch_accuracy"},
    "infinite_loop": {"train_epoch"},
    "ignore_sigterm": {"apply_step"},
    "memory_exhaustion": {"mnist_distance", "batch_accuracy"},
    "stdout_flood": {"mnist_loss", "batch_accuracy"},
    "equal_to_anything": {"mnist_loss", "mnist_distance"},
    "monkeypatch_comparisons": {"mnist_loss"},
    "frames_and_gc": {"mnist_loss"},
    "read_checker_files": {"apply_step"},
    "forged_output": {"mnist_loss", "apply_step"},
    "write_grade_files": {"mnist_loss", "apply_step", "train_epoch", "mnist_distance", "batch_accuracy"},  # at load
    "reexport_reference": {"mnist_loss", "apply_step"},
    "reference_inside": {"mnist_distance", "train_epoch"},
    "missing_and_wrong_signature": {"mnist_loss", "train_epoch"},
    "escape_processes": {"batch_accuracy"},
    "kill_the_grader": {"mnist_distance"},
}

# what the student is told, per attack: (exercise, words that must appear in its failure messages)
MESSAGES = {
    "exit_inside_exercise": ("mnist_loss", "ended the grading process"),
    "sys_exit_inside_exercise": ("apply_step", "sys.exit()"),
    "exit_at_import": (None, "ended the grading process"),
    "sys_exit_at_import": (None, "sys.exit() while loading"),
    "syntax_error": (None, "SyntaxError"),
    "base_exceptions": ("mnist_loss", "KeyboardInterrupt"),
    "pytest_skip": ("mnist_distance", "cannot be interrupted or skipped"),
    "infinite_loop": ("train_epoch", "did not finish within 3 s"),
    "ignore_sigterm": ("apply_step", "did not finish within 3 s"),
    "stdout_flood": ("batch_accuracy", "printed more than"),
    "equal_to_anything": ("mnist_loss", "Anything"),
    "frames_and_gc": ("mnist_loss", "does not allow"),
    "read_checker_files": ("apply_step", "project's own"),
    "reexport_reference": ("mnist_loss", "project's own implementation"),
    "reference_inside": ("train_epoch", "project's own"),
    "missing_and_wrong_signature": ("train_epoch", "No function named `train_epoch`"),
    "escape_processes": ("batch_accuracy", "does not allow"),
    "kill_the_grader": ("mnist_distance", "killed by SIGKILL"),   # kill(0, ...) reaches only itself
    "write_grade_files": ("apply_step", "while your file loaded"),
}

SYNTAX_ERROR = '''"""Attack: a syntax error, so nothing in the file can run."""
import torch

def mnist_loss(predictions, targets)
    return predictions.mean()
'''


def sleepers() -> list[int]:
    """Processes an attack may have tried to leave behind (`sleep 600`)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if f.read().split(b"\0")[:2] == [b"/bin/sleep", b"600"]:
                    found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("class")
    for name in EXPECTED:
        if name != "syntax_error":
            shutil.copy(ATTACKS / f"{name}.py", subs / f"{name}.py")
    (subs / "syntax_error.py").write_text(SYNTAX_ERROR)
    shutil.copy(SOLUTION, subs / "honest_alice.py")
    shutil.copy(SOLUTION, subs / "honest_zed.py")
    before, children = set(sleepers()), set(children_of(os.getpid()))  # e.g. Playwright's driver, when in one run
    registry, reports, stats = grade_reports(subs, include_hidden=False, jobs=2, time_limit=TIME_LIMIT,
                                             memory_mb=256)
    out = tmp_path_factory.mktemp("grades")
    write_outputs(out, registry, reports)
    return {"reports": {r.student: r for r in reports}, "registry": registry, "out": out, "subs": subs,
            "stats": stats, "sleepers_before": before, "children_before": children}


def test_every_attack_file_is_listed():
    assert {p.stem for p in ATTACKS.glob("*.py")} | {"syntax_error"} == set(EXPECTED)


@pytest.mark.parametrize("attack", sorted(EXPECTED))
def test_attack_scores_zero_where_it_attacks_and_full_marks_elsewhere(graded, attack):
    report = graded["reports"][attack]
    assert not report.engine_errors
    attacked = set(report.exercises) if EXPECTED[attack] == FATAL else EXPECTED[attack]
    assert (report.fatal is not None) == (EXPECTED[attack] == FATAL)
    for name, ex in report.exercises.items():
        if name in attacked:
            assert ex.score == 0, (name, [v.message for _, v in ex.checks if v.passed])
        else:
            assert ex.score == ex.max_score, (name, [v.message for _, v in ex.checks if not v.passed])


@pytest.mark.parametrize("attack", sorted(MESSAGES))
def test_attack_gets_a_clear_message_without_traceback(graded, attack):
    report = graded["reports"][attack]
    exercise, words = MESSAGES[attack]
    texts = [report.fatal or ""] if exercise is None else [v.message for _, v in report.exercises[exercise].checks]
    assert any(words in t for t in texts), texts[:2]
    for ex in report.exercises.values():
        for _, v in ex.checks:
            assert "Traceback" not in v.message and "digitcore/grading" not in v.message


def test_honest_students_are_untouched(graded):
    for name in ("honest_alice", "honest_zed"):
        report = graded["reports"][name]
        assert report.fatal is None and report.total == report.max_total == 50, report.points()


def test_grades_written_only_by_the_grader(graded):
    out, subs = graded["out"], graded["subs"]
    assert (out / "gradebook.csv").read_text().splitlines()[0] == (
        "student,mnist_loss,apply_step,train_epoch,mnist_distance,batch_accuracy,total")
    assert '"score": 50' not in (out / "write_grade_files" / "results.json").read_text()
    assert sorted(p.name for p in subs.iterdir()) == sorted(f"{n}.py" for n in graded["reports"])
    for forged in (Path("/tmp/results.json"), Path("/tmp/grades/gradebook.csv"), ATTACKS / "results.json",
                   ATTACKS.parent / "grades" / "gradebook.csv", Path("/autograder/results/results.json")):
        assert not forged.exists() or forged.read_text() != '{"score": 50, "tests": []}', forged


def test_no_process_left_behind(graded):
    assert set(sleepers()) <= graded["sleepers_before"]
    assert set(children_of(os.getpid())) <= graded["children_before"]  # the zygotes are gone, and every worker


def test_isolation_is_reported(graded):
    isolation = graded["reports"]["honest_alice"].isolation
    assert "fork" in isolation and "rlimits" in isolation and "audit-hook" in isolation
    if os.geteuid() == 0 and isolation_mode()["bwrap"]:
        for layer in ("bwrap", "pidns", "netns", "private-tmpfs", "setuid(nobody)"):
            assert layer in isolation
    else:
        assert "weaker isolation" in isolation


WEAK = ["read_checker_files", "reference_inside", "reexport_reference", "write_grade_files", "kill_the_grader",
        "escape_processes", "frames_and_gc", "exit_inside_exercise", "infinite_loop"]


@pytest.fixture(scope="module")
def graded_weak(tmp_path_factory):
    """The fallback without namespaces (bubblewrap missing, a container): as root, a uid per child."""
    subs = tmp_path_factory.mktemp("weak")
    for name in WEAK:
        shutil.copy(ATTACKS / f"{name}.py", subs / f"{name}.py")
    shutil.copy(SOLUTION, subs / "honest_alice.py")
    before, children = set(sleepers()), set(children_of(os.getpid()))
    mp = pytest.MonkeyPatch()
    mp.setenv("DIGITCORE_SANDBOX", "weak")
    try:
        _, reports, _ = grade_reports(subs, include_hidden=False, jobs=2, time_limit=TIME_LIMIT, memory_mb=256)
    finally:
        mp.undo()
    return {"reports": {r.student: r for r in reports}, "sleepers_before": before, "children_before": children}


@pytest.mark.parametrize("attack", WEAK)
def test_weaker_sandbox_still_defeats_the_attack(graded_weak, attack):
    report = graded_weak["reports"][attack]
    assert "weaker isolation" in report.isolation and "bwrap" not in report.isolation
    assert ("setuid(own-uid)" in report.isolation) == (os.geteuid() == 0)   # never student code as root
    for name, ex in report.exercises.items():
        assert ex.score == (0 if name in EXPECTED[attack] else ex.max_score), (name, ex.checks[0][1].message)


def test_weaker_sandbox_honest_student_and_no_process_left(graded_weak):
    assert graded_weak["reports"]["honest_alice"].total == 50
    assert set(children_of(os.getpid())) <= graded_weak["children_before"]
    assert set(sleepers()) <= graded_weak["sleepers_before"]
