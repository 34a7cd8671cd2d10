"""Learner: recorder rows, callbacks in order, divergence that stops cleanly, and the book's results on real data."""

import io
import math

import pytest
import torch
from torch import nn

from digitcore import chapter as ch
from digitcore.data import load_sample
from digitcore.dataloader import DataLoader, DataLoaders
from digitcore.learner import Callback, CancelFitException, Learner, ProgressCallback, default_threads
from digitcore.models import linear_model, resnet18_digits, simple_net_model
from digitcore.reproduce import BOOK, train_book_model


def toy_dls(n=200, bs=32, shuffle=False):
    """Toy "digits": noise, with the first 20 pixels brighter when the label is 1."""
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (n, 1), generator=g).float()
    x = torch.rand(n, 784, generator=g) * 0.5
    x[:, :20] += 0.2 * y
    return DataLoaders(DataLoader.from_tensors(x, y, batch_size=bs, shuffle=shuffle, seed=0),
                       DataLoader.from_tensors(x[:64], y[:64], batch_size=bs))


def test_recorder_rows():
    learn = Learner(toy_dls(), linear_model(seed=0), device="cpu")
    rec = learn.fit(6, lr=0.5)
    assert rec is learn.recorder and rec.diverged_at is None and rec.message == ""
    assert [r["epoch"] for r in rec.rows] == [1, 2, 3, 4, 5, 6]
    assert list(rec.rows[0]) == ["epoch", "train_loss", "valid_loss", "batch_accuracy", "seconds"]
    assert all(isinstance(v, float) and math.isfinite(v) for r in rec.rows for k, v in r.items() if k != "epoch")
    assert rec.rows[-1]["train_loss"] < rec.rows[0]["train_loss"]
    assert rec.rows[-1]["batch_accuracy"] > rec.rows[0]["batch_accuracy"]
    assert all(r["seconds"] > 0 for r in rec.rows)


def test_recorder_values_are_the_weighted_means():
    dls = toy_dls(n=100, bs=32)  # valid: 64 rows in 2 batches
    model = linear_model(seed=1)
    learn = Learner(dls, model, device="cpu")
    learn.fit(1, lr=0.0)  # lr 0: the model stays as it is, so we can recompute everything
    x, y = dls.valid.tensors
    with torch.no_grad():
        preds = model(x)
        assert learn.recorder.rows[0]["valid_loss"] == pytest.approx(ch.mnist_loss(preds, y).item(), rel=1e-5)
        assert learn.recorder.rows[0]["batch_accuracy"] == pytest.approx(ch.batch_accuracy(preds, y).item())
        tx, ty = dls.train.tensors
        assert learn.recorder.rows[0]["train_loss"] == pytest.approx(ch.mnist_loss(model(tx), ty).item(), rel=1e-5)


def test_learner_equals_the_chapter_loop():
    dls = toy_dls()
    a, b = linear_model(seed=2), linear_model(seed=2)
    Learner(dls, a, device="cpu").fit(2, lr=0.5)
    params = list(b.parameters())
    for _ in range(2):
        ch.train_epoch(b, 0.5, params, dls.train)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


class Log(Callback):
    def __init__(self, name, order, log):
        self.name, self.order, self.log = name, order, log

    def before_fit(self, learn):
        self.log.append((self.name, "before_fit", learn.n_epoch, learn.n_iter))

    def before_epoch(self, learn):
        self.log.append((self.name, "before_epoch", learn.epoch))

    def after_batch(self, learn):
        assert learn.loss.dim() == 0
        self.log.append((self.name, "after_batch", learn.epoch, learn.iter))

    def after_epoch(self, learn):
        self.log.append((self.name, "after_epoch", learn.epoch, len(learn.recorder.rows)))

    def after_fit(self, learn):
        self.log.append((self.name, "after_fit"))


def test_callbacks_called_in_order():
    log = []
    learn = Learner(toy_dls(n=64, bs=32), linear_model(seed=0), cbs=[Log("late", 5, log), Log("early", -1, log)],
                    device="cpu")
    learn.fit(2, lr=0.1)
    expected = []
    for who in ("early", "late"):
        expected.append((who, "before_fit", 2, 2))
    for epoch in range(2):
        expected += [(w, "before_epoch", epoch) for w in ("early", "late")]
        for it in range(2):
            expected += [(w, "after_batch", epoch, it) for w in ("early", "late")]
        expected += [(w, "after_epoch", epoch, epoch + 1) for w in ("early", "late")]
    expected += [(w, "after_fit") for w in ("early", "late")]
    assert log == expected


def test_cancel_fit_from_a_callback():
    class StopAfterOne(Callback):
        def after_epoch(self, learn):
            raise CancelFitException()

    rec = Learner(toy_dls(), linear_model(seed=0), cbs=[StopAfterOne()], device="cpu").fit(5, lr=0.1)
    assert len(rec.rows) == 1 and rec.diverged_at is None


