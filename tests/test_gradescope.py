"""`digitcore gradescope`: the autograder bundle, and its run_autograder run in a simulated /autograder tree
with this machine's venv, on a correct, a buggy and a hostile submission."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from digitcore.cli import main

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "exercises.py"
BUGGY = ROOT / "tests" / "corpus" / "buggy" / "mnist_distance_no_abs.py"
FORGED = '{"score": 999, "tests": []}'
HOSTILE = """
import os
for place in ("/autograder/results/results.json", RESULTS):
    try:
        open(place, "w").write(FORGED)
    except OSError:
        pass
print(FORGED)
os._exit(0)
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    assert main(["gradescope", str(out)]) == 0
    return out


def test_the_bundle_has_what_gradescope_runs_and_no_answers(bundle):
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
    assert {"setup.sh", "run_autograder", "pyproject.toml", "digitcore/grading/runner.py",
            "checks/conftest.py"} <= set(names)
    assert any(n.startswith("checks/hidden/") for n in names)
    assert not any(n.startswith(("solutions/", "tests/", "lessons/", "benchmarks/")) or "__pycache__" in n for n in names)
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111


def test_a_bundle_is_never_written_over_something(bundle):
    assert main(["gradescope", str(bundle)]) == 2


def autograde(tree: Path, submission: Path, **env) -> dict:
    """run_autograder in a fresh simulated /autograder tree (its source/ from the bundle) on one submission."""
    if (tree / "submission").exists():
        shutil.rmtree(tree / "submission")
        shutil.rmtree(tree / "results")
    (tree / "submission").mkdir()
    shutil.copy(submission, tree / "submission" / "exercises.py")
    (tree / "results").mkdir()
    env = {**os.environ, "DIGITCORE_AUTOGRADER": str(tree), "DIGITCORE_AUTOGRADER_PYTHON": sys.executable, **env}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", str(tree / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=400, cwd=tree)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((tree / "results" / "results.json").read_text())


@pytest.fixture(scope="module")
def tree(bundle, tmp_path_factory):
    tree = tmp_path_factory.mktemp("autograder")
    with zipfile.ZipFile(bundle) as z:
        z.extractall(tree / "source")
    shutil.copy(tree / "source" / "run_autograder", tree / "run_autograder")
    return tree


def total(results: dict) -> tuple[float, float]:
    return results["score"], sum(t["max_score"] for t in results["tests"])


def test_run_autograder_gives_a_correct_submission_full_marks(tree):
    results = autograde(tree, SOLUTION)
    score, most = total(results)
    assert score == most > 50 and any("hidden" in t["tags"] for t in results["tests"])
    assert results["output_format"] == "text" and "Isolation:" in results["output"]


def test_run_autograder_gives_a_buggy_submission_part_marks(tree):
    score, most = total(autograde(tree, BUGGY))
    assert 0 < score < most


@pytest.mark.parametrize("sandbox", ["", "weak"])
def test_a_hostile_submission_gets_its_own_failure_and_no_forged_result(tree, sandbox):
    """It writes a forged results.json where the real one goes, prints one, and exits while it loads; also in
    the weak mode (no bubblewrap, as in a container that cannot make namespaces), where the write is refused by
    the audit hook only, and where the grader's own results.json, written after grading, would replace it."""
    results_file = tree / "results" / "results.json"
    (tree / "hostile.py").write_text(f"RESULTS = {str(results_file)!r}\nFORGED = {FORGED!r}\n" + HOSTILE)
    results = autograde(tree, tree / "hostile.py", DIGITCORE_SANDBOX=sandbox)
    assert results["score"] == 0 and results["tests"] and "999" not in results_file.read_text()
    assert "exit" in results["output"].lower()
