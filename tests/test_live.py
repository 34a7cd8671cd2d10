"""The training lab: the sweep behind the sliders (digitcore.lesson_kit.training), its charts on fixed axes
(lesson_kit.lab_charts), honest verdicts (digitcore.verdict), the weights replayed (digitcore.replay,
lesson_kit.weights); and the layers: what the lessons train and judge with imports no marimo. Synthetic digits
(tests/test_sweep.py's), so no data folder is needed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from test_sweep import fake_digits

from digitcore import lesson_kit, replay, training
from digitcore.lesson_kit.training import _eta
from digitcore.verdict import BASELINE, verdict


@pytest.fixture(scope="module")
def data():
    return fake_digits(n_train=400, n_valid=120, seed=3)


@pytest.fixture(scope="module")
def lab(data):
    return lesson_kit.lab_sweep(data, 64, 3, lrs=[0.001, 1.0, 1e5], budget_s=None)


def spec(chart) -> dict:
    return chart.to_dict()


def test_lab_sweep_is_cached_and_each_lr_is_a_run(data, lab):
    again = lesson_kit.lab_sweep(data, 64, 3, lrs=[0.001, 1.0, 1e5], budget_s=None)
    assert again is lab and again.cached
    run = training.member_run(lab, 1.0)
    assert run.rows == lab.member(1.0).rows and run.together == 3 and run.updates == lab.updates
    kind, text = verdict(run)
    assert "all 3 learning rates trained together" in text


def test_a_poor_run_is_never_a_green_success(data):
    """lr 0.001 from nn.Linear's start barely moves: the verdict must not be a success box."""
    sw = lesson_kit.lab_sweep(data, 64, 1, lrs=[0.001], budget_s=None)
    run = training.member_run(sw, 0.001)
    assert run.rows[-1]["batch_accuracy"] < BASELINE
    kind, text = verdict(run)
    assert kind != "success", text
    assert "below" in text or "barely moved" in text


def test_curves_keep_fixed_axes_and_their_own_legends(data, lab):
    charts = spec(lesson_kit.lab_curves(data, lab, 1.0))["hconcat"]
    domains = [c["encoding"]["y"]["scale"]["domain"] for c in charts]
    assert domains == [[0, 0.55], [0.4, 1.0]], domains
    for c in charts:
        assert c["encoding"]["color"]["legend"]["orient"] == "top-right"  # inside its own chart, not beside the other
        assert c["encoding"]["x"]["axis"]["format"] == "d"  # epochs are whole numbers: no 0.983808 ticks
    rows = charts[1]["data"]["values"] if "values" in charts[1].get("data", {}) else None
    text = json.dumps(spec(lesson_kit.lab_curves(data, lab, 1.0)))
    assert '"set": "train"' in text and '"set": "valid"' in text and '"epoch": 0' in text
    assert rows is None or any(r["epoch"] == 0 for r in rows)
    other = spec(lesson_kit.lab_curves(data, lab, 0.001))["hconcat"]
    assert [c["encoding"]["y"]["scale"]["domain"] for c in other] == domains, "axes moved between runs"


def test_one_epoch_chart_has_whole_epoch_ticks(data):
    sw = lesson_kit.lab_sweep(data, 64, 1, lrs=[1.0], budget_s=None)
    x = spec(lesson_kit.lab_curves(data, sw, 1.0))["hconcat"][0]["encoding"]["x"]
    assert x["axis"]["values"] == [0, 1] and x["scale"]["domain"] == [0, 1]


def test_lr_chart_marks_diverged_runs(data):
    sw = lesson_kit.lab_sweep(data, 64, 2, loss="squared", lrs=[0.001, 1e4], budget_s=None)
    assert sw.member(1e4).diverged_at and not sw.member(0.001).diverged_at
    text = json.dumps(spec(lesson_kit.lr_chart(sw, 0.001)))
    assert "diverged at epoch" in text and "trained" in text
    kind, msg = verdict(training.member_run(sw, 1e4))
    assert kind == "danger" and "Diverged" in msg


def test_update_curve_has_one_point_per_snapshot_and_saw_tooths_unshuffled(data):
    sw = lesson_kit.lab_sweep(data, 40, 2, shuffle=False, lrs=[0.01], budget_s=None)
    values = spec(lesson_kit.update_curve(data, sw, 0.01))
    flat = json.dumps(values)
    assert "not shuffled" in flat
    acc = replay.accuracy_at(*data.valid_xy(), sw.weights(0.01), "mnist_loss")
    assert len(acc) == len(sw.steps) == sw.updates + 1
    inside = acc[1: sw.epoch_ends[0] + 1]
    assert max(inside) - min(inside) > 0.1, f"an unshuffled epoch should swing the accuracy: {inside}"


def test_weights_view_and_confident_mistakes(data, lab):
    w = lab.weights(1.0)[0]  # untrained: plenty of mistakes
    mistakes = replay.confident_mistakes(data, w, k=3)
    acts = [abs(m["activation"]) for m in mistakes]
    assert len(mistakes) == 3 and acts == sorted(acts, reverse=True)
    for m in mistakes:
        assert (m["activation"] > 0) != (m["label"] == "3")  # really a mistake
        assert torch.allclose(m["votes"].sum() + w[784], torch.tensor(m["activation"]), atol=1e-4)
    html = lesson_kit.weights_view(data, lab, 1.0, 0).text
    assert "after 0 of" in html and html.count("data:image/png;base64") >= 1 + 2 * 3
    end = lesson_kit.weights_view(data, lab, 1.0, len(lab.steps) - 1).text
    assert f"after {lab.updates} of {lab.updates} updates" in end


def test_eta_respects_the_budget():
    assert "15 s budget" in _eta(10, 1000, 2.0, 15.0)  # 200 s at this rate: it will stop at the budget
    assert _eta(500, 1000, 2.0, 15.0) == "about 2 s left"
    assert _eta(0, 1000, 0.0, 15.0) == ""


def test_training_verdicts_and_replay_import_no_marimo(tmp_path):
    """The library's training runs, verdicts, loaders and replays work with marimo absent (a script, the grader, a
    notebook elsewhere): importing them, and training a run, must not import marimo."""
    code = ("import sys; sys.modules['marimo'] = None  # any 'import marimo' now raises ImportError\n"
            "sys.path.insert(0, 'tests')\n"
            "from test_sweep import fake_digits\n"
            "from digitcore import dataloader, replay, sweep, training, verdict\n"
            "data = fake_digits(n_train=60, n_valid=20)\n"
            "run = training.fit(data, 1.0, 32, 1, budget_s=None)\n"
            "sw = sweep.sweep((*data.train_xy(), *data.valid_xy()), [1.0], 32, 1)\n"
            "print(verdict.verdict(run)[0], len(replay.epoch_accuracies(data, sw, 1.0)['valid']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "2", out.stdout
