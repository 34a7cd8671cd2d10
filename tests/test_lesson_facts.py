"""Statements the lessons make about numbers and PyTorch, recomputed here so that the prose stays true: the first
epoch from each start in lesson 05, the lab's smallest learning rate, the book's resnet18 steps in lesson 08,
what backward() fills in lesson 10, and the book's path.ls() in lesson 01."""

import inspect
import re
from pathlib import Path

import pytest
import torch
from lesson_module import lesson

LESSONS = Path(__file__).resolve().parent.parent / "lessons"


def text(stem: str) -> str:
    return " ".join((LESSONS / f"{stem}.py").read_text(encoding="utf-8").split())


@pytest.fixture(scope="module")
def sample():
    from digitcore.data import load_sample

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIGITCORE_DATA", "offline")
        yield load_sample()


@pytest.fixture(scope="module")
def l05():
    return lesson("05_sgd")


def test_05_in_the_books_order_nn_linear_is_the_slower_starter(l05, sample):
    runs = {(r["init"], r["shuffle"]): r for r in l05.first_epoch_runs(sample)}
    acc = {key: r["accuracy"] for key, r in runs.items()}
    assert f"{acc['nn.Linear', False]:.4f}" == "0.4956"  # the book's Learner prints 0.4956 after its first epoch
    assert acc["nn.Linear", False] < acc["N(0,1)", False]
    assert acc["nn.Linear", True] > acc["N(0,1)", True] + 0.1
    assert 0.4 <= runs["N(0,1)", False]["saturated"] <= 0.55 and runs["nn.Linear", False]["saturated"] == 0


def test_05_story_quotes_the_tables_numbers_and_names_both_seeds(l05, sample):
    runs = l05.first_epoch_runs(sample)
    story = l05.first_epoch_story(runs, hand_after_one=0.7304)
    for r in runs:
        assert f"{r['accuracy']:.4f}" in story
    assert "0.7304" in story and "seed 42" in story and "seed 0" in story


def test_05_no_longer_blames_saturation_for_the_books_slow_start():
    lesson_05 = text("05_sgd")
    assert "most activations are saturated" not in lesson_05
    assert "Why the hand-made model starts slowly" not in lesson_05
    readme = " ".join((LESSONS.parent / "README.md").read_text(encoding="utf-8").split())
    assert "why it starts slowly (its N(0, 1) weights saturate the sigmoid)" not in readme


def test_05_lab_at_lr_0_001_the_loss_barely_moves_but_the_accuracy_climbs(l05, sample):
    from digitcore import sweep

    slow, good = sweep.sweep(sample, [0.001, 1.0], 256, 5, seed=0).members  # the lab's starting settings
    start, end = slow.start, slow.rows[-1]
    quoted = (f"from {start['valid_loss']:.2f} to {end['valid_loss']:.2f} in 5 epochs, where learning rate 1 takes it "
              f"below 0.05), yet the accuracy climbs from {start['batch_accuracy']:.2f} to {end['batch_accuracy']:.2f}")
    assert quoted in text("05_sgd")
    assert good.rows[-1]["valid_loss"] < 0.05 and end["batch_accuracy"] - start["batch_accuracy"] > 0.4
    assert 0.001 in sweep.LAB_LRS and "the model barely moves" not in text("05_sgd")


def test_04_does_not_promise_lesson_05_random_batches():
    assert "random **mini-batch**" not in text("04_gradients_and_steps")
    assert "DataLoader(dset, batch_size=256) # as the book: in order" in text("05_sgd")


def test_08_the_books_resnet_epoch_has_193_steps(sample):
    n = len(sample.train_xy()[0])
    steps = n // 64  # fastai drops the last, partial training batch
    assert (n, steps) == (12_396, 193)
    assert f"all {n:,} training digits ({steps} steps at its batch size of 64" in text("08_bias_and_going_deeper")


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_10_backward_fills_grad_of_leaf_tensors_only():
    weights = torch.ones(3, requires_grad=True)
    hidden = weights * 2
    hidden.sum().backward()
    assert weights.grad is not None and hidden.grad is None
    weights2 = torch.ones(3, requires_grad=True)
    hidden2 = weights2 * 2
    hidden2.retain_grad()
    hidden2.sum().backward()
    assert hidden2.grad is not None
    q10 = lesson("10_questionnaire")
    q30 = next(q for q in q10.QUESTIONS if q["n"] == 30)["answer"]
    assert "leaf" in q30 and "retain_grad()" in q30


