"""What grading produces: reports per submission and exercise, feedback.md and Gradescope's results.json."""

import json
import os
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

# Unicode categories that must not reach a report as they are: control, format (zero-width, right-to-left
# overrides), line and paragraph separators, surrogates, private use and unassigned code points.
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def untrusted(text, limit: int = 200) -> str:
    """Text that came from a student (their process, their file, their file's name), made safe for every
    report: one line (newlines, tabs and invisible characters become spaces), at most `limit` characters,
    set as an inline code span. In feedback.md a code span is shown literally (no headings, list items,
    links, images, HTML or emphasis), and in results.json and the terminal it reads as quoted code. So a
    student can neither forge a line of a report nor make the grader's own words look like theirs.
    Every untrusted string goes through here before it enters a message."""
    if type(text) is not str:
        text = str(text) if type(text) in (int, float, bool) else ("" if text is None else type(text).__name__)
    flat = "".join(" " if unicodedata.category(c) in _INVISIBLE or c.isspace() else c for c in text)
    flat = " ".join(flat.replace("`", "'").split())
    if len(flat) > limit:
        flat = flat[:limit].rstrip() + "..."
    return f"`{flat}`" if flat else "(nothing)"


@dataclass
class ExerciseResult:
    """One exercise's points and its checks: what a lesson's `exercises.check()` returns (`markdown()`, the
    lessons' callout) and what the grader reports (feedback.md, results.json, the gradebook)."""
    exercise: str
    score: float
    max_score: float
    checks: list = field(default_factory=list)   # [(Check, Verdict)], one per check, failed ones with the reason
    note: str = ""                                # exercise-level: missing, not a function, not started, not loaded
    not_started: bool = False
    seconds: float = 0.0                          # the grader's wall time on the trusted side
    timing: dict = field(default_factory=dict)    # the worker's side: {"forks", "load", "probes", "total"}

    @classmethod
    def zero(cls, exercise: str, checks: list, message: str, not_started: bool = False) -> "ExerciseResult":
        """No check could run: each fails with `message`, which is also the exercise's note."""
        from digitcore.exercises import Verdict
        return cls(exercise, 0.0, sum(c.points for c in checks), [(c, Verdict(False, message)) for c in checks],
                   note=message, not_started=not_started)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(v.passed for _, v in self.checks)

    def markdown(self) -> str:
        """The lessons' short feedback: success, or the first failing check's diagnosis and hint (a result not
        started is told by lesson_kit.exercise_feedback)."""
        head = f"`{self.exercise}`"
        if self.passed:
            return f"**{head}: all {len(self.checks)} checks pass ({pts(self.score)}/{pts(self.max_score)}).**"
        check, verdict = next((c, v) for c, v in self.checks if not v.passed)
        lines = [f"**{head}: {pts(self.score)}/{pts(self.max_score)}**, {sum(v.passed for _, v in self.checks)} of "
                 f"{len(self.checks)} checks pass.", "", f"**{check.title}** failed: {verdict.message}"]
        if verdict.misconception:
            lines += ["", f"*{verdict.misconception[:1].upper()}{verdict.misconception[1:]}*"]
        if verdict.hint:
            lines += ["", f"Hint: {verdict.hint}"]
        others = [c.title for c, v in self.checks if not v.passed and c is not check]
        return "\n".join(lines + (["", "Also failing: " + "; ".join(others) + "."] if others else []))


@dataclass
class SubmissionReport:
    student: str
    exercises: dict = field(default_factory=dict)  # exercise -> ExerciseResult (every registered exercise)
    fatal: str | None = None                       # what broke the whole file, else None
    isolation: str = ""                            # the grader's own line (wording.isolation_text)
    seconds: float = 0.0
    engine_errors: list = field(default_factory=list)   # failures of the grader itself (not the student's)
    skipped: list = field(default_factory=list)   # [(entry, why)]: what in the submission was not graded (sources.py)
    seed: int | None = None                        # the seed of the checks' inputs (reproduces the run)

    @property
    def total(self) -> float:
        return round(sum(e.score for e in self.exercises.values()), 4)

    @property
    def max_total(self) -> float:
        return round(sum(e.max_score for e in self.exercises.values()), 4)

    def points(self) -> dict:
        """{exercise: points, ..., "total": points}"""
        return {**{ex: points_value(e.score) for ex, e in self.exercises.items()}, "total": points_value(self.total)}


