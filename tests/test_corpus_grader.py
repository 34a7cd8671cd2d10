"""The corpus of correct and buggy submissions through the real sandboxed grader (digitcore.grading).

The whole corpus is graded once as a class (shared warm workers, hidden checks included); every correct
file must score full marks, every buggy file must lose marks on its own exercise only, with the expected
misconception named, and the failing public checks must be the same ones `check()` finds in-process.
"""

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

from digitcore.exercises import CHECKS, check

grading = pytest.importorskip("digitcore.grading")

CORPUS = Path(__file__).parent / "corpus"
CORRECT = sorted((CORPUS / "correct").glob("*.py"))
BUGGY = sorted((CORPUS / "buggy").glob("*.py"))
ROOT = Path(__file__).resolve().parent.parent


def student(path: Path) -> str:
    return f"{path.parent.name}__{path.stem}"


def declared(path: Path) -> tuple[str, str]:
    text = path.read_text()
    return re.search(r"^BREAKS: (\w+)$", text, re.MULTILINE).group(1), re.search(r"^MISCONCEPTION: (\w+)$", text, re.MULTILINE).group(1)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """(grades.json content, {student: SubmissionReport}) for the whole corpus graded as one class."""
    base = tmp_path_factory.mktemp("corpus_class")
    subs = base / "submissions"
    subs.mkdir()
    for path in CORRECT + BUGGY:
        shutil.copy(path, subs / f"{student(path)}.py")
    reports = {}
    grades = grading.grade_class(subs, base / "grades", include_hidden=True, jobs=2,
                                 progress=lambda r: reports.__setitem__(r.student, r))
    return grades, reports


def failures(exercise_report):
    return [(c, v) for c, v in exercise_report.checks if not v.passed]


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.stem)
def test_correct_submissions_score_full_marks_in_the_sandbox(graded, path):
    grades, reports = graded
    report = reports[student(path)]
    assert report.fatal is None and not report.engine_errors, (report.fatal, report.engine_errors)
    for name, er in report.exercises.items():
        assert er.score == er.max_score, (name, [(c.name, v.message) for c, v in failures(er)])
    assert set(CHECKS) <= set(report.exercises)
    assert grades["students"][student(path)]["total"] == grades["max"]["total"]


@pytest.mark.parametrize("path", BUGGY, ids=lambda p: p.stem)
def test_buggy_submissions_lose_marks_on_their_exercise_only_in_the_sandbox(graded, path):
    broken, tag = declared(path)
    _, reports = graded
    report = reports[student(path)]
    assert report.fatal is None and not report.engine_errors
    for name, er in report.exercises.items():
        if name != broken:
            assert er.score == er.max_score, (name, [(c.name, v.message) for c, v in failures(er)])
    er = report.exercises[broken]
    assert er.score < er.max_score
    tags = [v.tag for _, v in failures(er)]
    assert tag in tags, (tag, tags, [v.message for _, v in failures(er)])
    # the sandbox and the lessons' in-process check() agree on which public checks fail
    spec = importlib.util.spec_from_file_location(f"grader_corpus_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    local = {c.name for c, v in check(broken, getattr(module, broken)).checks if not v.passed}
    sandboxed = {c.name for c, v in failures(er) if not c.hidden}
    assert sandboxed == local


def test_hidden_checks_run_and_reveal_no_expected_values(graded):
    from digitcore.exercises.common import fmt

    _, reports = graded
    hidden = load_hidden_checks()
    assert hidden
    seen = 0
    for report in reports.values():
        for er in report.exercises.values():
            for c, v in er.checks:
                if c.name not in hidden:
                    continue
                seen += 1
                assert c.hidden
                if not v.passed and c.exercise == "mnist_loss":
                    from digitcore import chapter

                    inp = hidden[c.name].make_input(0)
                    expected = chapter.mnist_loss(inp["predictions"], inp["targets"])
                    assert fmt(expected) not in v.message, v.message
    assert seen == len(hidden) * len(reports)


def load_hidden_checks():
    found = {}
    for path in sorted((ROOT / "checks" / "hidden").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"hidden_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found.update({c.name: c for c in module.HIDDEN_CHECKS})
    return found


def test_grade_submission_diagnoses_one_file():
    """The spec's single-submission API, on one buggy file: the diagnosis survives the process boundary."""
    report = grading.grade_submission(CORPUS / "buggy" / "mnist_loss_no_sigmoid.py")
    er = report.exercises["mnist_loss"]
    verdict = next(v for _, v in er.checks if not v.passed)
    assert verdict.tag == "no_sigmoid" and "sigmoid" in verdict.misconception
    assert "expected" in verdict.message and "Traceback" not in verdict.message
    assert all(e.score == e.max_score for name, e in report.exercises.items() if name != "mnist_loss")
