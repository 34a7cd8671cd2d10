"""What grading produces: reports per submission and exercise, feedback.md and Gradescope's results.json."""

from dataclasses import dataclass, field


@dataclass
class ExerciseReport:
    exercise: str
    score: float
    max_score: float
    checks: list = field(default_factory=list)   # [(Check, Verdict)], one per check, failed ones with the reason
    note: str = ""                                # exercise-level: missing, not a function, project's implementation
    seconds: float = 0.0                          # wall time on the trusted side
    timing: dict = field(default_factory=dict)    # the worker's side: {"forks", "load", "probes", "total"}

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(v.passed for _, v in self.checks)


@dataclass
class SubmissionReport:
    student: str
    exercises: dict = field(default_factory=dict)  # exercise -> ExerciseReport (every registered exercise)
    fatal: str | None = None                       # what broke the whole file, else None
    isolation: str = ""
    path: str = ""
    seconds: float = 0.0
    engine_errors: list = field(default_factory=list)   # failures of the grader itself (not the student's)

    @property
    def total(self) -> float:
        return round(sum(e.score for e in self.exercises.values()), 4)

    @property
    def max_total(self) -> float:
        return round(sum(e.max_score for e in self.exercises.values()), 4)

    @property
    def passed(self) -> bool:
        return self.fatal is None and all(e.passed for e in self.exercises.values())

    def points(self) -> dict:
        """{exercise: points, ..., "total": points}"""
        return {**{ex: _num(e.score) for ex, e in self.exercises.items()}, "total": _num(self.total)}


def _num(x: float):
    x = round(float(x), 4)
    return int(x) if x == int(x) else x


def pts(x: float) -> str:
    return f"{round(x, 4):g}"


def feedback_markdown(report: SubmissionReport) -> str:
    """The student's feedback: every exercise, every check, what failed and why, kindly."""
    lines = [f"# Feedback for {report.student}", "",
             f"**Total: {pts(report.total)} / {pts(report.max_total)} points**", ""]
    if report.fatal:
        lines += ["> **Your file could not be graded as a whole:** " + report.fatal, "",
                  "Fix this first: nothing in the file could be checked while it fails to load.", ""]
    for ex in report.exercises.values():
        mark = "all checks pass" if ex.passed else f"{sum(v.passed for _, v in ex.checks)} of {len(ex.checks)} checks pass"
        lines += [f"## `{ex.exercise}`: {pts(ex.score)} / {pts(ex.max_score)} ({mark})", ""]
        if ex.note:
            lines += [ex.note, ""]
        for check, verdict in ex.checks:
            label = f"{check.title}" + (" (hidden check)" if check.hidden else "")
            if verdict.passed:
                lines.append(f"- [x] {label} ({pts(check.points)} pt)")
                continue
            lines.append(f"- [ ] {label} (0 / {pts(check.points)} pt): {verdict.message}")
            if getattr(verdict, "misconception", None):
                lines.append(f"  - *{verdict.misconception}*")
            if getattr(verdict, "hint", None):
                lines.append(f"  - Hint: {verdict.hint}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def gradescope_results(report: SubmissionReport) -> dict:
    """Gradescope's autograder results.json: one test per check; hidden checks shown after publishing."""
    tests = []
    for i, ex in enumerate(report.exercises.values(), 1):
        for j, (check, verdict) in enumerate(ex.checks, 1):
            output = "passed" if verdict.passed else verdict.message
            extra = [getattr(verdict, "misconception", None), getattr(verdict, "hint", None)]
            output = "\n".join([output] + [x for x in extra if x and not verdict.passed])
            tests.append({
                "name": f"{ex.exercise}: {check.title}",
                "number": f"{i}.{j}",
                "score": _num(check.points if verdict.passed else 0.0),
                "max_score": _num(check.points),
                "status": "passed" if verdict.passed else "failed",
                "output": output,
                "tags": [ex.exercise] + (["hidden"] if check.hidden else []),
                "visibility": "after_published" if check.hidden else "visible",
            })
    out = {"score": _num(report.total), "output": f"{pts(report.total)} / {pts(report.max_total)} points",
           "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}
    if report.fatal:
        out["output"] += "\nYour file could not be graded as a whole: " + report.fatal
    return out


def summary_table(reports: list) -> str:
    """A plain-text table of totals, one row per student (for the terminal)."""
    if not reports:
        return "(no submissions)"
    exercises = list(reports[0].exercises)
    width = max(len("student"), *(len(r.student) for r in reports))
    head = "student".ljust(width) + "".join(f" {e[:14]:>14}" for e in exercises) + f" {'total':>7}"
    rows = [head, "-" * len(head)]
    for r in reports:
        cells = "".join(f" {pts(r.exercises[e].score):>14}" for e in exercises)
        flag = "  (file broken)" if r.fatal else ""
        rows.append(r.student.ljust(width) + cells + f" {pts(r.total):>7}" + flag)
    return "\n".join(rows)