def points_value(x: float):
    """Points as JSON shows them: an int when whole, else rounded to 4 places."""
    x = round(float(x), 4)
    return int(x) if x == int(x) else x


def pts(x: float) -> str:
    return f"{round(x, 4):g}"


def not_run(ex: ExerciseResult) -> bool:
    """No check of the exercise ran: every check failed with the exercise's own note (missing, not a
    function, not started, the file did not load). Then the note is said once, not once per check."""
    return bool(ex.note) and bool(ex.checks) and all(not v.passed and v.message == ex.note for _, v in ex.checks)


def feedback_markdown(report: SubmissionReport) -> str:
    """The student's feedback: a file-level problem once at the top, then each exercise: one line when it
    could not run (missing, not started), else every check, what failed and why, kindly."""
    lines = [f"# Feedback for {untrusted(report.student, 120)}", "",
             f"**Total: {pts(report.total)} / {pts(report.max_total)} points**", ""]
    if report.fatal:
        lines += ["> **Your file could not be graded as a whole:** " + report.fatal, "",
                  "Fix this first: nothing in the file could be checked while it fails to load.", ""]
    if report.skipped:
        lines += ["## Not graded", "", "These parts of your submission were not read:", ""]
        lines += [f"- {line}" for line in skipped_lines(report.skipped)] + [""]
    for ex in report.exercises.values():
        head = f"## `{ex.exercise}`: {pts(ex.score)} / {pts(ex.max_score)}"
        if report.fatal:
            lines += [f"{head} (not graded: see above)", ""]
            continue
        if not_run(ex):
            lines += [head, "", ex.note, ""]
            continue
        mark = "all checks pass" if ex.passed else f"{sum(v.passed for _, v in ex.checks)} of {len(ex.checks)} checks pass"
        lines += [f"{head} ({mark})", ""]
        if ex.note:
            lines += [ex.note, ""]
        if len(ex.checks) > 1 and not any(v.passed for _, v in ex.checks) and len({v.message for _, v in ex.checks}) == 1:
            verdict = ex.checks[0][1]   # one cause failed every check (an error, a crash, a refusal): say it once
            lines += [f"Every check failed the same way: {verdict.message}", *_diagnosis(verdict, "- ")]
            lines += ["", "Checks: " + "; ".join(f"{c.title} ({pts(c.points)} pt)" for c, _ in ex.checks), ""]
            continue
        for check, verdict in ex.checks:
            label = f"{check.title}" + (" (hidden check)" if check.hidden else "")
            lines += ([f"- [x] {label} ({pts(check.points)} pt)"] if verdict.passed else
                      [f"- [ ] {label} (0 / {pts(check.points)} pt): {verdict.message}", *_diagnosis(verdict, "  - ")])
        lines.append("")
    for line in trailer(report):
        lines += [line, ""]
    return "\n".join(lines).rstrip() + "\n"


def _diagnosis(verdict, bullet: str) -> list[str]:
    return [f"{bullet}{text}" for text in (verdict.misconception and f"*{verdict.misconception}*",
                                           verdict.hint and f"Hint: {verdict.hint}") if text]


def trailer(report: SubmissionReport) -> list[str]:
    """The last lines of every report: which inputs this run drew (so that it can be repeated), the isolation."""
    seed = report.seed
    return [*([f"Inputs of this run: seed {seed} (every run draws new ones; `pytest checks --submission YOUR_FILE "
               f"--seed {seed}` repeats this run's public checks)."] if seed is not None else []),
            *([f"Isolation: {report.isolation}"] if report.isolation else [])]


def skipped_lines(skipped: list, limit: int | None = None) -> list[str]:
    """One line per entry of a submission not graded: its name, quoted, and why (the grader's words, any student
    text in them already quoted); past `limit` lines, how many more."""
    lines = [f"{untrusted(entry, 120)}: {why}" for entry, why in skipped[:limit]]
    if limit is not None and len(skipped) > limit:
        lines.append(f"and {len(skipped) - limit} more")
    return lines


# Gradescope renders "output" in the format it is told, by default "simple_format", which lets HTML such as
# <a href> through. Every text of ours is plain text: say so for the whole result, each test's output and name.
GRADESCOPE_FORMAT = "text"