def test_07_says_the_kinks_move_by_adam():
    l07 = lesson("07_nonlinearity")
    assert "torch.optim.Adam" in inspect.getsource(l07.fit_relus)
    assert "It uses **Adam**" in text("07_nonlinearity") and "exactly as it would in a real network" not in text(
        "07_nonlinearity")


def test_01_quotes_the_books_notebook_listing():
    lesson_01 = text("01_pixels_and_tensors")
    assert "(#9) [Path('cleaned.csv'),...]" in lesson_01 and "(#3) [Path('valid')" not in lesson_01


BOOK_NAMES = ("untar_data", "`L`", "show_image", "DataLoaders", "Learner", "SGD", "learn.recorder.values", "cnn_learner",
              "fit_one_cycle")


def book_page() -> str:
    return (LESSONS.parent / "docs" / "book.md").read_text(encoding="utf-8")


def test_book_page_puts_every_fastai_name_beside_sections_that_exist():
    from test_questionnaire import headings

    rows = [line for line in book_page().splitlines() if line.startswith("| `")]
    first_columns = " ".join(row.split(" | ")[0] for row in rows)
    assert [name for name in BOOK_NAMES if name not in first_columns] == []
    named = re.findall(r'lesson (\d\d), "([^"]+)"', book_page())
    stems = {p.stem[:2]: p.stem for p in LESSONS.glob("[0-9][0-9]_*.py")}
    assert len(named) >= 6
    assert [(n, h) for n, h in named if h not in headings(stems[n])] == []
    for where in ("README.md", "lessons/01_pixels_and_tensors.py", "lessons/10_questionnaire.py"):
        assert "docs/book.md" in (LESSONS.parent / where).read_text(encoding="utf-8"), where


def test_08_and_the_book_page_state_the_resnet18_recipe_as_the_code_runs_it(sample):
    from torch import nn

    from digitcore import reproduce
    from digitcore.models import resnet18_digits

    lr_max = inspect.signature(reproduce.train_resnet18).parameters["lr_max"].default
    one_cycle = inspect.signature(torch.optim.lr_scheduler.OneCycleLR).parameters
    assert (lr_max, one_cycle["pct_start"].default, one_cycle["div_factor"].default,
            one_cycle["final_div_factor"].default) == (0.01, 0.3, 25.0, 1e4)
    assert "torch.optim.Adam" in inspect.getsource(reproduce.train_resnet18)
    steps = -(-len(sample.train_xy()[0]) // reproduce.BATCH_SIZE)
    net = resnet18_digits(2, seed=0)[1]
    conv1 = net.conv1
    assert (conv1.in_channels, conv1.out_channels, conv1.kernel_size, conv1.stride, conv1.padding) == (1, 64, (7, 7), (2, 2),
                                                                                                     (3, 3))
    assert isinstance(net.fc, nn.Linear) and (net.fc.in_features, net.fc.out_features) == (512, 2)
    lesson_08, page = text("08_bias_and_going_deeper"), " ".join(book_page().split())
    for said in ("`Conv2d(1, 64, 7, stride=2, padding=3)`", f"peak learning rate **{lr_max}**",
                 f"{reproduce.BATCH_SIZE}, shuffled, the last partial batch kept: {steps} steps", "`Linear(512, 2)`"):
        assert said in lesson_08, said
    for said in ("`Conv2d(1, 64, 7, stride=2, padding=3)`", f"peaking at **{lr_max}**", "`torch.optim.Adam`",
                 f"{reproduce.BATCH_SIZE} with it kept ({steps} steps)", "`Linear(512, 2)`"):
        assert said in page, said
