"""Taking in a class folder as an archive leaves it: hard links, FIFOs, names too long for a folder, a
thousand files, names that are spreadsheet formulas, Jupyter notebooks; and results.json that Gradescope
shows as plain text. Each attack is graded end to end, through the same grader as the class."""

import csv
import json
import os
import shutil
import threading
from pathlib import Path

import nbformat
import pytest

from digitcore.exercises import CHECKS
from digitcore.grading.classroom import grade_class
from digitcore.grading.report import ExerciseResult, SubmissionReport, gradescope_results, summary_table
from digitcore.grading.sources import MAX_FILES, SubmissionError, read_submission, scan_class

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "exercises.py"
SECRET = "ROOT ONLY SECRET 7d1f: the first line of a file that is not the student's"
RIGHT = "def mnist_distance(a, b):\n    return (a - b).abs().mean((-1, -2))\n"
EMOJI = "\U0001F600" * 63   # 252 bytes in UTF-8; its folder's long form, with -folder, would be 259


def notebook(*cells) -> str:
    """A Jupyter notebook: ("md", text) or ("code", text) cells."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(t) if kind == "md" else nbformat.v4.new_code_cell(t) for kind, t in cells]
    return nbformat.writes(nb)


def build_class(base: Path) -> Path:
    """The class folder as a red team left it, beside an instructor's folder on the same file system."""
    instructor, subs = base / "instructor", base / "submissions"
    instructor.mkdir()
    subs.mkdir()
    shutil.copy(SOLUTION, instructor / "exercises.py")
    (instructor / "secret.txt").write_text(SECRET + "\n")
    os.chmod(instructor / "secret.txt", 0o600)
    os.link(instructor / "exercises.py", subs / "mallory.py")          # the instructor's solutions, as a student
    (subs / "eve").mkdir()
    os.link(instructor / "secret.txt", subs / "eve" / "a_notes.py")    # a root-only file, read as the student's
    os.link(instructor / "exercises.py", subs / "eve" / "b_work.py")
    (subs / "eve" / "c_own.py").write_text("X = 1\n")
    (subs / "crowd").mkdir()                                           # the right answer in the file past the cap
    for i in range(MAX_FILES):
        (subs / "crowd" / f"a{i:03}.py").write_text("X = 1\n")
    (subs / "crowd" / "z_answer.py").write_text(RIGHT)
    (subs / EMOJI).mkdir()
    (subs / EMOJI / "work.py").write_text(RIGHT)
    (subs / f"{EMOJI}.py").write_text(RIGHT)
    (subs / "x;=1+1.py").write_text(RIGHT)
    (subs / "ann.ipynb").write_text(notebook(("md", "# My answers"), ("code", "%matplotlib inline\nimport torch"),
                                             ("code", "!pip install nothing\n" + RIGHT),
                                             ("code", "%%timeit\nfor i in range(3):\n    x = i")))
    (subs / "broken.ipynb").write_text('{"cells": [')
    return subs


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("intake")
    subs = build_class(base)
    out, reports = base / "grades", []
    grade_class(subs, out, include_hidden=False, jobs=2, time_limit=5.0, progress=reports.append,
                checks={"mnist_distance": CHECKS["mnist_distance"]})
    return out, {r.student: r for r in reports}, {"skipped": scan_class(subs)[1]}


def everything_written(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file())


def test_a_hard_link_is_never_graded_nor_quoted(graded):
    """The red team's (a): hard links into the instructor's files scored full marks and quoted a root-only file."""
    out, reports, stats = graded
    assert "mallory" not in reports and "hard link" in stats["skipped"]["mallory.py"]
    eve = reports["eve"]
    assert eve.total == 0 and eve.fatal is None
    assert {entry for entry, _ in eve.skipped} == {"a_notes.py", "b_work.py"}
    assert all("hard link" in why for _, why in eve.skipped)
    assert SECRET[:20] not in everything_written(out)
    feedback = (out / "eve" / "feedback.md").read_text(encoding="utf-8")
    assert "## Not graded" in feedback and "`b_work.py`: a hard link" in feedback


def test_a_name_too_long_for_a_folder_is_shortened_and_still_graded(graded):
    """The red team's (b): a 63-emoji folder's long form is 259 bytes, more than a path component holds."""
    out, reports, _ = graded
    emoji = [name for name in reports if name.startswith(EMOJI[:10])]
    assert len(emoji) == 2 and all(reports[name].total == 10 for name in emoji)
    for name in emoji:
        assert len(name.encode("utf-8")) <= 255
        assert (out / name / "feedback.md").is_file() and (out / name / "results.json").is_file()
    assert f"{EMOJI}.py" in emoji               # the file's long form fits (255 bytes) and is kept whole
    assert any("~" in name for name in emoji)   # the folder's is cut, with a hash of the whole name
    table = summary_table(list(reports.values()))
    assert all(name[:10] in table for name in emoji)


