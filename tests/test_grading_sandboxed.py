"""digitcore.grading.sandboxed, what runs inside the sandbox: one package that needs nothing else of digitcore, and
the sandbox's private copy holds it whole (and nothing else of the project's code)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from digitcore.grading.client import private_copy

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "digitcore" / "grading" / "sandboxed"

# Every module of digitcore but the package itself (and the two packages around it) refuses to be imported.
IMPORT_ALL_BLOCKED = """
import importlib, pkgutil, sys

ALLOWED = ("digitcore", "digitcore.grading", "digitcore.grading.sandboxed")

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.startswith("digitcore.") and name not in ALLOWED and not name.startswith(ALLOWED[-1] + "."):
            raise ImportError(f"blocked: {name}")
        return None

sys.meta_path.insert(0, Blocker())
import digitcore.grading.sandboxed as package
names = [f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
for name in names:
    importlib.import_module(name)
print(" ".join(sorted(names)))
"""


def test_the_sandboxed_package_imports_nothing_else_from_digitcore():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", IMPORT_ALL_BLOCKED], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    modules = {name.rsplit(".", 1)[1] for name in done.stdout.split()}
    assert modules == {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}


def test_the_private_copy_holds_the_whole_package_and_no_other_code():
    folder, _ = private_copy([], None)
    try:
        copied = {p.relative_to(folder).as_posix() for p in Path(folder).rglob("*.py")}
    finally:
        shutil.rmtree(folder)
    package = {f"digitcore/grading/sandboxed/{p.name}" for p in PACKAGE.glob("*.py")}
    assert copied == package | {"digitcore/__init__.py", "digitcore/grading/__init__.py"}
