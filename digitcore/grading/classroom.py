"""grade_class: a whole class in parallel, then the gradebook, grades.json and per-student files.

Threads here share a pool of warm zygotes (one per core by default), one student at a time each; the files
are written by the trusted side only, after grading.
"""

import csv
import io
import json
import os
import queue
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .client import refuse_unseparated_class
from .report import feedback_markdown, gradescope_results, points_value, write_text
from .runner import close_all, draw_seed, failed_report, grade_with, zygotes_for
from .sources import RESERVED, SubmissionError, check_out_dir, scan_class

CLASS_FOLDER = "another student's work in the class folder"
GRADES_FOLDER = "the grades folder"


def grade_reports(submissions_dir, *, include_hidden=True, jobs=None, seed=None, hidden_dir=None, checks=None,
                  hide=(), progress=None, unsafe_no_isolation=False, **limits):
    """Grade every student in the folder: (registry, reports in name order, stats; stats["skipped"]: what in the
    folder is not a student, and why). `limits`: as for runner.grade_with; `seed`: of every check's inputs (None: a
    fresh one). Nothing one student's process sends can stop the others: a student whose grading raises scores zero."""
    t0 = time.monotonic()
    seed = draw_seed() if seed is None else seed
    students, skipped = scan_class(submissions_dir)
    refuse_unseparated_class(len(students), unsafe_no_isolation)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(students) or 1))
    registry, zygotes = zygotes_for(jobs, include_hidden, hidden_dir, checks)
    idle: queue.Queue = queue.Queue()
    for z in zygotes:
        idle.put(z)
    # what the worker may not read, and what it is (a refusal names it): the class folder, the grades folder
    hide = [(str(Path(submissions_dir).resolve()), CLASS_FOLDER), *((str(h), GRADES_FOLDER) for h in hide)]

    def one(item):
        name, path = item
        z = idle.get()
        try:
            report = grade_with(z, path, registry, student=name, seed=seed, hide=hide, **limits)
        except Exception as e:  # noqa: BLE001 - this student's failure, never the class's
            report = failed_report(name, registry, e, seed)
        finally:
            idle.put(z)
        if progress:
            progress(report)
        return report

    try:
        for z in zygotes:
            z.wait_ready()
        warm = time.monotonic() - t0
        with ThreadPoolExecutor(jobs) as pool:
            reports = list(pool.map(one, students.items()))
    finally:
        close_all(zygotes)
    stats = {"students": len(reports), "jobs": jobs, "seconds": round(time.monotonic() - t0, 3), "warm_up_seconds":
             round(warm, 3), "zygote_startup_seconds": [z.startup_seconds for z in zygotes], "skipped": skipped}
    return registry, reports, stats


# Where a spreadsheet may start a formula: at the start of a cell, and after any character it may have been
# told to split cells on (`,` `;` tab `|`), spaces allowed in between; and what starts one.
_FORMULA_START = re.compile(r"(^|[,;\t|])(\s*)(?=[=+\-@\t\r])")


def _cell(value):
    """A gradebook cell that no spreadsheet will run as a formula, whatever delimiter it reads the file with:
    a `'` goes before each place a formula could start (`=cmd` -> `'=cmd`, `x;=1+1` -> `x;'=1+1`)."""
    return _FORMULA_START.sub(r"\1\2'", value) if isinstance(value, str) else value


def write_outputs(out_dir, registry, reports) -> dict:
    """gradebook.csv; grades.json (the run's seed, to reproduce it with --seed, the maxima, every student's points,
    which it returns); and each student's results.json and feedback.md."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seeds = sorted({r.seed for r in reports if r.seed is not None})
    maxima = {ex: points_value(sum(c.points for c in cs)) for ex, cs in registry.items()}
    maxima["total"] = points_value(sum(maxima.values()))
    grades = {"seed": seeds[0] if len(seeds) == 1 else seeds or None, "max": maxima,
              "students": {r.student: r.points() for r in reports}}
    columns = (*registry, "total")
    rows = [("student", *columns), *((r.student, *map(r.points().get, columns)) for r in reports)]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([_cell(x) for x in row] for row in rows)
    write_text(out / "gradebook.csv", buf.getvalue())
    write_text(out / "grades.json", json.dumps(grades, indent=2) + "\n")
    failed = []
    for r in reports:  # one student's folder that cannot be written must not cost the others theirs
        try:
            if r.student in RESERVED or not r.student or r.student.startswith(".") or "/" in r.student:
                raise OSError(f"{r.student!r} cannot be a folder beside the grade files")
            folder = out / r.student
            folder.mkdir(exist_ok=True)
            write_text(folder / "results.json", json.dumps(gradescope_results(r), indent=2) + "\n")
            write_text(folder / "feedback.md", feedback_markdown(r))
        except OSError as e:
            failed.append(f"{r.student} ({e})")
    if failed:
        raise SubmissionError(f"the grades are in {out / 'gradebook.csv'} and {out / 'grades.json'}, but the "
                              f"files of {len(failed)} student(s) could not be written: {'; '.join(failed)}")
    return grades


def grade_class(submissions_dir, out_dir, **options) -> dict:
    """Grade a class folder and write OUT/gradebook.csv, OUT/grades.json, OUT/<student>/{results.json,
    feedback.md}. Returns the content of grades.json. `options`: as for grade_reports."""
    out = check_out_dir(submissions_dir, out_dir)
    out.mkdir(parents=True, exist_ok=True)
    registry, reports, _ = grade_reports(submissions_dir, hide=[out], **options)
    return write_outputs(out, registry, reports)
