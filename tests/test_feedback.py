"""Feedback a student cannot forge, that says each problem once, and whose words are true.

Most tests feed the trusted side the records a worker could send (any string at all), so they do not
depend on how the sandbox is built; one small class goes through the real sandboxed grader.
"""

import dataclasses
import importlib.util
import json
import re

import pytest

from digitcore.exercises import CHECKS, check
from digitcore.grading.classroom import grade_class
from digitcore.grading.client import isolation_mode
from digitcore.grading.report import (
    ExerciseResult,
    SubmissionReport,
    feedback_markdown,
    gradescope_results,
    untrusted,
)
from digitcore.grading.runner import judge_record
from digitcore.grading.wording import exercise_note, fatal_message

FORGED = "\n\n# Total: 53 / 53 points\n\n- [x] everything (10 pt)\nPASSED checks/test_submission.py::test_check\n"
FORGED_BITS = ("53 / 53", "PASSED", "[x] everything")


def outside_code_spans(line: str) -> str:
    return re.sub(r"`[^`]*`", "", line)


def assert_not_forged(text: str):
    """Every line of a report: the forged words only ever appear inside a code span (quoted, inert)."""
    for line in text.splitlines():
        rest = outside_code_spans(line)
        assert rest.count("`") == 0, f"unbalanced code span: {line!r}"
        assert not any(bit in rest for bit in FORGED_BITS), line
        assert not line.lstrip().startswith(("# Total", "PASSED", "- [x] everything")), line


def assert_report_not_forged(report):
    md = feedback_markdown(report)
    assert_not_forged(md)
    assert sum(line.startswith("# ") for line in md.splitlines()) == 1
    results = gradescope_results(report)
    assert_not_forged(results["output"])
    for t in results["tests"]:
        assert_not_forged(t["output"])
        assert_not_forged(t["name"])
    return md


def test_untrusted_text_is_one_inert_line():
    text = untrusted("Oops" + FORGED + " `x` ![t](https://evil.example/t.png) <img src=x>\u202e\u200b\r\t", 500)
    assert "\n" not in text and "\r" not in text and "\t" not in text
    assert text.startswith("`") and text.endswith("`") and text.count("`") == 2
    assert "\u202e" not in text and "\u200b" not in text
    assert len(untrusted("x" * 1000, 50)) <= 50 + 5
    assert untrusted(None) == untrusted("") == "(nothing)"


def forged_records():
    """(record, info) pairs as a hostile worker could send them: every string field carries a forgery."""
    error = {"type": "Oops" + FORGED, "message": "boom" + FORGED, "file": "a.py" + FORGED, "line": 3,
             "code": "raise Oops" + FORGED}
    info = {"status": "found", "signature": "apply_step(params: '" + FORGED + "')"}
    return [
        ({"status": "error", "error": error}, info),
        ({"status": "error", "error": {**error, "type": "TypeError", "message": "missing argument" + FORGED}}, info),
        ({"status": "error", "error": {**error, "type": "SandboxRefusal"}}, info),
        ({"status": "error", "error": {**error, "type": "ReferenceUseError"}}, info),
        ({"status": "ok", "obs": None, "refused": ["writing /etc/x" + FORGED]}, info),
        ({"status": "ok", "obs": None, "reference": ["reading" + FORGED]}, info),
        ({"status": "crashed", "signal": "SIGSEGV" + FORGED}, info),
        ({"status": "garbled", "why": FORGED}, info),
        ({"status": "ok", "obs": {"steps": [{"out": {"__unplain__": "Weird" + FORGED}}]}}, info),
    ]


