"""The chapter's reference functions against hand-computed values, and the book's baseline on the real data."""

import pytest
import torch

from digitcore import chapter as ch
from digitcore.data import load_sample
from digitcore.dataloader import DataLoader


@pytest.fixture(scope="module")
def sample(shared_data):
    return load_sample(shared_data)


def test_mnist_distance_by_hand_and_broadcasting():
    a = torch.zeros(28, 28)
    b = torch.zeros(28, 28)
    b[0, :4] = 1.0  # 4 pixels differ by 1 -> mean 4/784
    assert ch.mnist_distance(a, b).item() == pytest.approx(4 / 784)
    assert ch.mnist_distance(b, a).item() == pytest.approx(4 / 784)
    batch = torch.stack([a, b, 2 * b])  # (3, 28, 28) against one (28, 28): one distance per image
    d = ch.mnist_distance(batch, a)
    assert d.shape == (3,)
    assert torch.allclose(d, torch.tensor([0.0, 4 / 784, 8 / 784]))


def test_is_3_picks_the_closer_mean():
    mean3, mean7 = torch.zeros(28, 28), torch.ones(28, 28)
    x = torch.stack([torch.full((28, 28), 0.2), torch.full((28, 28), 0.9)])
    assert ch.is_3(x, mean3, mean7).tolist() == [True, False]


def test_pixel_similarity_matches_the_book_exactly(sample):
    res = ch.pixel_similarity(sample)
    assert round(res["threes"], 4) == 0.9168
    assert round(res["sevens"], 4) == 0.9854
    assert round(res["mean"], 4) == 0.9511


def test_f_and_mse():
    t = torch.tensor([0.0, 1.0, 2.0])
    assert ch.f(t, torch.tensor([1.0, 2.0, 3.0])).tolist() == [3.0, 6.0, 11.0]  # t^2 + 2t + 3
    assert ch.mse(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0])).item() == 5.0


def test_apply_step_follows_the_contract():
    time = torch.arange(0, 20).float()
    speed = torch.randn(20, generator=torch.Generator().manual_seed(0)) * 3 + 0.75 * (time - 9.5) ** 2 + 1
    params = torch.tensor([0.5, -1.0, 2.0]).requires_grad_()
    before = params.detach().clone()
    # expected by hand: grad of mean((a t^2 + b t + c - s)^2)
    err = before[0] * time**2 + before[1] * time + before[2] - speed
    grad = torch.stack([(2 * err * time**2).mean(), (2 * err * time).mean(), (2 * err).mean()])
    obj = params
    preds = ch.apply_step(params, time, speed, 1e-5)
    assert params is obj and params.is_leaf and params.requires_grad
    assert params.grad is None or torch.all(params.grad == 0)
    assert torch.allclose(preds.detach(), err + speed)  # predictions made before the step
    assert torch.allclose(params.detach(), before - 1e-5 * grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(5,), (5, 1)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.int64])
def test_mnist_loss_values_shapes_and_dtypes(shape, dtype):
    preds = torch.tensor([0.0, 2.0, -1.0, 3.0, -4.0]).view(shape)
    targets = torch.tensor([1, 0, 0, 1, 1]).to(dtype).view(shape)
    s = torch.sigmoid(torch.tensor([0.0, 2.0, -1.0, 3.0, -4.0]))
    expected = torch.stack([1 - s[0], s[1], s[2], 1 - s[3], 1 - s[4]]).mean()
    preds_before, targets_before = preds.clone(), targets.clone()
    loss = ch.mnist_loss(preds, targets)
    assert loss.dim() == 0 and loss.dtype == torch.float32
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert torch.equal(preds, preds_before) and torch.equal(targets, targets_before)


