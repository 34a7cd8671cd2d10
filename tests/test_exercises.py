"""The exercise checks, in-process: the corpus of correct and buggy submissions, feedback, garbage observations."""

import importlib.util
import inspect
import math
import re
from pathlib import Path

import pytest
import torch

from digitcore import exercises
from digitcore.exercises import CHECKS, Check, ExerciseResult, Verdict, check

CORPUS = Path(__file__).parent / "corpus"
CORRECT = sorted((CORPUS / "correct").glob("*.py"))
BUGGY = sorted((CORPUS / "buggy").glob("*.py"))
EXERCISES = list(CHECKS)


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"corpus_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_RESULTS: dict = {}


def check_cached(name: str, fn) -> ExerciseResult:
    """check(), run once per distinct source: the buggy files share their correct functions."""
    try:
        key = (name, inspect.getsource(fn))
    except (OSError, TypeError):
        return check(name, fn)
    if key not in _RESULTS:
        _RESULTS[key] = check(name, fn)
    return _RESULTS[key]


def declared(path: Path) -> tuple[str, str]:
    text = path.read_text()
    breaks = re.search(r"^BREAKS: (\w+)$", text, re.MULTILINE)
    tag = re.search(r"^MISCONCEPTION: (\w+)$", text, re.MULTILINE)
    assert breaks and tag, f"{path.name} lacks its BREAKS:/MISCONCEPTION: lines"
    return breaks.group(1), tag.group(1)


def test_corpus_is_big_enough():
    assert len(CORRECT) >= 8 and len(BUGGY) >= 15
    assert any("@app.function" in p.read_text() for p in CORRECT)
    assert {declared(p)[0] for p in BUGGY} == set(EXERCISES)


def test_every_exercise_is_worth_ten_points_and_starts_with_a_type_check():
    for name, checks in CHECKS.items():
        assert math.isclose(sum(c.points for c in checks), 10.0), name
        assert len({c.name for c in checks}) == len(checks), name
        assert all(c.exercise == name and not c.hidden for c in checks)
        assert any(w in checks[0].title for w in ("returns", "give")), checks[0].title


def test_probes_live_in_the_probes_module():
    from digitcore.exercises import probes

    for checks in CHECKS.values():
        for c in checks:
            assert getattr(probes, c.probe.__name__) is c.probe


def test_probes_import_nothing_but_torch():
    source = (Path(exercises.__file__).parent / "probes.py").read_text()
    imports = re.findall(r"^\s*(?:from|import) (\S+)", source, re.MULTILINE)
    assert set(imports) <= {"torch"}, imports


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.stem)
def test_correct_submissions_score_full_marks(path):
    module = load(path)
    for name in EXERCISES:
        result = check(name, getattr(module, name))
        failed = [(c.name, v.message) for c, v in result.checks if not v.passed]
        assert result.passed and result.score == result.max_score == 10.0, (name, failed)
        assert "all" in result.markdown()


def hidden_only(path: Path) -> bool:
    """A bug only the instructor's hidden checks catch (the file says `CAUGHT BY: hidden checks`)."""
    return "\nCAUGHT BY: hidden checks\n" in path.read_text()


def hidden_verdicts(exercise: str, fn):
    from digitcore.exercises import _roundtrip
    from digitcore.grading.registry import load_hidden

    return [(c, c.judge(c.make_input(0), _roundtrip(c.probe(fn, _roundtrip(c.make_input(0))))))
            for c in load_hidden()[exercise]]


@pytest.mark.parametrize("path", BUGGY, ids=lambda p: p.stem)
def test_buggy_submissions_lose_marks_on_their_exercise_only(path):
    broken, tag = declared(path)
    module = load(path)
    for name in EXERCISES:
        result = check(name, getattr(module, name)) if name == broken else check_cached(name, getattr(module, name))
        if name == broken and hidden_only(path):
            assert result.score == 10.0, "a bug for the hidden checks must pass the public ones"
            result.checks = hidden_verdicts(name, getattr(module, name))
            result.score = sum(c.points for c, v in result.checks if v.passed)
            result.max_score = 10.0 + sum(c.points for c, _ in result.checks)
        if name != broken:
            failed = [(c.name, v.message) for c, v in result.checks if not v.passed]
            assert result.score == 10.0, (name, failed)
            continue
        assert result.score < result.max_score
        tags = [v.tag for _, v in result.checks if not v.passed]
        assert tag in tags, f"expected misconception {tag}, diagnosed {tags}: " + "; ".join(
            v.message for _, v in result.checks if not v.passed)
        first = next(v for _, v in result.checks if not v.passed)
        assert first.message and "Traceback" not in result.markdown()
        diagnosed = next(v for _, v in result.checks if v.tag == tag)
        assert diagnosed.misconception and diagnosed.hint