def test_forged_worker_strings_cannot_forge_feedback_or_results():
    checks = CHECKS["apply_step"]
    items = [(checks[0], judge_record(checks[0], checks[0].make_input(0), rec, info, 5.0))
             for rec, info in forged_records()]
    items += [(checks[0], judge_record(checks[0], checks[0].make_input(0), {"status": "ok", "obs": None},
                                       {"status": "found"}, 5.0, load_guard={k: [FORGED]}))
              for k in ("refused", "reference")]
    assert all(not v.passed for _, v in items)
    missing = ExerciseResult.zero("mnist_loss", CHECKS["mnist_loss"],
                    exercise_note("mnist_loss", {"status": "missing"}, ["/x/a" + FORGED + ".py"]))
    weird = ExerciseResult.zero("train_epoch", CHECKS["train_epoch"],
                  exercise_note("train_epoch", {"status": "not_callable", "type": "int" + FORGED}, ["/x/a.py"]))
    report = SubmissionReport(student="alice" + FORGED, exercises={
        "apply_step": ExerciseResult("apply_step", 0.0, 10.0, items), "mnist_loss": missing, "train_epoch": weird})
    assert_report_not_forged(report)
    fatal = SubmissionReport(student="bob", exercises={"apply_step": ExerciseResult("apply_step", 0.0, 10.0, items)})
    fatal.fatal = fatal_message({"kind": "error", "error": {**forged_records()[0][0]["error"]}}, 5.0)
    assert_report_not_forged(fatal)
    fatal.fatal = fatal_message({"kind": "error", "error": {**forged_records()[0][0]["error"], "type": "SyntaxError"}},
                                5.0)
    assert_report_not_forged(fatal)


# --- wrong words ------------------------------------------------------------------------------------------


def verdict_for(rec, info=None, exercise="apply_step"):
    c = CHECKS[exercise][0]
    return judge_record(c, c.make_input(0), rec, info or {"status": "found"}, 5.0)


@pytest.mark.parametrize("rec", [{"status": "crashed", "signal": 11}, {"status": "crashed", "signal": "SIGSEGV"}])
def test_a_segfault_is_named_as_a_crash_in_native_code(rec):
    message = verdict_for(rec).message
    assert "SIGSEGV" in message and "native code" in message
    assert "SIGKILL" not in message and "memory" not in message.split("SIGSEGV")[0]


def test_other_endings_are_named_for_what_they_are():
    assert "SIGKILL" in verdict_for({"status": "crashed", "signal": 9}).message
    assert "exit status 3" in verdict_for({"status": "crashed", "exit_code": 3}).message
    assert "SIGSYS" in verdict_for({"status": "crashed", "signal": 31}).message
    assert "SIGSEGV" in fatal_message({"kind": "crashed", "signal": 11}, 5.0)


def test_an_ending_is_read_from_data_never_from_text():
    """The client reports {"signal": N} or {"exit_code": N}; words in a record (the worker can send any) name nothing."""
    message = verdict_for({"status": "crashed", "how": "killed by SIGSEGV", "why": "exit status 3"}).message
    assert message == "your function ended the grading process unexpectedly"


def test_a_refused_look_is_not_called_using_the_reference():
    looked = verdict_for({"status": "ok", "obs": None, "reference": ["reading the project's own files (alice.py)"]})
    assert "implementation" not in looked.message
    assert "`reading the project's own files (alice.py)`" in looked.message and "scores zero" in looked.message
    called = verdict_for({"status": "error", "reference": ["digitcore.chapter.apply_step"],
                          "error": {"type": "ReferenceUseError", "message": "digitcore.chapter.apply_step is ..."}})
    assert "called the project's own implementation" in called.message


def test_refusals_while_the_file_loaded_are_not_forgotten():
    """The worker's `loaded` frame carries what the guards noticed while the file loaded; the client keeps it
    as the response's `load_guard`, and it fails every check of that exercise."""
    load_guard = {"refused": ["writing /etc/passwd"], "reference": []}
    for c in CHECKS["mnist_distance"]:
        v = judge_record(c, c.make_input(0), {"status": "ok", "obs": None, "refused": []}, {"status": "found"}, 5.0,
                         load_guard=load_guard)
        assert not v.passed and "while your file loaded" in v.message and "/etc/passwd" in v.message
    ok = judge_record(c, c.make_input(0), {"status": "ok", "obs": None}, {"status": "found"}, 5.0,
                      load_guard={"refused": [], "reference": []})
    assert "while your file loaded" not in ok.message


def load(source: str, tmp_path, name="student"):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"feedback_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DOES_NOTHING = '''
def apply_step(params, time, speed, lr):
    return time * 0

def train_epoch(model, lr, params, dl, loss_func=None):
    for xb, yb in dl:
        model(xb)
'''


def test_clearing_gradients_is_not_credited_to_a_function_that_computes_nothing(tmp_path):
    module = load(DOES_NOTHING, tmp_path)
    for exercise, name in (("apply_step", "grad_cleared"), ("train_epoch", "grads_cleared")):
        verdict = next(v for c, v in check(exercise, getattr(module, exercise)).checks if c.name == name)
        assert not verdict.passed and "credited once your function updates" in verdict.message


ZERO_FIRST = '''
import torch