def test_a_file_past_the_cap_is_named_to_the_student_and_in_the_summary(graded):
    """The red team's (c): file 51 of a folder was dropped without a word."""
    out, reports, _ = graded
    crowd = reports["crowd"]
    assert crowd.skipped == [("z_answer.py", f"one file too many: at most {MAX_FILES} files of a folder are "
                                             f"graded (the first {MAX_FILES} by name)")]
    assert "`z_answer.py`: one file too many" in (out / "crowd" / "feedback.md").read_text(encoding="utf-8")
    assert "not graded in crowd's submission: `z_answer.py`: one file too many" in summary_table(list(reports.values()))
    assert "z_answer.py" in json.loads((out / "crowd" / "results.json").read_text())["output"]


def test_a_formula_after_any_delimiter_is_neutralised(graded):
    """The red team's (e): `x;=1+1` starts a formula in a spreadsheet that splits cells on `;`."""
    out, reports, _ = graded
    assert reports["x;=1+1"].total == 10
    cells = [cell for row in csv.reader((out / "gradebook.csv").open(encoding="utf-8")) for cell in row]
    assert "x;'=1+1" in cells
    for delimiter in (",", ";", "\t", "|"):
        for cell in cells:
            for part in cell.split(delimiter):
                assert part.lstrip()[:1] not in ("=", "+", "-", "@"), (delimiter, cell)
    assert "x;=1+1" in json.loads((out / "grades.json").read_text())["students"]   # grades.json keeps the name


def test_a_notebook_is_graded_by_its_code_cells(graded):
    """The red team's (f): a student's .ipynb was skipped; IPython's own lines are left out, with a note."""
    out, reports, _ = graded
    ann = reports["ann"]
    assert ann.fatal is None and ann.total == 10
    notes = [why for _, why in ann.skipped]
    assert len(notes) == 3 and "`%matplotlib inline` is IPython's" in notes[0] and "`!pip install nothing`" in notes[1]
    assert "the cell is left out" in notes[2]
    broken = reports["broken"]
    assert broken.total == 0 and "not a notebook Jupyter can read" in broken.fatal


def test_results_json_is_plain_text_for_gradescope():
    """The red team's (d): exception text with <script>, <img onerror> and <a href> reached results.json,
    which Gradescope shows as "simple_format" (HTML links and images let through) unless told otherwise."""
    from digitcore.exercises.common import Check, Verdict

    check = Check("mnist_loss", "values", "values on fixed inputs", 1.0, probe=None, make_input=None, judge=None)
    hostile = "<script>alert(1)</script> <img src=x onerror=alert(2)> <a href='http://evil'>x</a> \x1b[31mred"
    ex = ExerciseResult("mnist_loss", 0.0, 1.0, [(check, Verdict(False, hostile))])
    results = gradescope_results(SubmissionReport("s", {"mnist_loss": ex}, fatal=None, isolation="bwrap"))
    assert results["output_format"] == results["test_output_format"] == results["test_name_format"] == "text"
    assert all(t["output_format"] == "text" for t in results["tests"])
    assert "\x1b" not in json.dumps(results, ensure_ascii=False) and "\\u001b" not in json.dumps(results)


def test_a_fifo_in_a_folder_does_not_block_the_grader(tmp_path):
    """A named pipe where a .py file should be: opening it for reading would wait for a writer forever."""
    (tmp_path / "dan").mkdir()
    (tmp_path / "dan" / "a.py").write_text(RIGHT)
    os.mkfifo(tmp_path / "dan" / "b.py")
    done = {}
    reader = threading.Thread(target=lambda: done.setdefault("result", read_submission(tmp_path / "dan")), daemon=True)
    reader.start()
    reader.join(30)
    assert "result" in done, "reading the submission blocked on a FIFO"
    assert done["result"].skipped == [("b.py", "not a regular file (a pipe, a device or a socket)")]


def test_a_single_hard_linked_file_is_refused_without_quoting_it(tmp_path):
    (tmp_path / "secret.txt").write_text(SECRET + "\n")
    os.link(tmp_path / "secret.txt", tmp_path / "zed.py")
    with pytest.raises(SubmissionError, match="hard link") as e:
        read_submission(tmp_path / "zed.py")
    assert SECRET[:20] not in str(e.value)