def test_feedback_names_the_property_the_input_and_expected_vs_got():
    def mnist_loss(predictions, targets):
        return torch.where(targets == 1, 1 - predictions, predictions).mean()

    result = check("mnist_loss", mnist_loss)
    verdict = {c.name: v for c, v in result.checks}["values_1d"]
    assert not verdict.passed
    assert "predictions=tensor([0.9, -2, 0.1, 3, -0.5])" in verdict.message
    assert "expected" in verdict.message and "got" in verdict.message
    assert verdict.misconception == "did you apply sigmoid to the predictions first?"
    text = result.markdown()
    assert "sigmoid" in text and "Hint:" in text


def test_not_started():
    def mnist_loss(predictions, targets):
        raise NotImplementedError

    def apply_step(params, time, speed, lr):
        pass

    for name, fn in (("mnist_loss", mnist_loss), ("apply_step", apply_step)):
        result = check(name, fn)
        assert result.not_started and result.score == 0
        assert "not started" in result.markdown()

    def train_epoch(model, lr, params, dl, loss_func=None):
        """TODO"""

    assert check("train_epoch", train_epoch).not_started


def test_forgotten_return_is_not_confused_with_not_started():
    def apply_step(params, time, speed, lr):
        a, b, c = params
        preds = a * time**2 + b * time + c
        ((preds - speed) ** 2).mean().backward()
        params.data -= lr * params.grad
        params.grad = None

    result = check("apply_step", apply_step)
    assert not result.not_started and 0 < result.score < 10
    assert "return" in result.checks[0][1].message


def test_student_exceptions_become_one_line_with_the_line_number():
    def batch_accuracy(xb, yb):
        preds = xb.sigmoid()
        return preds > undefined_name  # noqa: F821

    result = check("batch_accuracy", batch_accuracy)
    message = result.checks[0][1].message
    line = batch_accuracy.__code__.co_firstlineno + 2
    assert "NameError" in message and f"line {line} of your code" in message
    assert "\n" not in message and "Traceback" not in result.markdown()


def test_keyboard_interrupt_propagates_other_base_exceptions_do_not():
    def stop(*args):
        raise KeyboardInterrupt

    def leave(*args):
        raise SystemExit(3)

    with pytest.raises(KeyboardInterrupt):
        check("mnist_distance", stop)
    assert check("mnist_distance", leave).score == 0


def test_missing_or_not_callable():
    assert check("mnist_loss", None).score == 0
    result = check("mnist_loss", 42)
    assert "int" in result.checks[0][1].message
    with pytest.raises(ValueError):
        check("no_such_exercise", len)


def test_an_object_that_equals_everything_fails():
    class Liar:
        def __eq__(self, other):
            return True

        def __float__(self):
            return 0.5

    result = check("mnist_loss", lambda p, t: Liar())
    assert result.score == 0
    assert "Liar" in result.checks[0][1].message


GARBAGE = [None, 3, "x", [], {}, {"__unplain__": "Liar"}, {"out": {"__unplain__": "Liar"}},
           {"out": float("nan")}, {"out": torch.tensor(float("nan"))}, {"out": torch.ones(3)},
           {"out": torch.tensor([[1.0]])}, {"steps": "nope"}, {"steps": [{"out": None}]},
           {"steps": [{"params": torch.ones(3), "grad": "x", "is_leaf": "yes"}]},
           {"runs": [{"params": [1, 2]}]}, {"runs": [{}] * 5}, {"runs": [None]},
           {"runs": [{"out": None, "params": ["a", "b"], "grads": 7, "is_leaf": [1], "requires_grad": []}]}]


@pytest.mark.parametrize("name", EXERCISES)
def test_judges_survive_garbage_observations(name):
    for c in CHECKS[name]:
        inp = c.make_input(0)
        for obs in GARBAGE:
            verdict = c.judge(inp, obs)
            assert isinstance(verdict, Verdict) and verdict.passed is False, (c.name, obs)
            assert verdict.message and "Traceback" not in verdict.message


def test_hidden_check_messages_reveal_no_expected_values():
    from digitcore.exercises import mnist_loss

    inp = mnist_loss.input_random(7)
    expected = mnist_loss.expected_loss(inp).item()
    verdict = mnist_loss.judge_value(inp, {"out": torch.tensor(0.123)}, title="hidden", hidden=True)
    assert not verdict.passed
    assert f"{expected:.4g}" not in verdict.message and "expected" in verdict.message