def test_progress_callback_writes_one_line_per_epoch():
    out = io.StringIO()
    Learner(toy_dls(), linear_model(seed=0), cbs=[ProgressCallback(file=out)], device="cpu").fit(3, lr=0.1)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3") and "batch_accuracy" in lines[0]


def mse_no_sigmoid(preds, targets):
    return ((preds - targets) ** 2).mean()


def test_divergence_stops_with_a_message():
    learn = Learner(toy_dls(), linear_model(seed=0), loss_func=mse_no_sigmoid, device="cpu")
    rec = learn.fit(20, lr=100.0)  # squared error without a sigmoid: overflows to inf, then nan
    assert rec.diverged_at is not None and 1 <= rec.diverged_at < 20
    assert len(rec.rows) == rec.diverged_at - 1  # the diverged epoch has no row
    assert rec.message.startswith(f"diverged at epoch {rec.diverged_at}: ")
    assert all(math.isfinite(r["train_loss"]) for r in rec.rows)


def test_nan_loss_from_any_loss_function_is_caught():
    calls = {"n": 0}

    def loss_that_turns_nan(preds, targets):
        calls["n"] += 1
        loss = ch.mnist_loss(preds, targets)
        return loss * float("nan") if calls["n"] > 10 else loss

    out = io.StringIO()
    rec = Learner(toy_dls(), linear_model(seed=0), loss_func=loss_that_turns_nan,
                  cbs=[ProgressCallback(file=out)], device="cpu").fit(5, lr=0.1)
    assert rec.diverged_at == 2 and len(rec.rows) == 1  # 7 train batches per epoch + 2 valid: nan in epoch 2
    assert "diverged at epoch 2" in out.getvalue()


def test_huge_lr_with_mnist_loss_saturates_without_crashing():
    rec = Learner(toy_dls(), simple_net_model(seed=0), device="cpu").fit(3, lr=1e6)
    assert rec.diverged_at is None or rec.message  # either way: no exception, a recorder to show


def test_any_optimizer_with_step_and_zero_grad_works():
    a, b = simple_net_model(seed=0), simple_net_model(seed=0)
    Learner(toy_dls(), a, opt_func=ch.BasicOptim, device="cpu").fit(2, lr=0.5)  # the chapter's own optimizer
    Learner(toy_dls(), b, device="cpu").fit(2, lr=0.5)  # the fast SGD: the same steps
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_models_shapes():
    x = torch.rand(5, 784)
    assert linear_model()(x).shape == (5, 1)
    assert simple_net_model()(x).shape == (5, 1)
    assert torch.equal(linear_model(seed=4).weight, linear_model(seed=4).weight)
    net = resnet18_digits(2, seed=0)
    assert net(x).shape == (5, 2) and net(x.view(5, 1, 28, 28)).shape == (5, 2)
    opt = ch.BasicOptim(net.parameters(), lr=0.01)  # one training step on a tiny batch
    loss = nn.functional.cross_entropy(net(x), torch.tensor([0, 1, 0, 1, 1]))
    loss.backward()
    opt.step()
    assert math.isfinite(loss.item()) and all(torch.isfinite(p).all() for p in net.parameters())


@pytest.fixture(scope="module")
def sample(shared_data):
    return load_sample(shared_data)


def test_linear_reproduces_the_book(sample):
    res = train_book_model(sample, "linear", seed=0, device="cpu")
    assert abs(res["accuracy"] - BOOK["linear"]) <= 0.005, res["accuracy"]


def test_simple_net_reproduces_the_book(sample):
    res = train_book_model(sample, "simple_net", seed=0, device="cpu")
    assert abs(res["accuracy"] - BOOK["simple_net"]) <= 0.005, res["accuracy"]


def test_one_thread_while_fitting_a_tiny_model_then_the_callers_setting_again():
    assert default_threads(linear_model()) == 1 and default_threads(simple_net_model()) is None
    seen = []

    class Threads(Callback):
        def after_batch(self, learn):
            seen.append(torch.get_num_threads())

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        Learner(toy_dls(), linear_model(seed=0), cbs=[Threads()], device="cpu").fit(1, 0.1)
        assert set(seen) == {1} and torch.get_num_threads() == 2
        seen.clear()
        Learner(toy_dls(), simple_net_model(seed=0), cbs=[Threads()], device="cpu").fit(1, 0.1)
        assert set(seen) == {2}  # bigger models keep the caller's setting
        seen.clear()
        Learner(toy_dls(), simple_net_model(seed=0), cbs=[Threads()], device="cpu", threads=1).fit(1, 0.1)
        assert set(seen) == {1} and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
