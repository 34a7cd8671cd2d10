"""Hidden checks leak nothing: not their inputs, not their names, not the grader's paths.

The red team's student raised an exception whose message carried everything it could find in its process:
the hidden checks' names, their inputs (the +-100 activations) and the absolute paths of the class folder, the
grades folder and the project, all of which came back in its own feedback. Now the hidden checks run in a child
of their own (the public child never holds them), a hidden check fails in the grader's words only, and under
the allow-list root the worker is never told a host path. This student raises such a message in every check,
public and hidden, most telling finds first (the grader keeps 300 characters of a message).
"""

import json
import re
import sys
from pathlib import Path

import pytest

from digitcore.grading.classroom import grade_class
from digitcore.grading.client import isolation_mode
from digitcore.grading.registry import checks_for

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = (ROOT / "solutions" / "exercises.py").read_text()
HIDDEN = {c.name: c for cs in checks_for(include_hidden=True).values() for c in cs if c.hidden}

SCAVENGER = '''
import base64, os, sys
import torch


def _walk(x, strings, tensors, depth=0):
    if depth > 8:
        return
    if type(x) is str:
        strings.append(x)
    elif type(x) is torch.Tensor:
        tensors.append(x)
    elif type(x) is dict:
        record = x.get("__tensor__")
        if type(record) is dict:   # a probe's input as the job carries it
            try:
                raw = bytearray(base64.b64decode(record["data"]))
                tensors.append(torch.frombuffer(raw, dtype=getattr(torch, record["dtype"])))
            except Exception:
                pass
        for key, value in list(x.items()):
            _walk(key, strings, tensors, depth + 1)
            _walk(value, strings, tensors, depth + 1)
    elif type(x) in (list, tuple):
        for value in x:
            _walk(value, strings, tensors, depth + 1)


def _finds():
    """Everything in reach: the callers' frames (the probe's input, the worker's job), the open descriptors."""
    strings, tensors = [], []
    frame = sys._getframe(1)
    while frame is not None:
        _walk(dict(frame.f_locals), strings, tensors)
        frame = frame.f_back
    for fd in range(64):
        try:
            strings.append(os.readlink(f"/proc/self/fd/{fd}"))
            strings.append(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
        except Exception:
            pass
    names = [s for s in strings if "hidden" in s and len(s) < 60]
    paths = [s for s in strings if s.startswith("/") and len(s) < 200 and not s.startswith(
        ("/usr", "/proc", "/grader", "/submission", "/lib", "/dev", "/memfd", "/tmp/digitcore-sandbox"))]
    big = [repr(t.tolist()) for t in tensors if t.numel() and t.is_floating_point() and float(t.abs().max()) >= 20]
    return names + paths + big + [repr(t.tolist()) for t in tensors if t.numel() and t.is_floating_point()]


def mnist_loss(predictions, targets):
    raise RuntimeError(" | ".join(_finds())[:2000])


def train_epoch(model, lr, params, dl, loss_func=None):
    raise RuntimeError(" | ".join(_finds())[:2000])
'''

@pytest.fixture(scope="module")
def leaked(tmp_path_factory):
    base = tmp_path_factory.mktemp("leak class")
    subs, out = base / "submissions", base / "grades"
    subs.mkdir()
    (subs / "scavenger.py").write_text(SOLUTION + SCAVENGER)
    grades = grade_class(subs, out, include_hidden=True, jobs=1, time_limit=5.0)
    texts = [(out / "scavenger" / "feedback.md").read_text(), (out / "scavenger" / "results.json").read_text()]
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:   # Python's own folder is in the allow-list root
        texts = [t.replace(prefix, "<python>") for t in texts]
    return grades, texts, subs, out


def hidden_values(seed: int) -> list[str]:
    """The hidden inputs as a student's repr (4 decimals, torch's print) or a list's repr would show them."""
    found = []
    for c in HIDDEN.values():
        inp = c.make_input(seed)
        tensors = [inp["predictions"]] if "predictions" in inp else [*inp["params"], *(x for b in inp["batches"] for x in b)]
        for t in tensors:
            for v in t.reshape(-1).tolist():
                if abs(v) >= 1 and round(v, 2) != v:   # not the round literals (1.5) the grader's titles may hold
                    found += [f"{v:.4f}", repr(v)]
    return found


def test_the_scavenger_really_looked(leaked):
    """The attack works where nothing seals it: its public checks come back with what it found there."""
    _, (feedback, _), _, _ = leaked
    assert re.search(r"your function raised `RuntimeError: .{40,}", feedback), feedback


def test_no_hidden_input_or_name_comes_back(leaked):
    grades, texts, _, _ = leaked
    for text in texts:
        for name in HIDDEN:
            assert name not in text
        for value in hidden_values(grades["seed"]):
            assert value not in text, value
        assert "-90." not in text and "-100.0" not in text


@pytest.mark.skipif(not isolation_mode()["bwrap"], reason="without the allow-list root the worker's audit hook needs "
                                                          "the paths it hides (docs/isolation.md)")
def test_no_host_path_comes_back(leaked):
    _, texts, subs, out = leaked
    for text in texts:
        for path in (subs.resolve(), out.resolve(), ROOT):
            assert str(path) not in text, path


def test_hidden_failures_are_in_the_graders_words(leaked):
    _, (_, results), _, _ = leaked
    for test in json.loads(results)["tests"]:
        if "hidden" in test["tags"]:
            assert test["output"].startswith("failed (hidden check: your function raised an exception)"), test
