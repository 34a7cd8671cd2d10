"""`digitcore handout DIR`: the students' copy holds no answers, sets up, runs its lessons and grades.

The copy is written where names are awkward (spaces, dots, dashes), gets its own .venv (linked to this run's
packages: see linked_venv.py), and is then used the way the README tells students to, with nothing configured.
"""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from linked_venv import clean_env, make_linked_venv

from digitcore.exercises import CHECKS
from digitcore.handout import HandoutError, write_handout

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions" / "exercises.py"
REFERENCES = [SOLUTIONS, *sorted((ROOT / "tests" / "corpus" / "correct").glob("*.py"))]
# The book's own listings of the chapter's functions, which the lessons show and train with. The grader scores
# zero for a submission that uses them at run time; they are not the instructors' solutions.
BOOK_CODE = {"digitcore/chapter.py"}


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    base = tmp_path_factory.mktemp("handout")
    dest = base / "course for students v1.2"
    out = subprocess.run([sys.executable, "-m", "digitcore", "handout", str(dest)], cwd=base, env=clean_env(),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "solutions/" in out.stdout and "checks/hidden/" in out.stdout  # it says what it left out
    return dest


def test_handout_holds_what_students_need_and_nothing_instructors_keep(handout):
    for needed in ("README.md", "dev.sh", "pyproject.toml", "lessons/05_sgd.py", "digitcore/chapter.py",
                   "digitcore/exercises/probes.py", "checks/conftest.py", "checks/test_submission.py",
                   "docs/exercises.md"):
        assert (handout / needed).is_file(), needed
    for kept_back in ("solutions", "checks/hidden", "tests", "benchmarks", ".ci", ".git", ".venv"):
        assert not (handout / kept_back).exists(), kept_back
    caches = [p for p in handout.rglob("*") if p.name in ("__pycache__", "__marimo__") or p.suffix == ".ipynb"]
    assert caches == [handout / "lessons" / "__marimo__"]  # the lessons' saved first screens, and nothing else
    saved = sorted(p.relative_to(handout).as_posix() for p in caches[0].rglob("*") if p.is_file())
    lessons = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py"))
    assert saved == sorted([f"lessons/__marimo__/first_screen/{p.stem}.html" for p in lessons]
                           + [f"lessons/__marimo__/session/{p.name}.json" for p in lessons])
    assert os.access(handout / "dev.sh", os.X_OK)
    # pytest's default test paths all exist in the copy (a missing tests/ was a UsageError for `pytest`)
    testpaths = re.search(r"(?m)^testpaths = \[(.*)\]$", (handout / "pyproject.toml").read_text()).group(1)
    assert [p.strip(' "') for p in testpaths.split(",")] == ["checks"]
    assert (handout / "README.md").read_text().startswith("> **This is the student copy")


def _functions(source: str):
    """(name, body) of every function in the source, the docstring left out of the body."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.body[1:] if ast.get_docstring(node) is not None else node.body


def _dump(body) -> str:
    return ast.dump(ast.Module(body=body, type_ignores=[]))


def test_handout_holds_no_reference_solution(handout):
    bodies, texts = {}, {}  # a reference function's body as code, and as text without white space (3+ lines)
    for path in REFERENCES:
        for name, body in _functions(path.read_text()):
            if name not in CHECKS:  # a helper such as mse: common code, not an answer
                continue
            where = f"{path.relative_to(ROOT)}:{name}"
            bodies[_dump(body)] = where
            text = "\n".join(ast.unparse(statement) for statement in body)
            if len(text.splitlines()) >= 3:
                texts[re.sub(r"\s", "", text)] = where
    assert len(bodies) > 20 and texts, (bodies, texts)
    found = []
    for path in handout.rglob("*"):
        rel = path.relative_to(handout).as_posix()
        if not path.is_file() or path.suffix not in (".py", ".md", ".txt", ".toml") or rel in BOOK_CODE:
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".py":
            found += [f"{rel}:{name} is {bodies[_dump(b)]}" for name, b in _functions(text) if _dump(b) in bodies]
        flat = re.sub(r"\s", "", text)
        found += [f"{rel} holds the body of {where}" for body, where in texts.items() if body in flat]
    assert not found


def test_handout_refuses_a_folder_in_use_and_writes_nothing(tmp_path):
    used = tmp_path / "course"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    with pytest.raises(HandoutError, match="not an empty folder"):
        write_handout(used)
    assert [p.name for p in used.iterdir()] == ["notes.txt"]
    with pytest.raises(HandoutError, match="inside the project"):
        write_handout(ROOT / "lessons" / "copy")
    assert not (ROOT / "lessons" / "copy").exists()


def _function_text(name: str, source: str) -> str:
    """`def name(...)` through the line before the next top-level statement or decorator."""
    return re.search(rf"(?ms)^def {name}\(.*?(?=^[^\s#]|\Z)", source).group(0)


def _answered_lessons(handout: Path, dest: Path) -> Path:
    """A folder of the student's lessons that hold exercises, with the reference answers typed in and one
    classic mistake: mnist_loss without the sigmoid. batch_accuracy is in no lesson, so it stays missing."""
    dest.mkdir()
    answers = SOLUTIONS.read_text().replace("    predictions = predictions.sigmoid()\n", "")
    typed = set()
    for lesson in sorted((handout / "lessons").glob("*.py")):
        text = lesson.read_text()
        for name in CHECKS:
            if re.search(rf"(?m)^def {name}\(", text):
                text = text.replace(_function_text(name, text), _function_text(name, answers).rstrip() + "\n\n\n")
                typed.add(name)
                (dest / lesson.name).write_text(text)
    assert typed == set(CHECKS) - {"batch_accuracy"}, typed
    return dest


def test_handout_sets_up_runs_a_lesson_and_grades(handout, tmp_path):
    env = clean_env(HOME=str(tmp_path / "home"), DIGITCORE_CACHE=str(tmp_path / "empty cache"))
    (tmp_path / "home").mkdir()

    def run(*cmd, timeout=300):
        return subprocess.run(cmd, cwd=handout, env=env, capture_output=True, text=True, timeout=timeout)

    def show(out):
        return f"exit {out.returncode}\n{out.stdout[:2500]}\n...\n{out.stdout[-1500:]}\n{out.stderr[-1500:]}"

    make_linked_venv(handout)
    setup = run("./dev.sh", "setup")
    assert setup.returncode == 0, setup.stderr
    test = run("./dev.sh", "test")  # no test suite here: a clear word, not pytest's UsageError
    assert test.returncode == 2 and "student copy" in test.stderr and "pytest checks --submission" in test.stderr
    bare = run(".venv/bin/pytest")  # pytest's default path is the grader, which says what it needs
    assert bare.returncode == 4 and "pytest checks --submission PATH" in bare.stderr, show(bare)

    lesson = run(".venv/bin/python", "lessons/05_sgd.py")  # every cell, headless, on the data shipped inside
    assert lesson.returncode == 0, lesson.stderr[-3000:]

    correct = tmp_path / "my answers v1.2.py"
    correct.write_text(SOLUTIONS.read_text())
    good = run(".venv/bin/pytest", "checks", "--submission", str(correct), "-q")
    assert good.returncode == 0, show(good)
    # the lessons a student wrote the exercises in are a submission as they stand
    lessons = _answered_lessons(handout, tmp_path / "jane.doe lessons-v2")
    bad = run(".venv/bin/pytest", "checks", "--submission", str(lessons), "-q")
    failed = set(re.findall(r"(?m)^FAILED checks/test_submission.py::test_check\[(\w+)-", bad.stdout))
    assert bad.returncode == 1 and failed == {"mnist_loss", "batch_accuracy"}, show(bad)
