"""grade_submission: one student's file (or folder), every exercise, every check, judged here.

For each exercise the trusted side makes the inputs, sends them as plain data to a zygote (client.py), gets plain
observations back and runs each check's judge in this process. Whatever goes wrong on the student's side is a
failed check with a kind, specific message; nothing of the checker's own traceback is shown.
"""

import functools
import json
import os
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from digitcore.exercises import Verdict, error_diagnosis
from digitcore.exercises import not_started as exercise_not_started

from . import wording
from .client import ZygoteClient
from .registry import PROBES_FILE, PROJECT, checks_for, probe_files
from .report import ExerciseResult, SubmissionReport, untrusted
from .sandboxed.guards import PROJECT_FILES
from .sandboxed.plain import from_plain, to_plain
from .sources import SubmissionError, read_submission

OUTPUT_CAP = 1 << 20
MEMORY_MB = 1024
EXERCISE_BUDGET = 30.0      # wall seconds per exercise of one student, loading included
STUDENT_BUDGET = 90.0       # wall seconds for all of one student's exercises
SOURCES_CAP = 64 << 20      # bytes of the student's files as they travel in each job (worker.JOB_CAP is 256 MB)


@functools.lru_cache(maxsize=1)
def project_paths() -> tuple[str, ...]:
    """The project's own files, for the worker's audit hook (a diagnostic; in the bwrap root they do not
    exist at all): the package, and in a checkout every entry of it but the one holding Python (.venv)."""
    found = {str(PROJECT / "digitcore")}
    if (PROJECT / "pyproject.toml").exists():
        keep = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
        keep |= {Path(p).resolve() for p in sys.path if p and "-packages" in p}
        found |= {str(e) for e in PROJECT.iterdir() if not any(k == e.resolve() or e.resolve() in k.parents for k in keep)}
    return tuple(sorted(found))


def judge_record(check, inp, rec, info, time_limit: float, load_guard=None) -> Verdict:
    """One check's Verdict from the worker's record for it (anything malformed fails it); what the guards saw while
    the file loaded (`load_guard`) fails every check. A hidden check's failure is told in the grader's words only
    (wording.ending); a wrong value keeps the judge's diagnosis, a question and hint of the grader's own table."""
    hidden = check.hidden
    rec = rec if isinstance(rec, dict) else {}
    load_guard = load_guard if isinstance(load_guard, dict) else {}
    status = rec.get("status")
    refusal = (wording.refusal_message(load_guard.get("reference"), load_guard.get("refused"), "while your file loaded")
               or wording.refusal_message(rec.get("reference"), rec.get("refused") if status == "ok" else [],
                                          "while being checked"))
    if refusal or (status == "ok" and rec.get("overflow")):
        status = "refused" if refusal else "overflow"
    if status == "ok":
        verdict = _judge_value(check, inp, rec)
        hidden_failure = hidden and not verdict.passed
        return replace(verdict, message=wording.ending(status, rec, time_limit, hidden)) if hidden_failure else verdict
    if not hidden and refusal:
        return Verdict(False, refusal)
    if not hidden and status == "error":   # the message, and the exercise's diagnosis
        return error_diagnosis(check.exercise, wording.error_message(rec.get("error"), info))
    return Verdict(False, wording.ending(status, rec, time_limit, hidden))


def _judge_value(check, inp, rec: dict) -> Verdict:
    try:
        obs = from_plain(rec.get("obs"))
    except Exception:  # noqa: BLE001 - GarbledError, or anything else the plain data makes torch raise
        return Verdict(False, "the result your code gave could not be read back (garbled)")
    try:
        verdict = check.judge(inp, obs)
    except Exception as e:  # noqa: BLE001 - a judge must not raise; if one does, the check fails without a traceback
        return Verdict(False, f"your result could not be checked ({type(e).__name__}): it is probably "
                              "not the kind of value this exercise asks for")
    return verdict if isinstance(verdict, Verdict) else Verdict(False, "the check gave no verdict")


def not_started(check, inp, rec) -> bool:
    """The same rule as the lessons' check(): NotImplementedError, or the exercise's own not-started rule
    (exercises.not_started) on the observation of its first check (e.g. it returned None and did nothing)."""
    if not isinstance(rec, dict):
        return False
    if rec.get("status") == "error":
        return isinstance(rec.get("error"), dict) and rec["error"].get("type") == "NotImplementedError"
    try:
        return rec.get("status") == "ok" and exercise_not_started(check.exercise, inp, from_plain(rec.get("obs")))
    except Exception:  # noqa: BLE001 - garbage is simply "started"
        return False


