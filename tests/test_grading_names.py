"""Student names in class grading: every submission gets exactly one row, under a name that leads back to
its file, whatever the file is called, and no student's folder can take the place of the grade files."""

import csv
import json
import os
import random
from pathlib import Path

import pytest

from digitcore.exercises import CHECKS
from digitcore.grading.classroom import grade_class
from digitcore.grading.sources import RESERVED, scan_class, show, student_names

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "exercises.py"

RIGHT = '''
def mnist_distance(a, b):
    return (a - b).abs().mean((-1, -2))
'''
WRONG = '''
def mnist_distance(a, b):
    return (a - b).mean((-1, -2))
'''


def make(folder: Path, entries: dict):
    """entries: {name: source} for files, {name + "/": source} for a folder holding work.py."""
    for name, source in entries.items():
        if name.endswith("/"):
            (folder / name[:-1]).mkdir()
            (folder / name[:-1] / "work.py").write_text(source)
        else:
            (folder / name).write_text(source)


def test_names_are_distinct_deterministic_and_lead_back_to_the_file(tmp_path):
    make(tmp_path, {"bob/": RIGHT, "bob.py": RIGHT, "bob-file.py": RIGHT, "bob.py.py": RIGHT,
                    "bob-folder/": RIGHT, "bob-folder.py": RIGHT, "grades.json.py": RIGHT, "gradebook.csv/": RIGHT,
                    "jane.doe.py": RIGHT, "with space.py": RIGHT, "ünï.py": RIGHT})
    students, skipped = scan_class(tmp_path)
    assert students == {
        "bob-folder": tmp_path / "bob",                  # bob/ and bob.py clash: both take their long form
        "bob.py": tmp_path / "bob.py",
        "bob-file": tmp_path / "bob-file.py",            # the real bob-file.py keeps its own name
        "bob.py.py": tmp_path / "bob.py.py",             # its stem clashed with bob.py's long form
        "bob-folder-folder": tmp_path / "bob-folder",
        "bob-folder.py": tmp_path / "bob-folder.py",
        "grades.json.py": tmp_path / "grades.json.py",   # never named like a grade file
        "gradebook.csv-folder": tmp_path / "gradebook.csv",
        "jane.doe": tmp_path / "jane.doe.py",
        "with space": tmp_path / "with space.py",
        "ünï": tmp_path / "ünï.py",
    }
    assert skipped == {}
    entries = sorted(tmp_path.iterdir())
    for _ in range(5):
        random.shuffle(entries)
        assert student_names(entries) == students


def test_every_entry_is_a_student_or_said_to_be_skipped(tmp_path):
    make(tmp_path, {"alice.py": RIGHT, ".hidden.py": RIGHT, "notes.txt": "", "conftest.py": "", "bob/": RIGHT,
                    "carol.ipynb": "{}"})
    (tmp_path / ".git").mkdir()
    os.symlink(SOLUTION, tmp_path / "mallory.py")
    students, skipped = scan_class(tmp_path)
    assert sorted(students) == ["alice", "bob", "carol"]   # a Jupyter notebook is graded (tests/test_grading_intake.py)
    assert set(skipped) == {".hidden.py", "notes.txt", "conftest.py", ".git", "mallory.py"}
    assert "not a .py file, a notebook (.ipynb) or a folder" in skipped["notes.txt"]
    assert "symbolic link" in skipped["mallory.py"] and "dot" in skipped[".hidden.py"]


def test_unprintable_characters_are_written_reversibly():
    assert show("a\nb") == "a%0Ab" and show("a%0Ab") == "a%250Ab" and show("ünï å") == "ünï å"
    assert show("x\u202ey") == "x%E2%80%AEy"
    assert show("\udcff") == "%FF"   # a byte that is not UTF-8, as Python reads such a file name
    long = show("x" * 300)
    assert len(long) <= 120 and long != show("x" * 301)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("names_class")
    subs, out = base / "submissions", base / "grades"
    subs.mkdir()
    make(subs, {"grades.json.py": RIGHT, "gradebook.csv/": RIGHT, "bob/": RIGHT, "bob.py": RIGHT,
                "bob-file.py": WRONG, "with space.py": RIGHT, "ünï.py": RIGHT, "a\nb.py": RIGHT, "a%0Ab.py": WRONG,
                "-rf.py": RIGHT, "=cmd.py": RIGHT, "jane.doe.py": RIGHT, "notes.txt": ""})
    grades = grade_class(subs, out, include_hidden=False, jobs=2, time_limit=5.0,
                         checks={"mnist_distance": CHECKS["mnist_distance"]})
    return out, grades


ANY = "any"   # a file whose stem has a dot: its score is the business of the next test
EXPECTED = {"grades.json.py": ANY, "gradebook.csv-folder": 10, "bob-folder": 10, "bob.py": 10, "bob-file": None,
            "with space": 10, "ünï": 10, "a%0Ab": 10, "a%250Ab": None, "-rf": 10, "=cmd": 10, "jane.doe": ANY}


def test_every_submission_gets_one_row_under_its_own_name(graded):
    out, grades = graded
    assert set(grades["students"]) == set(EXPECTED)
    for name, points in EXPECTED.items():
        got = grades["students"][name]["mnist_distance"]
        if points != ANY:
            assert got == points if points is not None else got < 10, (name, got)
    rows = list(csv.reader((out / "gradebook.csv").open(encoding="utf-8")))
    assert rows[0] == ["student", "mnist_distance", "total"] and len(rows) == 1 + len(EXPECTED)
    names = {row[0] for row in rows[1:]}
    assert "'=cmd" in names and "'-rf" in names   # never a spreadsheet formula
    assert json.loads((out / "grades.json").read_text()) == grades


def test_student_folders_never_take_the_grade_files_place(graded):
    out, _ = graded
    for reserved in RESERVED:
        assert (out / reserved).is_file()
    for name in EXPECTED:
        assert (out / name / "feedback.md").is_file() and (out / name / "results.json").is_file()
    assert sorted(p.name for p in out.iterdir()) == sorted([*RESERVED, *EXPECTED])


def test_a_dot_in_a_file_name_does_not_cost_points(graded):
    """jane.doe.py and grades.json.py are graded like any other file."""
    _, grades = graded
    assert grades["students"]["jane.doe"]["total"] == 10
    assert grades["students"]["grades.json.py"]["total"] == 10


LOADER = '''
import sys
from digitcore.grading.sandboxed.worker import load_submission
sources = {"/class/jane.doe.py": "X = 1", "/class/my answers v1.2.py": "X = 2", "/class/1st-try.py": "X = 3",
           "/class/class.py": "X = 4", "/class/_submission_0.py": "X = 5", "/class/helper.py": "X = 6",
           "/class/main.py": "import helper\\nX = helper.X + 1"}
modules = load_submission(sources)
print(sorted((f.rsplit("/", 1)[1], m.X) for f, m in modules.items()))
'''


def test_a_file_stem_that_is_not_an_identifier_is_loaded_privately():
    """The worker loads `jane.doe.py` as a file, not as the module `doe` of a package `jane` (nor `1st-try`,
    `my answers v1.2` or the keyword `class` as names Python cannot import); a submission's own imports still work."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", LOADER], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(sorted([("jane.doe.py", 1), ("my answers v1.2.py", 2), ("1st-try.py", 3),
                                              ("class.py", 4), ("_submission_0.py", 5), ("helper.py", 6),
                                              ("main.py", 7)]))
