"""Nothing a student's process sends can abort grading or touch another student's row.

The worker's frames are plain data the trusted side rebuilds (plain.from_plain) and judges (runner.judge_record,
the exercises' judges, not_started, exercise_note, the report). Hypothesis generates hostile records and whole
responses: random JSON, huge, negative and overflowing tensor shapes, wrong dtypes, nested markers, NaN strings,
wrong types in every field. None may raise, and none may pass a check. Then the real attacks, graded as a class
beside an honest student: a worker that writes a tensor torch cannot even lay out ([0, 2**62, 2**62]) to the
result pipe, and a submission too large to send to the worker.
"""

import json
import math
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digitcore.grading import runner
from digitcore.grading.classroom import grade_class
from digitcore.grading.registry import checks_for
from digitcore.grading.report import SubmissionReport, feedback_markdown, gradescope_results
from digitcore.grading.sandboxed.plain import GarbledError, from_plain

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = (ROOT / "solutions" / "exercises.py").read_text()
REGISTRY = checks_for(include_hidden=True)
HUGE = [0, 2**62, 2**62]

# --- generated hostile plain data ------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=20), st.sampled_from(["nan", "inf", "-inf", "1e999", "__tensor__", "NaN"]))
dims = st.one_of(st.integers(-3, 6), st.sampled_from([2**31, 2**62, 2**63 - 1, 2**64]), st.floats(), st.text())
tensors = st.fixed_dictionaries({
    "dtype": st.one_of(st.sampled_from(["float32", "int64", "bool", "uint8", "complex64", "float128", ""]), scalars),
    "shape": st.one_of(st.lists(dims, max_size=5), st.just(HUGE), st.just([0, 2**40, 2**40]), scalars),
    "data": st.one_of(st.sampled_from(["", "AAAA", "AAAAAAAAAAA=", "!!", "AAAAAA=="]), scalars)})
zero_size = st.fixed_dictionaries({   # no bytes at all, and a shape whose strides overflow: the red team's frame
    "dtype": st.sampled_from(["float32", "int64", "bool", "float64"]), "data": st.just(""),
    "shape": st.lists(st.one_of(st.just(0), st.integers(2**20, 2**63)), min_size=2, max_size=4).map(lambda s: [0, *s])})
markers = st.sampled_from(["__tensor__", "__float__", "__tuple__", "__dict__", "__unplain__"])


def _nest(children):
    return st.one_of(st.lists(children, max_size=4), st.dictionaries(st.one_of(markers, st.text(max_size=8)), children,
                                                                    max_size=4),
                     st.builds(lambda k, v: {k: v}, markers, children))


plain = st.recursive(st.one_of(scalars, st.builds(lambda t: {"__tensor__": t}, st.one_of(tensors, zero_size))), _nest,
                     max_leaves=20)
statuses = st.one_of(st.sampled_from(["ok", "error", "timeout", "crashed", "garbled", "budget", "not_run"]), scalars,
                     st.lists(scalars, max_size=2))
records = st.one_of(plain, st.fixed_dictionaries({}, optional={
    "status": statuses, "obs": plain, "error": plain, "reference": plain, "refused": plain, "overflow": plain,
    "signal": plain, "exit_code": plain, "how": plain, "why": plain, "seconds": plain}))
responses = st.fixed_dictionaries({}, optional={
    "layers": plain, "fatal": plain, "info": st.one_of(plain, st.just({"status": "found"})), "results": plain,
    "forks": plain, "seconds": plain, "engine": st.one_of(st.none(), plain), "budget": plain, "load_guard": plain,
    "waited": plain})
every_check = [(c, c.make_input(1)) for cs in REGISTRY.values() for c in cs]


def test_a_tensor_torch_cannot_lay_out_is_garbled():
    """The red team's frame: before, torch raised RuntimeError (stride calculation overflowed) past the grader."""
    for shape in (HUGE, [0, 2**40, 2**40], [2**20, 2**20]):
        with pytest.raises(GarbledError):
            from_plain({"__tensor__": {"dtype": "float32", "shape": shape, "data": ""}})


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(plain)
def test_from_plain_only_ever_raises_garbled(value):
    try:
        from_plain(value)
    except GarbledError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(every_check), records, st.one_of(plain, st.just({"status": "found"})), plain)
def test_judge_record_never_raises_and_never_passes_garbage(check_input, rec, info, load_guard):
    check, inp = check_input
    verdict = runner.judge_record(check, inp, rec, info, 5.0, load_guard)
    assert verdict.passed is False
    assert type(verdict.message) is str and verdict.message
    runner.not_started(check, inp, rec)