def unreadable(exercise, checks, error: BaseException) -> ExerciseResult:
    """The exercise's result when reading or judging what the student's process sent raised: their failure,
    said in their terms (the grader's own traceback is never shown)."""
    return ExerciseResult.zero(exercise, checks, "not graded: what your code sent back could not be read or checked "
                                                 f"({type(error).__name__}), so this exercise scores zero. Return plain "
                                                 "values (tensors, numbers, lists) of the size the exercise asks for.")


def failed_report(student: str, registry: dict, error: BaseException, seed=None) -> SubmissionReport:
    """A student whose grading raised past every exercise's boundary: zero everywhere, said plainly."""
    report = SubmissionReport(student=student, isolation="unknown", seed=seed)
    report.exercises = {ex: unreadable(ex, checks, error) for ex, checks in registry.items()}
    return report


def draw_seed() -> int:
    """A fresh seed for one grading run: never 0, the seed of the lessons' self-checks, so no value a student
    saw in a lesson, or in an earlier run's feedback, is an input of this run."""
    return secrets.randbelow(2**31 - 2) + 1


def grade_with(zygote: ZygoteClient, path, registry: dict, *, student=None, seed=None, time_limit=10.0,
               memory_mb=MEMORY_MB, hide=(), exercise_budget=None, student_budget=None) -> SubmissionReport:
    """Grade one submission with a started zygote (class grading shares them), in at most `student_budget` wall
    seconds and `exercise_budget` per exercise; `seed` None draws a fresh one. Nothing the student's process sends
    can make this raise: what fails while reading or judging an exercise is that exercise's failure (unreadable)."""
    t0 = time.monotonic()
    path = Path(path)
    report = SubmissionReport(student=student or (path.stem if path.is_file() else path.name),
                              seed=draw_seed() if seed is None else seed)
    try:
        submission = read_submission(path)
        report.skipped = submission.skipped
        check_job_size(submission.sources)
    except (SubmissionError, OSError) as e:
        report.fatal = str(e)
    hide = [[os.path.realpath(p), what] for p, what in (*hide, *((p, PROJECT_FILES) for p in project_paths()))]
    student_budget = STUDENT_BUDGET if student_budget is None else student_budget
    one = None if report.fatal else _Student(zygote, report, submission.sources, registry,
                                             time_limit, memory_mb, hide, student_budget, t0 + student_budget,
                                             EXERCISE_BUDGET if exercise_budget is None else exercise_budget)
    for exercise, checks in registry.items():
        if report.fatal:
            report.exercises[exercise] = ExerciseResult.zero(exercise, checks, "not graded: " + report.fatal)
            continue
        try:
            report.exercises[exercise] = one.exercise(exercise, checks)
        except Exception as e:  # noqa: BLE001 - nothing a student's process sends may abort grading
            report.exercises[exercise] = unreadable(exercise, checks, e)
    if not report.isolation:
        report.isolation = "not run (the file could not be read)" if report.fatal else "unknown"
    report.seconds = round(time.monotonic() - t0, 3)
    return report


def check_job_size(sources: dict) -> None:
    """SubmissionError when the files are too large to send to the worker: the student's failure, found before
    a job of hundreds of megabytes is built for every exercise."""
    size = sum(len(json.dumps(name)) + len(json.dumps(text)) for name, text in sources.items())
    if size > SOURCES_CAP:
        raise SubmissionError(f"your files are too large to grade: {size / 2**20:.0f} MB once packed for the grader "
                              f"(a control or non-ASCII character takes up to 6 bytes), over the limit of "
                              f"{SOURCES_CAP >> 20} MB. Keep data out of your .py files.")