def gradescope_text(text: str) -> str:
    """Text for a results.json field shown as plain text: lines kept, every other invisible or control
    character (an ANSI escape, a right-to-left override) made a space."""
    return "".join(" " if c != "\n" and unicodedata.category(c) in _INVISIBLE else c for c in text)


def gradescope_results(report: SubmissionReport) -> dict:
    """Gradescope's autograder results.json: one test per check; hidden checks shown after publishing.
    A file-level problem is said once, in the top-level output."""
    tests = []
    for i, ex in enumerate(report.exercises.values(), 1):
        for j, (check, verdict) in enumerate(ex.checks, 1):
            if verdict.passed:
                output = "passed"
            elif report.fatal:
                output = "not graded: your file could not be loaded (the reason is at the top)"
            else:
                output = "\n".join([verdict.message, *(x for x in (verdict.misconception, verdict.hint) if x)])
            tests.append({
                "name": gradescope_text(f"{ex.exercise}: {check.title}"),
                "number": f"{i}.{j}",
                "score": points_value(check.points if verdict.passed else 0.0),
                "max_score": points_value(check.points),
                "status": "passed" if verdict.passed else "failed",
                "output": gradescope_text(output),
                "output_format": GRADESCOPE_FORMAT,
                "tags": [ex.exercise] + (["hidden"] if check.hidden else []),
                "visibility": "after_published" if check.hidden else "visible",
            })
    output = f"{pts(report.total)} / {pts(report.max_total)} points"
    if report.fatal:
        output += "\nYour file could not be graded as a whole: " + report.fatal
    if report.skipped:
        output += "\nNot graded (not read):" + "".join(f"\n- {line}" for line in skipped_lines(report.skipped, 20))
    return results_json(points_value(report.total), "\n".join([output, *trailer(report)]), tests)


def results_json(score, output: str, tests: list) -> dict:
    return {"score": score, "output": gradescope_text(output), "output_format": GRADESCOPE_FORMAT,
            "test_output_format": GRADESCOPE_FORMAT, "test_name_format": GRADESCOPE_FORMAT,
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def autograde(root) -> dict:
    """Gradescope's run_autograder: grade ROOT/submission (public and hidden checks) and write
    ROOT/results/results.json; returns it. A failure of the grader itself is written there too, as such."""
    root = Path(root)
    try:
        from .runner import grade_submission  # imports torch: inside the try, so its failure is reported too

        report = grade_submission(root / "submission", include_hidden=True, student="submission",
                                  hidden_dir=root / "source" / "checks" / "hidden")
        results = gradescope_results(report)
        print(f"{report.total:g} / {report.max_total:g} points; isolation: {report.isolation}")
    except Exception as e:  # noqa: BLE001 - the grader's own failure: said in results.json, never a missing file
        print(f"the grader failed: {type(e).__name__}: {e}", file=sys.stderr)
        results = results_json(0, f"The grader itself failed ({type(e).__name__}), not your submission: please tell "
                                  "your instructor.", [])
    (root / "results").mkdir(parents=True, exist_ok=True)
    write_text(root / "results" / "results.json", json.dumps(results, indent=2) + "\n")
    return results


def write_text(path: Path, text: str):
    """Write through a fresh file and rename it into place (never follows a link at the final name)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def summary_table(reports: list) -> str:
    """A plain-text table of totals, one row per student (for the terminal)."""
    if not reports:
        return "(no submissions)"
    exercises = list(reports[0].exercises)
    width = max(len("student"), *(len(_plain_name(r.student)) for r in reports))
    head = "student".ljust(width) + "".join(f" {e[:14]:>14}" for e in exercises) + f" {'total':>7}"
    rows = [head, "-" * len(head)]
    for r in reports:
        cells = "".join(f" {pts(r.exercises[e].score):>14}" for e in exercises)
        flag = "  (file broken)" if r.fatal else ""
        rows.append(_plain_name(r.student).ljust(width) + cells + f" {pts(r.total):>7}" + flag)
    for r in reports:
        rows += [f"not graded in {_plain_name(r.student)}'s submission: {line}" for line in skipped_lines(r.skipped, 5)]
        if len(r.skipped) > 5:
            rows[-1] += " (all of them in the student's feedback.md)"
    return "\n".join(rows)


def _plain_name(name: str) -> str:
    """A student's name for the terminal: flattened like untrusted(), without the code-span quotes."""
    return untrusted(name, 60)[1:-1] if name else name
