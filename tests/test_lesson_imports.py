"""A class opening a cold `marimo run` at once must never get a half-imported torch (digitcore/lesson_imports.py).

The browser test (tests/browser/test_class_cold_start.py) opens 8 pages at once; these tests pin the mechanism down
in seconds, without a browser: the same threads as marimo's run mode, in one process.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

LESSONS = sorted((Path(__file__).resolve().parents[1] / "lessons").glob("[0-9][0-9]_*.py"))

# What `marimo run` does when several tabs arrive at once: the server's thread calls register_formatters() for each
# new session while kernel threads run their lessons' setup cells (importing torch, pandas, altair).
RACE = r"""
import sys, threading, time
from marimo._output.formatters.formatters import THIRD_PARTY_FACTORIES, register_formatters

register_formatters()  # the first session: import hooks installed before any kernel thread exists
errors = []

def kernel_thread():
    try:
        if sys.argv[1] == "lesson_imports":
            import digitcore.lesson_imports  # what every lesson's setup cell does first
        import altair, pandas, torch  # the rest of a setup cell
        torch.nn.Parameter, torch.nn.functional.relu
    except BaseException as e:
        errors.append(repr(e)[:300])

threads = [threading.Thread(target=kernel_thread) for _ in range(4)]
for t in threads:
    t.start()
    time.sleep(0.05)
while any(t.is_alive() for t in threads):
    try:
        register_formatters()  # another tab's session starting, on the server's thread
    except BaseException as e:
        errors.append("server thread: " + repr(e)[:300])
        break
    time.sleep(0.01)
for t in threads:
    t.join()
if sys.argv[1] == "lesson_imports":
    assert all(getattr(f.register, "digitcore_guarded", False) for f in THIRD_PARTY_FACTORIES.values())
print(errors)
sys.exit(1 if errors else 0)
"""


def race(first_import: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RACE, first_import], capture_output=True, text=True, timeout=300)


def test_every_lesson_imports_lesson_imports_first():
    assert LESSONS, "no lessons found"
    for lesson in LESSONS:
        tree = ast.parse(lesson.read_text())
        setup = [node for node in tree.body if isinstance(node, ast.With)
                 and ast.unparse(node.items[0].context_expr) == "app.setup"]
        assert setup, f"{lesson.name} has no `with app.setup:` cell"
        first = setup[0].body[0]
        assert ast.unparse(first) == "import digitcore.lesson_imports", (
            f"{lesson.name}: the setup cell must begin with `import digitcore.lesson_imports` (before torch, pandas "
            f"or altair), or a class opening a cold `marimo run` at once can break it; it begins with "
            f"`{ast.unparse(first)}`")


def test_the_race_is_real_without_lesson_imports():
    """The control: the harness reproduces the failure students met, so the next test means something."""
    result = race("plain")
    # a half-imported torch may also crash the interpreter on its way out (SIGSEGV): any failure is the race
    assert result.returncode != 0, f"the race did not show up:\n{result.stdout}\n{result.stderr[-2000:]}"
    said = "partially initialized" in result.stdout or "cannot initialize type" in result.stdout
    assert said or result.returncode < 0, result.stdout + result.stderr[-2000:]  # < 0: killed by a signal


@pytest.mark.parametrize("attempt", range(2))
def test_lesson_imports_closes_the_race(attempt):
    result = race("lesson_imports")
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-3000:]}"


# Two tabs' kernels compiling the lesson at once, with the thread switches that garbage collection causes.
AST_RACE = r"""
import ast, gc, sys, threading
from marimo._ast.compiler import module_compile  # how marimo turns a cell's code into an AST
if sys.argv[1] == "lesson_imports":
    import digitcore.lesson_imports
build_ast = ast.parse if sys.argv[3] == "ast.parse" else module_compile
sys.setswitchinterval(1e-6)
gc.set_threshold(50, 2, 2)
source = open(sys.argv[2]).read()
errors = []

class Finalized:
    def __del__(self):
        sum(range(50))

def kernel_thread():
    for _ in range(60):
        junk = [Finalized() for _ in range(20)]
        for j in junk:
            j.me = j  # a cycle: the collector frees it, running __del__ on whichever thread collects
        del junk
        try:
            build_ast(source)
        except SystemError as e:
            errors.append(str(e))
            return

threads = [threading.Thread(target=kernel_thread) for _ in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(errors)
sys.exit(1 if errors else 0)
"""


def ast_race(first_import: str, way: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", AST_RACE, first_import, str(LESSONS[0]), way], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="Python 3.12 and later parse safely in threads")
def test_parsing_in_threads_fails_on_python_3_11_without_lesson_imports():
    result = ast_race("plain", "marimo")
    assert result.returncode == 1 and "recursion depth mismatch" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("way", ["ast.parse", "marimo"])
def test_lesson_imports_makes_parsing_in_threads_safe(way):
    result = ast_race("lesson_imports", way)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]


SHARED = r"""
import sys, time
import digitcore.lesson_imports as li
from marimo._ast.load import load_app
from marimo._output import md
from marimo._session.notebook.serializer import PythonNotebookSerializer
from marimo._ast.compiler import compile_cell
from marimo._runtime import runtime
import marimo as mo

assert li.MARIMO_WORK_SHARED
lesson = sys.argv[1]
a, b = load_app(lesson), load_app(lesson)   # the page, then the session: a second tab costs no second parse
assert PythonNotebookSerializer.deserialize.parsed.cache_info().hits == 1
assert a is not b and list(a._cell_manager.codes()) == list(b._cell_manager.codes()) and len(list(a._cell_manager.codes())) > 20
cells = lambda app: [d.cell._cell for d in app._cell_manager.cell_data() if d.cell is not None]
compiled = [(x, y) for x, y in zip(cells(a), cells(b), strict=True)]
assert compile_cell.template.cache_info().hits == len(compiled) > 20   # the second app compiled nothing anew
for x, y in compiled:   # ... yet each app has cells of its own: only what compiling found is shared
    assert x is not y and x.body is y.body and x.code == y.code and x.defs == y.defs
    assert x.config is not y.config and x._status is not y._status and x._output is not y._output
    assert x.import_workspace is not y.import_workspace and x.defs is not y.defs
one = compiled[3][0]   # two tabs' kernels compile the cell with the file's name (marimo run), as marimo's runtime does
k1, k2 = (runtime.compile_cell(one.code, one.cell_id, carried_imports=[], filename=lesson) for _ in range(2))
hits = compile_cell.template.cache_info().hits
assert hits == len(compiled) + 1 and k1 is not k2 and k1.body is k2.body and k1._status is not k2._status
assert k1.body.co_filename == lesson, "a kernel's cell must still name the lesson file in its tracebacks"
assert md._render_markdown.cache_info().hits == 0
first = mo.md("**bold** and a [link](https://example.org) and a footnote[^1]\n\n[^1]: here").text
assert mo.md("**bold** and a [link](https://example.org) and a footnote[^1]\n\n[^1]: here").text == first
assert md._render_markdown.cache_info().hits == 1 and "<strong>bold</strong>" in first
print("ok")
"""


def test_a_new_tab_reuses_the_parse_compiles_and_markdown_of_the_last():
    """What every tab of a lesson server computes identically is done once per process (more than half the CPU each
    arriving student cost the server): the lesson file's parse, its cells' compiles, and the rendering of each
    markdown text. The apps and kernels built from them still have cells of their own, and rendered markdown is the
    same as rendered afresh."""
    done = subprocess.run([sys.executable, "-c", SHARED, str(LESSONS[4])], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr
