"""`pytest checks --submissions DIR --grades OUT`: one test per student, passing once they are graded."""

import pytest


def test_student(class_reports, student):
    report = class_reports.get(student)
    if report is None:
        pytest.fail(f"{student} was not graded", pytrace=False)
    if report.engine_errors:
        pytest.fail(f"the grader itself failed for {student}: {'; '.join(report.engine_errors)}", pytrace=False)
