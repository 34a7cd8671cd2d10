"""Lesson 05 shows the code that ran: every code view is plots.code over functions and classes (their real source,
never a hand-typed listing), and each function or class shown is executed when the lesson runs."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "lessons" / "05_sgd.py"

# Runs the lesson as a script in a fresh process (no cache of an earlier test can skip a run), with plots.code
# recording what it is asked to show and a profiler recording every Python function that starts.
TRACE = """
import json, sys, threading
from digitcore import plots
sys.path.insert(0, sys.argv[1])
import importlib
lesson = importlib.import_module("05_sgd")
shown, ran, real = [], set(), plots.code

def recording(*parts, title=None):
    shown.append((title, parts))
    return real(*parts, title=title)

def profiler(frame, event, arg):
    if event == "call":
        ran.add(frame.f_code)

plots.code = recording
threading.setprofile(profiler)
sys.setprofile(profiler)
try:
    lesson.app.run()
finally:
    sys.setprofile(None)
    threading.setprofile(None)

def codes(obj):
    if isinstance(obj, type):
        return [f.__code__ for f in vars(obj).values() if hasattr(f, "__code__")]
    return [obj.__code__]

report = [{"title": title, "part": part if isinstance(part, str) else part.__qualname__,
           "typed": isinstance(part, str), "ran": not isinstance(part, str) and any(c in ran for c in codes(part))}
          for title, parts in shown for part in parts]
print("REPORT" + json.dumps(report))
"""


def _calls_to(tree: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func).endswith(name)]


def test_no_code_view_is_a_hand_typed_listing():
    source = LESSON.read_text()
    tree = ast.parse(source)
    views = _calls_to(tree, "plots.code")
    assert len(views) >= 12, f"lesson 05 shows its code through plots.code; found {len(views)} views"
    typed = [ast.unparse(a)[:60] for v in views for a in v.args if isinstance(a, (ast.Constant, ast.JoinedStr))]
    assert not typed, f"code views built from strings, not from what ran: {typed}"
    own_helpers = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)} & {"code_view", "source_block"}
    assert not own_helpers, f"the lesson's own code-view helpers take strings: {own_helpers}"
    assert "```python" not in source, "a listing typed into the lesson's markdown"


def test_every_code_view_shows_code_that_ran(tmp_path):
    env = {**os.environ, "DIGITCORE_DATA": "offline", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", TRACE, str(LESSON.parent)], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.split("REPORT", 1)[1])
    assert len(report) >= 20, f"expected the lesson's code views, got {report}"
    typed = [r["title"] for r in report if r["typed"]]
    assert not typed, f"code views showing typed text, not code: {typed}"
    idle = [f"{r['part']} (in '{r['title']}')" for r in report if not r["ran"]]
    assert not idle, f"code shown that never ran in the lesson: {idle}"