def apply_step(params, time, speed, lr):
    params.grad = None
    preds = params[0] * time**2 + params[1] * time + params[2]
    ((preds - speed) ** 2).mean().backward()
    with torch.no_grad():
        params -= lr * params.grad
    return preds

def train_epoch(model, lr, params, dl, loss_func=None):
    for xb, yb in dl:
        for p in params:
            p.grad = None
        loss_func(model(xb), yb).backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
'''


def test_zero_grad_before_backward_is_called_correct_training(tmp_path):
    module = load(ZERO_FIRST, tmp_path)
    for exercise in ("apply_step", "train_epoch"):
        failed = [(c, v) for c, v in check(exercise, getattr(module, exercise)).checks if not v.passed]
        assert [c.name for c, _ in failed] == [c.name for c in CHECKS[exercise] if "cleared" in c.name]
        verdict = failed[0][1]
        assert verdict.tag == "cleared_before_backward"
        assert "right" in verdict.message and "after" in verdict.message
        assert "trains correctly" in verdict.hint and "leak" not in verdict.message
        assert "also uses this call's gradient" not in verdict.hint


INPLACE_SIGMOID = '''
import torch

def mnist_loss(predictions, targets):
    predictions.sigmoid_()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()
'''

SIGMOID_MSE = '''
def mnist_loss(predictions, targets):
    return ((predictions.sigmoid() - targets) ** 2).mean()
'''


def test_in_place_sigmoid_is_said_to_modify_the_inputs(tmp_path):
    result = check("mnist_loss", load(INPLACE_SIGMOID, tmp_path).mnist_loss)
    gradient = next(v for c, v in result.checks if c.name == "gradient")
    assert gradient.tag == "mutates_input" and "in place" in gradient.misconception
    assert "no_grad" not in gradient.hint and "p.data" not in gradient.hint


def test_sigmoid_then_squared_error_is_diagnosed(tmp_path):
    result = check("mnist_loss", load(SIGMOID_MSE, tmp_path, "mse").mnist_loss)
    tags = {v.tag for _, v in result.checks if not v.passed}
    assert tags == {"sigmoid_mse"}


# --- the same, through the sandbox: forged strings, unfinished files, a file that does not parse -----------

FORGE = '''
FORGED = {forged!r}

def mnist_loss(predictions, targets):
    raise type("Oops" + FORGED, (Exception,), {{}})("boom" + FORGED)

def apply_step(params: FORGED, time, speed, lr):
    raise TypeError("missing 1 required positional argument" + FORGED)

def train_epoch(model, lr, params, dl, loss_func=None):
    return type("Weird" + FORGED + "[x](https://evil.example/x.png) <img src=x>", (), {{}})()

def mnist_distance(a, b):
    return type("Odd`" + FORGED, (), {{}})()

def batch_accuracy(xb, yb):
    raise ValueError("*bold* **Total: 53 / 53** <script>alert(1)</script>" + FORGED)
'''.format(forged=FORGED)

PARTIAL = '''
import torch

def mnist_loss(predictions, targets):
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()

def apply_step(params, time, speed, lr):
    raise NotImplementedError
'''

SYNTAX = '''
def mnist_loss(predictions, targets)
    return predictions
'''

SNOOP = '''
try:   # another checkout's reference, at the top level; the refusal is caught, so the file loads
    open("/var/tmp/another checkout/solutions/exercises.py").read()
except Exception:
    pass

def mnist_distance(a, b):
    return (a - b).abs().mean((-1, -2))
'''

PEEK = '''
import os

def mnist_distance(a, b):
    try:   # another student's file, beside this one in the class folder (its path guessed right)
        open(os.path.join({folder!r}, "forge.py")).read()
    except Exception:
        pass
    return (a - b).abs().mean((-1, -2))
'''

SELF_KILL = '''
import faulthandler, os, signal

def mnist_distance(a, b):
    os.kill(os.getpid(), signal.SIGSEGV)   # a signal the worker sends itself
    return (a - b).abs().mean((-1, -2))

def mnist_loss(predictions, targets):
    faulthandler._sigsegv()                # raise(SIGSEGV)
    return predictions.sigmoid().mean()