class FakeZygote:
    """A zygote whose every answer is the generated response (what a hostile worker could make of one)."""

    def __init__(self, response):
        self.response = response

    def grade(self, req, deadline=None):
        return self.response


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(responses, st.dictionaries(st.sampled_from([c.name for c in REGISTRY["mnist_loss"]]), records, max_size=9))
def test_any_response_is_one_exercise_scoring_zero_and_a_report(tmp_path_factory, resp, results):
    if isinstance(resp.get("results"), dict) or "results" not in resp:
        resp = {**resp, "results": results}
    path = tmp_path_factory.getbasetemp() / "alice.py"
    path.write_text(SOLUTION)
    report = runner.grade_with(FakeZygote(resp), path, REGISTRY, seed=3)
    assert report.total == 0, [(c.name, v.message) for ex in report.exercises.values() for c, v in ex.checks if v.passed]
    feedback_markdown(report)
    json.dumps(gradescope_results(report), allow_nan=False)
    assert math.isfinite(report.seconds)


def test_a_student_whose_grading_raises_scores_zero_and_the_class_goes_on():
    report = runner.failed_report("bob", REGISTRY, RuntimeError("stride calculation overflowed"))
    assert isinstance(report, SubmissionReport) and report.total == 0
    assert "RuntimeError" in feedback_markdown(report) and "stride" not in feedback_markdown(report)


# --- the real attacks, graded as a class beside an honest student ------------------------------------------------

FORGER = '''
import json, os, stat, struct


def _forge(check):
    frame = {"kind": "result", "check": check, "status": "ok", "refused": [], "reference": [], "overflow": False,
             "seconds": 0.0, "obs": {"out": {"__tensor__": {"dtype": "float32", "shape": [0, 2**62, 2**62], "data": ""}},
                                     "out_type": "Tensor", "predictions_after": None, "targets_after": None}}
    data = json.dumps(frame).encode()
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, struct.pack(">I", len(data)) + data)
        except OSError:
            pass


def mnist_loss(predictions, targets):
    _forge("returns_scalar")
    return predictions.sigmoid().mean()
'''


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile class")
    subs, out = base / "submissions", base / "grades"
    subs.mkdir()
    (subs / "honest.py").write_text(SOLUTION)
    (subs / "forger.py").write_text(SOLUTION + FORGER)
    big = subs / "oversized"
    big.mkdir()
    for i in range(25):   # 2 MB files of control characters: 6 bytes each once packed, 300 MB in all
        (big / f"part{i:02d}.py").write_text('X = "' + "\x01" * ((2 << 20) - 16) + '"\n')
    shutil.copy(ROOT / "solutions" / "exercises.py", big / "solution.py")
    grades = grade_class(subs, out, include_hidden=True, jobs=1, time_limit=5.0)
    return grades, out


def test_the_forged_frame_fails_only_the_forger(hostile_class):
    grades, out = hostile_class
    assert (out / "gradebook.csv").exists() and (out / "forger" / "feedback.md").exists()
    assert grades["students"]["honest"]["total"] == grades["max"]["total"]
    assert grades["students"]["forger"]["mnist_loss"] < grades["max"]["mnist_loss"]
    assert grades["students"]["forger"]["apply_step"] == grades["max"]["apply_step"]
    forger = json.loads((out / "forger" / "results.json").read_text())
    assert "grader itself failed" not in json.dumps(forger)
    forged = next(t for t in forger["tests"] if t["name"] == "mnist_loss: returns a 0-dim float tensor")
    assert forged["status"] == "failed" and "could not be read back" in forged["output"]


def test_an_oversized_submission_is_the_students_failure(hostile_class):
    """Before: the job went over the worker's cap and every exercise said 'the grader itself failed ... please
    tell your instructor', while the grader built a 300 MB job per exercise."""
    grades, out = hostile_class
    assert grades["students"]["oversized"]["total"] == 0
    feedback = (out / "oversized" / "feedback.md").read_text()
    assert "too large to grade" in feedback and "tell your instructor" not in feedback


class DeadlineZygote(FakeZygote):
    """Answers every job with the same response and keeps the deadline each job was given."""

    def __init__(self, response):
        super().__init__(response)
        self.deadlines = []

    def grade(self, req, deadline=None):
        self.deadlines.append(deadline)
        return self.response


def test_time_spent_waiting_for_a_worker_is_given_back_to_the_student(tmp_path):
    """Each job says how long it waited for a worker to start ("waited"); the next exercise's deadline moves by it."""
    path = tmp_path / "alice.py"
    path.write_text(SOLUTION)
    zygote = DeadlineZygote({"waited": 50.0, "info": {"status": "missing"}})
    runner.grade_with(zygote, path, REGISTRY, seed=3, exercise_budget=1000.0, student_budget=100.0)
    steps = [b - a for a, b in zip(zygote.deadlines, zygote.deadlines[1:])]
    assert len(steps) == len(REGISTRY) - 1 and all(49.0 < step < 60.0 for step in steps), steps
