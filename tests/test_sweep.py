"""digitcore.sweep: many learning rates in one batched run, each equal to its own separate run.

The data is synthetic (small, made here) so these tests need no data folder and take a second or two.
"""

import json
import math

import pytest
import torch

from digitcore import cli, sweep
from digitcore.chapter import batch_accuracy, mnist_loss
from digitcore.data import DigitSample
from digitcore.dataloader import DataLoader, DataLoaders
from digitcore.learner import Learner
from digitcore.models import linear_model
from digitcore.training import squared_error, threshold_accuracy

TOL = dict(rel_tol=1e-4, abs_tol=1e-5)


def fake_digits(n_train=300, n_valid=100, seed=0) -> DigitSample:
    """uint8 'digits': 3s ink the left half more, 7s the right half, plus noise; enough to learn."""
    gen = torch.Generator().manual_seed(seed)

    def make(n, left):
        img = torch.rand(n, 28, 28, generator=gen) * 120
        half = img[:, :, :14] if left else img[:, :, 14:]
        half += torch.rand(n, 28, 14, generator=gen) * 135
        return img.clamp(0, 255).to(torch.uint8)

    return DigitSample(make(n_train, True), make(n_train, False), make(n_valid, True), make(n_valid, False),
                       source="synthetic test digits", offline=True)


@pytest.fixture(scope="module")
def data():
    return fake_digits()


def separate_run(data, lr, bs, epochs, *, seed=0, loss="mnist_loss", shuffle=True, init="nn.Linear"):
    """The same training as one sweep member, alone: digitcore's Learner on the same batches and start."""
    train_x, train_y = data.train_xy()
    valid_x, valid_y = data.valid_xy()
    dls = DataLoaders(DataLoader.from_tensors(train_x, train_y, batch_size=bs, shuffle=shuffle, seed=seed),
                      DataLoader.from_tensors(valid_x, valid_y, batch_size=1024))
    model = linear_model(seed=seed)
    w, b = sweep.initial_weights(init, seed)
    with torch.no_grad():
        model.weight.copy_(w[None]), model.bias.copy_(b[None])
    loss_func, metric = (mnist_loss, batch_accuracy) if loss == "mnist_loss" else (squared_error, threshold_accuracy)
    learn = Learner(dls, model, loss_func=loss_func, metrics=metric, device="cpu")
    return learn.fit(epochs, lr)


def same_rows(member, rec):
    assert member.diverged_at == rec.diverged_at, (member.lr, member.diverged_at, rec.diverged_at)
    assert len(member.rows) == len(rec.rows), member.lr
    for ours, theirs in zip(member.rows, rec.rows):
        for key in ("train_loss", "valid_loss", "batch_accuracy"):
            assert math.isclose(ours[key], theirs[key], **TOL), (member.lr, ours["epoch"], key, ours[key], theirs[key])


@pytest.mark.parametrize("shuffle,init,lrs", [(True, "nn.Linear", [0.01, 0.1, 1.0, 10.0]),
                                               (False, "N(0,1)", [0.01, 0.1, 1.0])])
def test_each_member_equals_its_own_run(data, shuffle, init, lrs):
    """(With N(0,1) weights at lr 10 the runs are chaotic: float rounding grows to 3% by epoch 2.)"""
    res = sweep.sweep(data, lrs, bs=64, epochs=3, shuffle=shuffle, init=init)
    assert res.lrs == lrs and res.updates == 3 * math.ceil(600 / 64)
    finals = set()
    for lr in lrs:
        same_rows(res.member(lr), separate_run(data, lr, 64, 3, shuffle=shuffle, init=init))
        finals.add(round(res.member(lr).loss, 6))
    assert len(finals) > 1, "every learning rate ended the same: the members are not independent runs"


def test_diverging_members_do_not_poison_the_others(data):
    """Squared error diverges at large learning rates; the small ones must still equal their own runs, and equal
    what a sweep without the diverging ones gives."""
    lrs = [0.001, 0.01, 1e3, 1e6]
    res = sweep.sweep(data, lrs, bs=50, epochs=3, loss="squared")
    assert res.member(1e3).diverged_at and res.member(1e6).diverged_at, res.as_json()
    assert not res.member(0.001).diverged_at and not res.member(0.01).diverged_at
    calm = sweep.sweep(data, lrs[:2], bs=50, epochs=3, loss="squared")
    for lr in lrs:
        same_rows(res.member(lr), separate_run(data, lr, 50, 3, loss="squared"))
    for lr in lrs[:2]:
        assert res.member(lr).rows and all(math.isfinite(v) for r in res.member(lr).rows for v in r.values())
        assert math.isclose(res.member(lr).loss, calm.member(lr).loss, **TOL)
    frozen = res.weights(1e6)[-1]
    assert torch.isfinite(frozen).all(), "a diverged member's weights should be frozen at finite values"


def test_snapshots_replay_the_weights(data):
    res = sweep.sweep(data, [0.5, 2.0], bs=100, epochs=2)
    assert res.steps[0] == 0 and res.steps[-1] == res.updates and res.epoch_ends == [6, 12]
    assert res.snapshots.shape == (len(res.steps), 785, 2)
    w0, b0 = sweep.initial_weights("nn.Linear", 0)
    assert torch.equal(res.weights(0.5)[0, :784], w0) and float(res.weights(2.0)[0, 784]) == float(b0)
    assert not torch.equal(res.weights(0.5)[-1], res.weights(2.0)[-1])


def test_training_subset_and_start(data):
    res = sweep.sweep(data, [1.0], bs=32, epochs=1, n_train=100)
    assert res.settings["n_train"] == 100 and res.updates == 4
    untrained = res.member(1.0).start
    assert 0.0 <= untrained["saturated"] <= 1.0 and 0.0 <= untrained["batch_accuracy"] <= 1.0
    big = sweep.sweep(data, [1.0], bs=32, epochs=1, init="N(0,1)")
    assert big.member(1.0).start["saturated"] > untrained["saturated"], "N(0,1) weights should saturate more"


def test_bad_arguments_are_named(data):
    with pytest.raises(ValueError, match="loss"):
        sweep.sweep(data, [1.0], loss="l1")
    with pytest.raises(ValueError, match="at least one"):
        sweep.sweep(data, [])
    with pytest.raises(ValueError, match="'abc' is not a number"):
        sweep.parse_lrs("0.1,abc")
    with pytest.raises(ValueError, match="positive"):
        sweep.parse_lrs("0.1,-1")


def test_cli_json_is_one_object_per_lr(data, monkeypatch, capsys):
    monkeypatch.setattr("digitcore.data.load_sample", lambda path=None: data)
    assert cli.main(["sweep", "--lrs", "0.1,1,1e9", "--bs", "64", "--epochs", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [o["lr"] for o in out] == [0.1, 1.0, 1e9]
    assert all(set(o) == {"lr", "accuracy", "loss", "diverged_at"} for o in out)
    assert all(0 <= o["accuracy"] <= 1 for o in out if o["diverged_at"] is None)
    assert cli.main(["sweep", "--lrs", "1", "--epochs", "1"]) == 0
    assert "learning rates trained together" in capsys.readouterr().out
    assert cli.main(["sweep", "--lrs", "1,oops"]) == 2
    assert "'oops' is not a number" in capsys.readouterr().err


def test_a_repeated_sweep_is_trained_once_per_process(data):
    """Every tab of a lesson server asks for the same sweeps: the second ask gets the first result, while another
    sample, other settings, a progress callback or a time budget train afresh."""
    first = sweep.sweep(data, [0.1, 1.0], 64, 1, shuffle=False)
    assert sweep.sweep(data, [0.1, 1.0], 64, 1, shuffle=False) is first
    assert sweep.sweep(data, [0.1, 1.0], 64, 1, shuffle=True) is not first
    assert sweep.sweep(fake_digits(seed=1), [0.1, 1.0], 64, 1, shuffle=False) is not first
    assert sweep.sweep(data, [0.1, 1.0], 64, 1, shuffle=False, on_batch=lambda *a: None) is not first
    assert sweep.sweep(data, [0.1, 1.0], 64, 1, shuffle=False, budget_s=60.0) is not first


def test_a_sample_converts_its_images_once(data):
    x, y = data.train_xy()
    assert data.train_xy()[0] is x and data.train_xy()[1] is y and data.valid_xy()[0] is data.valid_xy()[0]
    assert x.dtype == torch.float32 and x.shape[1] == 784 and float(x.max()) <= 1.0 and y[0].item() == 1.0