def test_mnist_loss_gradient():
    p = torch.tensor([0.5, -0.3, 2.0]).requires_grad_()
    t = torch.tensor([1.0, 0.0, 1.0])
    ch.mnist_loss(p, t).backward()
    s = torch.sigmoid(p.detach())
    ds = s * (1 - s)
    assert torch.allclose(p.grad, torch.stack([-ds[0], ds[1], -ds[2]]) / 3)


def test_sigmoid_and_batch_accuracy():
    x = torch.tensor([-2.0, 0.0, 3.0])
    assert torch.allclose(ch.sigmoid(x), torch.sigmoid(x))
    acts = torch.tensor([[0.9], [0.4], [-1.0], [-0.2]])  # predicted: 3, 3, 7, 7
    assert ch.batch_accuracy(acts, torch.tensor([[1], [0], [0], [0]])).item() == 0.75
    assert ch.batch_accuracy(acts.view(-1), torch.tensor([1.0, 1.0, 0.0, 1.0])).item() == 0.75


def test_init_params_linear1_simple_net():
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    w = ch.init_params((784, 1), generator=g1)
    assert w.shape == (784, 1) and w.requires_grad and w.is_leaf
    assert torch.equal(ch.init_params((784, 1), std=2.0, generator=g2).detach(), 2 * w.detach())
    x = torch.randn(4, 784)
    b = ch.init_params(1)
    assert torch.allclose(ch.linear1(x, w, b), x @ w + b)
    w1, b1, w2, b2 = torch.randn(784, 30), torch.randn(30), torch.randn(30, 1), torch.randn(1)
    expected = torch.clamp(x @ w1 + b1, min=0) @ w2 + b2
    assert torch.allclose(ch.simple_net(x, w1, b1, w2, b2), expected, atol=1e-4)


def test_calc_grad_accumulates_like_backward():
    x, y = torch.randn(8, 784), torch.randint(0, 2, (8, 1)).float()
    w, b = ch.init_params((784, 1)), ch.init_params(1)
    ch.calc_grad(x, y, lambda xb: ch.linear1(xb, w, b))
    g = w.grad.clone()
    ch.calc_grad(x, y, lambda xb: ch.linear1(xb, w, b))  # gradients add up until cleared
    assert torch.allclose(w.grad, 2 * g)


def _book_plain_loop(model, lr, params, batches):
    """The chapter's loop written out, to compare train_epoch with."""
    for xb, yb in batches:
        loss = ch.mnist_loss(model(xb), yb)
        loss.backward()
        for p in params:
            p.data -= p.grad * lr
            p.grad.zero_()


def test_train_epoch_equals_the_plain_loop():
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(100, 784, generator=g), torch.randint(0, 2, (100, 1), generator=g).float()
    batches = list(DataLoader.from_tensors(x, y, batch_size=16))
    w0, b0 = torch.randn(784, 1, generator=g), torch.randn(1, generator=g)
    w1, b1 = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    w2, b2 = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    ch.train_epoch(lambda xb: ch.linear1(xb, w1, b1), 0.5, [w1, b1], batches)
    _book_plain_loop(lambda xb: ch.linear1(xb, w2, b2), 0.5, [w2, b2], batches)
    assert not torch.equal(w1.detach(), w0)  # it trained
    assert torch.allclose(w1, w2) and torch.allclose(b1, b2)


def test_validate_epoch_and_basic_optim():
    x = torch.tensor([[1.0], [-1.0], [2.0], [-3.0]])
    y = torch.tensor([[1.0], [0.0], [0.0], [0.0]])
    dl = DataLoader.from_tensors(x, y, batch_size=2)  # batch accuracies 1.0 and 0.5
    assert ch.validate_epoch(lambda xb: xb, dl) == 0.75
    p = torch.tensor([1.0, 2.0]).requires_grad_()
    opt = ch.BasicOptim([p], lr=0.1)
    (p * torch.tensor([1.0, -2.0])).sum().backward()
    opt.step()
    assert torch.allclose(p.detach(), torch.tensor([0.9, 2.2]))
    opt.zero_grad()
    assert p.grad is None