def batch_accuracy(xb, yb):
    faulthandler._read_null()              # a real fault in native code
    return ((xb.sigmoid() > 0.5) == yb).float().mean()
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("feedback_class")
    subs, out = base / "submissions", base / "grades"
    subs.mkdir()
    for name, source in (("forge", FORGE), ("partial", PARTIAL), ("syntax", SYNTAX), ("snoop", SNOOP),
                         ("selfkill", SELF_KILL), ("peek", PEEK)):
        (subs / f"{name}.py").write_text(source.format(folder=str(subs.resolve())) if name == "peek" else source)
    reports = {}
    grade_class(subs, out, include_hidden=False, jobs=2, time_limit=5.0,
                progress=lambda r: reports.__setitem__(r.student, r))
    return out, reports


def test_forged_strings_from_the_sandbox_stay_quoted(graded):
    out, reports = graded
    assert reports["forge"].total == 0 or reports["forge"].total < reports["forge"].max_total / 2
    assert not reports["forge"].engine_errors
    assert_not_forged((out / "forge" / "feedback.md").read_text())
    results = json.loads((out / "forge" / "results.json").read_text())
    for t in results["tests"]:
        assert_not_forged(t["output"])


def test_each_missing_function_gets_one_line(graded):
    out, reports = graded
    md = (out / "partial" / "feedback.md").read_text()
    assert md.count("No function named") == 3, md
    assert md.count("not started yet") == 1, md
    assert reports["partial"].exercises["mnist_loss"].score == 10
    assert len(md.splitlines()) < 40, md


def test_a_syntax_error_is_said_once_at_the_top(graded):
    out, reports = graded
    md = (out / "syntax" / "feedback.md").read_text()
    assert md.count("SyntaxError") == 1, md
    assert md.index("SyntaxError") < md.index("## `")
    assert "line 2" in md
    results = json.loads((out / "syntax" / "results.json").read_text())
    assert json.dumps(results).count("SyntaxError") == 1


def test_a_refusal_while_the_file_loads_fails_every_check_of_the_exercise(graded):
    out, reports = graded
    ex = reports["snoop"].exercises["mnist_distance"]
    assert ex.score == 0 and len(ex.checks) > 1
    for _, verdict in ex.checks:
        assert "while your file loaded" in verdict.message and "exercises.py" in verdict.message, verdict.message
    md = (out / "snoop" / "feedback.md").read_text()
    assert md.count("while your file loaded") == 1, md   # one cause, said once


def test_a_signal_the_worker_sends_itself_ends_it_and_is_named(graded):
    """The worker is not PID 1 of its namespace (the kernel discards signals PID 1 sends itself): os.kill of
    itself and faulthandler's raise(SIGSEGV) crash it like a real fault, and all three are called SIGSEGV."""
    _, reports = graded
    for exercise in ("mnist_distance", "mnist_loss", "batch_accuracy"):
        ex = reports["selfkill"].exercises[exercise]
        assert ex.score == 0 and "not started" not in ex.note, (exercise, ex.note)
        for _, verdict in ex.checks:
            assert "SIGSEGV" in verdict.message and "native code" in verdict.message, (exercise, verdict.message)


def test_a_look_into_the_class_folder_is_called_that(graded):
    _, reports = graded
    if isolation_mode()["bwrap"]:   # the folder is not in the allow-list root: the look finds nothing to refuse
        assert reports["peek"].exercises["mnist_distance"].passed
        return
    for _, verdict in reports["peek"].exercises["mnist_distance"].checks:
        assert "while being checked" in verdict.message and "forge.py" in verdict.message, verdict.message
        assert "reading another student's work in the class folder (" in verdict.message, verdict.message
        assert "project" not in verdict.message, verdict.message


