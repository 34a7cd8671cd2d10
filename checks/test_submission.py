"""`pytest checks --submission PATH`: one test per check, so each check passes or fails on its own."""

import pytest

from digitcore.grading.report import not_run


def test_file_loads(submission_report):
    """The file as a whole: a syntax error or an exit while loading fails everything."""
    if submission_report.fatal:
        pytest.fail(f"your file could not be graded: {submission_report.fatal}", pytrace=False)


def test_check(submission_report, check_id):
    exercise, name = check_id
    ex = submission_report.exercises[exercise]
    check, verdict = next((c, v) for c, v in ex.checks if c.name == name)
    if verdict.passed:
        return
    if submission_report.fatal:  # said once, by test_file_loads
        pytest.fail(f"{exercise}: {check.title}: not graded, the file could not be loaded (see test_file_loads)",
                    pytrace=False)
    first = ex.checks[0][0]
    if not_run(ex) and check is not first:  # missing, not started: said once, by the exercise's first check
        pytest.fail(f"{exercise}: {check.title}: not graded (see {exercise}-{first.name})", pytrace=False)
    lines = [f"{exercise}: {check.title}: {verdict.message}"]
    if ex.note and "see the note on this exercise" in verdict.message:
        lines.append(f"  {ex.note}")
    if getattr(verdict, "misconception", None):
        lines.append(f"  {verdict.misconception}")
    if getattr(verdict, "hint", None):
        lines.append(f"  Hint: {verdict.hint}")
    pytest.fail("\n".join(lines), pytrace=False)
