"""Graded inputs are new every run: no value from a lesson or an earlier run's feedback passes a later run.

The red team copied the expected values of one run's feedback into a lookup table and scored batch_accuracy
10/10 and mnist_loss 10/12 without implementing either: every run used seed 0, the lessons' seed, and some
inputs did not depend on the seed at all. Now each run draws a seed (never 0), grades.json records it, the
feedback names it, and --seed reproduces the run.
"""

import json
from pathlib import Path

import torch

from digitcore import chapter
from digitcore.exercises import CHECKS
from digitcore.grading.classroom import grade_class
from digitcore.grading.registry import checks_for
from digitcore.grading.runner import draw_seed

SOLUTION = (Path(__file__).resolve().parent.parent / "solutions" / "exercises.py").read_text()
FIRST, LATER = 11, 13
TABLED = {"mnist_loss": chapter.mnist_loss, "batch_accuracy": chapter.batch_accuracy}
VALUE_CHECKS = {"mnist_loss": {"values_1d", "values_2d", "int_targets", "random"},
                "batch_accuracy": {"values_2d", "values_1d", "threshold", "random", "int_targets"}}
LOOKUP_STUDENT = '''
import torch

TABLE = {table!r}


def _lookup(name, x):
    """The value tabulated for the nearest input seen in the feedback (of the same size)."""
    key = [round(v, 4) for v in x.reshape(-1).tolist()]
    rows = [r for r in TABLE[name] if len(r[0]) == len(key)] or TABLE[name]
    best = min(rows, key=lambda r: sum(abs(a - b) for a, b in zip(r[0], key)))
    return torch.tensor(best[1])


def mnist_loss(predictions, targets):
    return _lookup("mnist_loss", predictions)


def batch_accuracy(xb, yb):
    return _lookup("batch_accuracy", xb)
'''


def flat(x) -> list:
    if isinstance(x, torch.Tensor):
        return x.reshape(-1).tolist()
    if isinstance(x, dict):
        return [v for k in sorted(x) for v in flat(x[k])]
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in flat(item)]
    return [x]


def lookup_table(seed: int) -> dict:
    """What a student can copy from a run's feedback: each shown input, with the expected value."""
    table = {}
    for exercise, reference in TABLED.items():
        for c in CHECKS[exercise]:
            inp = c.make_input(seed)
            x, y = list(inp.values())[:2]
            table.setdefault(exercise, []).append(([round(v, 4) for v in x.reshape(-1).tolist()],
                                                   float(reference(x.clone(), y.clone()))))
    return table


def test_a_drawn_seed_is_never_the_lessons_and_never_the_same_twice():
    seeds = [draw_seed() for _ in range(200)]
    assert 0 not in seeds and len(set(seeds)) > 190


def test_every_input_depends_on_the_seed():
    """Before: mnist_loss's and batch_accuracy's fixed examples were the same for every seed."""
    for checks in checks_for(include_hidden=True).values():
        for c in checks:
            lesson, one, other = (flat(c.make_input(s)) for s in (0, FIRST, LATER))
            assert one != lesson and one != other, c.name


def test_a_lookup_table_from_one_run_scores_nothing_in_the_next_and_a_seed_reproduces_a_run(tmp_path):
    subs = tmp_path / "submissions"
    subs.mkdir()
    (subs / "copier.py").write_text(LOOKUP_STUDENT.format(table=lookup_table(FIRST)))
    (subs / "honest.py").write_text(SOLUTION)
    registry = {ex: CHECKS[ex] for ex in TABLED}

    def run(seed, name):
        grades = grade_class(subs, tmp_path / name, include_hidden=False, jobs=1, checks=registry, seed=seed,
                             time_limit=5.0)
        results = json.loads((tmp_path / name / "copier" / "results.json").read_text())
        passed = {(t["tags"][0], t["name"]) for t in results["tests"] if t["status"] == "passed"}
        return grades, passed

    def values_passed(passed):
        titles = {(ex, f"{ex}: {c.title}") for ex in TABLED for c in CHECKS[ex] if c.name in VALUE_CHECKS[ex]}
        return passed & titles

    grades, passed = run(FIRST, "first")
    assert len(values_passed(passed)) == sum(map(len, VALUE_CHECKS.values())), passed   # the table works there
    later, passed = run(LATER, "later")
    assert values_passed(passed) == set(), values_passed(passed)
    assert later["seed"] == LATER and later["students"]["honest"]["total"] == later["max"]["total"]
    assert f"seed {LATER}" in (tmp_path / "later" / "copier" / "feedback.md").read_text()
    assert f"seed {LATER}" in json.loads((tmp_path / "later" / "honest" / "results.json").read_text())["output"]
    again, _ = run(LATER, "again")
    assert again == later