def test_hidden_checks_are_well_formed():
    files = sorted((Path(__file__).parent.parent / "checks" / "hidden").glob("*.py"))
    assert files
    for path in files:
        hidden = load(path).HIDDEN_CHECKS
        assert hidden and all(isinstance(c, Check) and c.hidden and c.exercise in CHECKS for c in hidden)
        solution = load(Path(__file__).parent.parent / "solutions" / "exercises.py")
        for c in hidden:
            obs = exercises._roundtrip(c.probe(getattr(solution, c.exercise), exercises._roundtrip(c.make_input(0))))
            assert c.judge(c.make_input(0), obs).passed, c.name
            for garbage in GARBAGE:
                verdict = c.judge(c.make_input(0), garbage)
                assert isinstance(verdict, Verdict) and verdict.passed is False, (c.name, garbage)


def test_inputs_are_deterministic_and_seeded():
    def flat(x):
        if isinstance(x, torch.Tensor):
            return [x]
        if isinstance(x, dict):
            return [t for v in x.values() for t in flat(v)]
        if isinstance(x, (list, tuple)):
            return [t for v in x for t in flat(v)]
        return [x]

    for checks in CHECKS.values():
        for c in checks:
            a, b = flat(c.make_input(0)), flat(c.make_input(0))
            assert len(a) == len(b) and all(
                torch.equal(x, y) if isinstance(x, torch.Tensor) else x == y for x, y in zip(a, b)), c.name
    from digitcore.exercises import mnist_loss

    assert not torch.equal(mnist_loss.input_random(0)["predictions"], mnist_loss.input_random(1)["predictions"])


def test_result_markdown_for_partial_credit():
    def mnist_distance(a, b):
        return (a - b).mean((-1, -2))

    result = check("mnist_distance", mnist_distance)
    assert isinstance(result, ExerciseResult) and 0 < result.score < 10
    text = result.markdown()
    assert "absolute value" in text and "Hint:" in text


def test_common_pytorch_errors_come_with_a_hint():
    def apply_step(params, time, speed, lr):
        a, b, c = params
        preds = a * time**2 + b * time + c
        ((preds - speed) ** 2).mean().backward()
        params -= lr * params.grad
        params.grad = None
        return preds

    result = check("apply_step", apply_step)
    verdict = result.checks[0][1]
    assert "RuntimeError" in verdict.message and verdict.tag == "in_place_in_graph"
    assert "torch.no_grad()" in result.markdown()


def test_train_epoch_names_the_loss_it_hands_over():
    """The loss_func train_epoch's checks pass is a logistic loss (probes.TRAIN_LOSSES), not mnist_loss: the
    words after a failed check say which one it was."""
    import torch

    from digitcore.exercises import check

    def no_update(model, lr, params, dl, loss_func=None):
        for xb, yb in dl:
            loss_func(model(xb), yb).backward()
            for p in params:
                p.grad = None

    failed = [v.message for _, v in check("train_epoch", no_update).checks if not v.passed]
    messages = [m for m in failed if "after one epoch" in m]
    assert messages, "no check described the epoch it ran"
    assert not [m for m in messages if "mnist_loss" in m], messages
    assert any("logistic" in m for m in messages), messages
    assert torch.is_grad_enabled()


def test_the_exercise_doc_describes_every_hidden_check_and_links_the_grading_reports():
    """docs/exercises.md says what each shipped hidden check tries (by the words of its title, without its
    expected values) and points to docs/grading-reports.md for what class grading writes."""
    import re
    from pathlib import Path

    from digitcore.grading.registry import checks_for

    root = Path(__file__).resolve().parent.parent
    text = " ".join((root / "docs" / "exercises.md").read_text(encoding="utf-8").split())
    hidden = [c for cs in checks_for(True, root / "checks" / "hidden").values() for c in cs if c.hidden]
    assert len(hidden) >= 3
    for c in hidden:
        words = re.sub(r"^hidden: ", "", c.title)
        assert words in text, f"docs/exercises.md does not describe the hidden check {c.exercise}.{c.name} ({words})"
    assert "](grading-reports.md)" in text


def test_one_result_model_for_the_lessons_and_the_grader():
    """check() and the grader build the same dataclass: the lessons' callout and the grader's reports read one model."""
    from digitcore.grading import report, runner

    assert ExerciseResult is report.ExerciseResult
    graded = runner.failed_report("bob", {"mnist_loss": CHECKS["mnist_loss"]}, RuntimeError("x"))
    assert type(graded.exercises["mnist_loss"]) is type(check("mnist_loss", None)) is ExerciseResult
    assert graded.exercises["mnist_loss"].markdown().startswith("**`mnist_loss`: 0/10**, 0 of ")