def test_the_isolation_line_is_built_here_and_written_to_every_report():
    """The worker only names layers; the line in reports is the grader's own words, a name it does not know quoted."""
    from digitcore.grading.wording import isolation_text

    full = ["bwrap", "fork", "setsid", "pidns", "netns", "private-tmpfs", "procfs", "rlimits", "setuid(nobody)",
            "no_new_privs", "seccomp", "audit-hook"]
    assert isolation_text(full) == "+".join(full)
    weak = isolation_text(["fork", "setsid", "rlimits", "audit-hook"])
    assert "weaker isolation: no allow-list root (bubblewrap)" in weak
    forged = isolation_text(["fork", "bwrap\n# Total: 53 / 53 points", "seccomp"])
    assert "\n" not in forged and "`bwrap # Total: 53 / 53 points`" in forged
    assert_not_forged(forged)
    report = SubmissionReport(student="a", isolation=weak, exercises={
        "batch_accuracy": ExerciseResult.zero("batch_accuracy", CHECKS["batch_accuracy"], "not run")})
    md = feedback_markdown(report).splitlines()
    assert [line for line in md if line.startswith("Isolation: ")] == [f"Isolation: {weak}"]
    output = gradescope_results(report)["output"].splitlines()
    assert [line for line in output if line.startswith("Isolation: ")] == [f"Isolation: {weak}"]


def test_the_isolation_line_reaches_the_files(graded):
    out, reports = graded
    line = f"Isolation: {reports['partial'].isolation}"
    assert "audit-hook" in line
    assert line in (out / "partial" / "feedback.md").read_text().splitlines()
    assert line in json.loads((out / "partial" / "results.json").read_text())["output"].splitlines()


def test_the_guard_names_what_a_hidden_path_is(tmp_path):
    from digitcore.grading.sandboxed.guards import PROJECT_FILES, Guard, SandboxRefusal

    cls, project = tmp_path / "class", tmp_path / "project"
    guard = Guard([[str(cls), "another student's work in the class folder"], [str(project), PROJECT_FILES]],
                  str(tmp_path / "w"), [])
    for args, words in (((str(cls / "bob.py"), "r", 0), "reading another student's work in the class folder (bob.py)"),
                        ((str(cls / "x.json"), "w", 0), "writing into another student's work in the class folder (x.json)"),
                        ((str(project / "chapter.py"), "r", 0), "reading the project's own files (chapter.py)")):
        with pytest.raises(SandboxRefusal):
            guard.audit("open", args)
        assert guard.reference[-1] == words


def test_a_forged_file_name_cannot_forge_feedback(tmp_path):
    """A submission folder's file names are the student's too: read errors quote them (no sandbox runs)."""
    from digitcore.grading.registry import checks_for
    from digitcore.grading.runner import grade_with

    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / ("big" + FORGED.replace("/", " ") + ".py")).write_bytes(b"#" * (3 << 20))
    report = grade_with(None, folder, checks_for(), student="alice")
    assert report.fatal and "larger than" in report.fatal and report.total == 0
    md = assert_report_not_forged(report)
    assert md.count("larger than") == 1


def test_our_own_words_have_balanced_backticks():
    """A quoted student string is safe only if the text around it pairs its own backticks."""
    from digitcore.exercises import _MODULES
    from digitcore.exercises.common import ERROR_HINTS
    from digitcore.grading.wording import NOT_STARTED, SIGNALS

    texts = [NOT_STARTED, *SIGNALS.values(), *(t for row in ERROR_HINTS for t in row[2:])]
    texts += [t for m in _MODULES.values() for pair in m.MISCONCEPTIONS.values() for t in pair]
    assert [t for t in texts if t.count("`") % 2] == []


def test_one_cause_that_fails_every_check_is_said_once():
    checks = CHECKS["batch_accuracy"]
    rec = {"status": "error", "error": {"type": "ValueError", "message": "boom", "file": "a.py", "line": 3}}
    items = [(c, judge_record(c, c.make_input(0), rec, {"status": "found"}, 5.0)) for c in checks]
    report = SubmissionReport(student="a", exercises={"batch_accuracy": ExerciseResult("batch_accuracy", 0, 10, items)})
    md = feedback_markdown(report)
    assert md.count("`ValueError: boom`") == 1 and "Every check failed the same way" in md
    assert all(c.title in md for c in checks)
    assert len(gradescope_results(report)["tests"]) == len(checks)


def test_the_not_started_rule_is_the_exercises_own():
    """A first check that returned None is "not started" by its exercise's rule, wherever its judge was written."""
    from digitcore.grading.runner import not_started

    check = dataclasses.replace(CHECKS["mnist_loss"][0], judge=lambda inp, obs: None)
    assert not_started(check, check.make_input(0), {"status": "ok", "obs": {"out": None}})
    assert not not_started(check, check.make_input(0), {"status": "ok", "obs": {"out": [0.5]}})