@dataclass
class _Student:
    """What every job of one student's grading shares."""
    zygote: ZygoteClient
    report: SubmissionReport
    sources: dict          # {"/submission/<file>": text} (sources.read_submission)
    registry: dict
    time_limit: float
    memory_mb: int
    hide: list             # [[path, what it is]] the worker may not read (its audit hook names them)
    student_budget: float  # wall seconds for all of this student's exercises (wording.budget_note names both)
    student_end: float     # when they end (time.monotonic()), moved on by the time spent waiting for a worker
    exercise_budget: float

    def exercise(self, exercise, checks) -> ExerciseResult:
        """The public checks in one job, then the hidden ones in another (a child of their own: the public
        child's memory never holds a hidden input or name). A problem with the file or the grader that stops
        the first job stops the exercise; one in the hidden job fails the hidden checks, in the grader's words."""
        t0, items, timing, note = time.monotonic(), [], Counter(), None
        deadline = min(t0 + self.exercise_budget, self.student_end)
        for part in ([c for c in checks if not c.hidden], [c for c in checks if c.hidden]):
            if not part:
                continue
            resp, inputs = self.job(exercise, part, deadline)
            self.student_end += resp.get("waited", 0.0)   # waiting for a worker to start is not the student's time
            if not items:   # the first job
                stop = self.whole_exercise(exercise, checks, resp, t0)
                if stop or not_started(part[0], inputs[0], resp["results"].get(part[0].name)):
                    return stop or ExerciseResult.zero(exercise, checks, wording.NOT_STARTED, not_started=True)
            elif resp.get("engine"):   # the grader's own failure is still the instructor's to hear of
                self.report.engine_errors.append(f"{exercise} (hidden checks): {untrusted(resp['engine'], 300)}")
            info = resp.get("info")
            ran = not resp.get("engine") and not resp.get("fatal") and isinstance(info, dict) and info.get("status") == "found"
            results = resp["results"] if ran else {}   # the hidden job's checks did not run: "no usable result"
            items += [(c, judge_record(c, x, results.get(c.name), info, self.time_limit, resp.get("load_guard")))
                      for c, x in zip(part, inputs)]
            sec = resp.get("seconds", {})   # the worker's side, as ZygoteClient.grade timed it (nothing if it failed early)
            timing.update(forks=resp.get("forks", 0), load=sec.get("load") or 0.0, probes=sum(sec.get("probes", {}).values()),
                          total=sec.get("total", 0.0))
            note = note or wording.budget_note(resp, self, time.monotonic() - t0)
        order = {c.name: i for i, c in enumerate(checks)}
        items.sort(key=lambda item: order[item[0].name])
        score = sum(c.points for c, v in items if v.passed)
        return ExerciseResult(exercise, round(score, 4), sum(c.points for c in checks), items, note=note or "",
                              seconds=round(time.monotonic() - t0, 3),
                              timing={k: round(v, 4) for k, v in timing.items()})

    def job(self, exercise, checks, deadline: float):
        """Run `checks` (one job, one or more forked children); (the response, the inputs it was given)."""
        inputs = [c.make_input(self.report.seed) for c in checks]
        req = {"sources": self.sources, "exercise": exercise, "all_exercises": list(self.registry),
               "probes": [{"check": c.name, "probe": c.probe.__name__, "input": to_plain(x)} for c, x in zip(checks, inputs)],
               "time_limit": float(self.time_limit), "memory_mb": int(self.memory_mb), "output_cap": OUTPUT_CAP,
               "hide": self.hide}
        return self.zygote.grade(req, deadline=deadline), inputs

    def whole_exercise(self, exercise, checks, resp, t0) -> ExerciseResult | None:
        """The exercise's result when the public job says no check could run (the grader failed, the file did
        not load, the function is missing, the budget ran out while loading), else None."""
        report = self.report
        if resp.get("layers") and not report.isolation:
            report.isolation = wording.isolation_text(resp["layers"])
        if resp.get("engine"):
            report.engine_errors.append(f"{exercise}: {untrusted(resp['engine'], 300)}")
            return ExerciseResult.zero(exercise, checks, "not graded: the grader itself failed on this exercise "
                                                         f"({untrusted(resp['engine'], 120)}); please tell your instructor")
        if resp.get("fatal"):
            report.fatal = wording.fatal_message(resp["fatal"], self.time_limit)
            return ExerciseResult.zero(exercise, checks, "not graded: " + report.fatal)
        info = resp.get("info")
        if resp.get("budget") and not isinstance(info, dict):
            return ExerciseResult.zero(exercise, checks, wording.budget_note(resp, self, time.monotonic() - t0))
        note = wording.exercise_note(exercise, info, list(self.sources))
        return ExerciseResult.zero(exercise, checks, note) if note else None


def zygotes_for(n: int, include_hidden: bool, hidden_dir, checks) -> tuple[dict, list[ZygoteClient]]:
    """(exercise -> checks, n started workers loading their probes). The workers start before the checks load
    (each imports torch meanwhile) and are replaced when a custom registry (tests) needs other probes."""
    zygotes = [ZygoteClient([str(PROBES_FILE)]).start() for _ in range(n)] if checks is None else []
    try:
        registry = checks_for(include_hidden, hidden_dir, checks)
        files = probe_files(registry)
        if zygotes and all(z.probe_files == files for z in zygotes):
            return registry, zygotes
    except BaseException:
        close_all(zygotes)
        raise
    close_all(zygotes)
    return registry, [ZygoteClient(files).start() for _ in range(n)]


def close_all(zygotes: list[ZygoteClient]):
    for z in zygotes:
        z.close()


def grade_submission(path, *, include_hidden=False, hidden_dir=None, checks=None, **options) -> SubmissionReport:
    """Grade one submission (a .py file, a notebook, or a folder of them) in a sandbox. `options`: as for
    grade_with (student, seed: None draws a fresh one, which the report names to reproduce the run, ...)."""
    registry, zygotes = zygotes_for(1, include_hidden, hidden_dir, checks)
    try:
        return grade_with(zygotes[0], path, registry, **options)
    finally:
        close_all(zygotes)
