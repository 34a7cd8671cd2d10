"""Lessons 07-09: what they compute and claim in their text, checked (collapse, chain rule, stall diagnosis, dead
units, resnet18's layer count, the wide-vs-deep nets' sizes, the ten-digit lab's chart and time budget)."""

import pytest
import torch
from lesson_module import lesson
from torch import nn


@pytest.fixture(scope="module")
def l07():
    return lesson("07_nonlinearity")


@pytest.fixture(scope="module")
def sample(offline_env):
    from digitcore.data import load_sample

    return load_sample()


@pytest.fixture(scope="module")
def offline_env():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIGITCORE_DATA", "offline")
        yield


def test_07_two_layers_collapse_into_one_exactly(l07):
    torch.manual_seed(0)
    first, second = nn.Linear(784, 30), nn.Linear(30, 1)
    x = torch.rand(16, 784)
    with torch.no_grad():
        assert torch.allclose(l07.collapse(first, second)(x), second(first(x)), atol=1e-5)


def test_07_chain_rule_by_hand_is_autograd(l07):
    for x in (-1.0, 0.2, 1.5):
        table, by_hand, autograd = l07.chain_rule_steps(x)
        assert by_hand == pytest.approx(autograd, abs=1e-5), x
        assert len(table) == 4
    assert l07.chain_rule_steps(-1.0)[2] == 0.0  # a <= 0: the ReLU passes no gradient


def test_07_a_stall_is_named_by_what_is_measured(l07, sample):
    """At lr 30 the page says 'saturated' because the outputs are, and reports dead units separately; a model
    without a ReLU has no dead units to report; a slow run is neither."""
    from digitcore.models import simple_net_model

    stuck = l07.train_run("simple_net", lambda: simple_net_model(seed=0), sample, 1, 30.0)
    found = l07.stall_diagnosis(stuck["model"], sample)
    assert found["saturated"] >= 0.99 and "saturated" in found["verdict"] and found["dead"] is not None
    stack = l07.train_run("two linear, no ReLU", lambda: l07.two_linear_model(seed=0), sample, 1, 30.0)
    found = l07.stall_diagnosis(stack["model"], sample)
    assert found["dead"] is None and "saturated" in found["verdict"] and "dead" not in found["verdict"]
    slow = l07.train_run("simple_net", lambda: simple_net_model(seed=0), sample, 1, 0.01)
    assert "neither" in l07.stall_diagnosis(slow["model"], sample)["verdict"]


def test_07_dead_units_are_units_silent_on_every_digit(l07):
    from digitcore import chapter

    net = l07.FunctionNet(chapter.simple_net, seed=0)
    x = torch.rand(50, 784)
    with torch.no_grad():
        net.b1[:5] = -1000.0  # five units that can never fire
        net.b1[5:] = 1000.0  # and 25 that always do
    h = l07.hidden_activations(net, x)
    assert h.shape == (50, 30) and int((h == 0).all(dim=0).sum()) == 5
    assert l07.hidden_weights(net).shape == (30, 784)


def test_08_resnet18_is_17_convolutions_and_one_linear_layer():
    l08 = lesson("08_bias_and_going_deeper")
    net = l08.resnet18_digits(n_out=2, seed=0)
    convs = [n for n, m in net.named_modules() if isinstance(m, nn.Conv2d)]
    main = [n for n in convs if "downsample" not in n]
    assert len(main) == 17 and len(convs) - len(main) == 3  # the three 1x1 shortcut convolutions
    assert sum(isinstance(m, nn.Linear) for m in net.modules()) == 1
    stages = l08.resnet_stages(net).set_index("stage")
    assert stages.loc["layer4", "parameters"] > stages["parameters"].sum() / 2  # most parameters: the last stage
    assert stages.loc["layer4", "activation shape"] == "(8, 512, 1, 1)"  # smallest in space, widest in channels


def test_08_wide_and_deep_nets_have_the_sizes_the_text_gives():
    l08 = lesson("08_bias_and_going_deeper")
    wide, deep = l08.fit_curve(83, 1, steps=1), l08.fit_curve(10, 3, steps=1)
    assert (wide["parameters"], wide["activations"]) == (250, 167)
    assert (deep["parameters"], deep["activations"]) == (251, 61)


def test_09_chart_whole_epochs_and_a_ghost_of_the_previous_run():
    l09 = lesson("09_further_research")
    row = {"epoch": 1, "train_loss": 0.5, "valid_loss": 0.4, "accuracy": 0.9}
    spec = l09.ten_digit_chart([row], [row, {**row, "epoch": 2, "accuracy": 0.95}], 1, "linear").to_dict()
    acc = spec["hconcat"][1]["layer"]
    x = acc[1]["encoding"]["x"]
    assert x["axis"]["format"] == "d" and x["scale"]["domain"] == [1, 2]  # never 0.983808 .. 1.000000
    assert acc[0]["mark"]["strokeDash"] == [4, 3]  # the previous run, dashed grey
    lo, hi = acc[1]["encoding"]["y"]["scale"]["domain"]
    assert lo < 0.9 and hi > 0.95  # the y axis spans both runs


def test_09_time_budget_stops_between_epochs(offline_env, monkeypatch):
    from digitcore.data import load_mnist

    l09 = lesson("09_further_research")
    monkeypatch.setattr(l09, "BUDGET_S", 0.0)
    run = l09.train_ten(load_mnist(), "linear (784 → 10)", 1000, 5, 0.3)
    assert len(run["rows"]) == 1 and run["stopped_after"] == 1 and not run["message"]


def test_07_the_books_runs_train_once_per_data_source_even_from_two_tabs_at_once(monkeypatch):
    """Lesson 07's two 40-epoch runs are shared by every tab of a server (tabs are threads of one process): each
    (run, data source) trains once, and a second tab asking while the first trains waits for that run."""
    import threading
    from types import SimpleNamespace

    from digitcore import reproduce

    trained, entered, release = [], threading.Semaphore(0), threading.Event()

    def slow_run(data):
        trained.append(data.source)
        entered.release()
        release.wait(10)
        return {"accuracy": 0.5, "accuracies": [0.5]}

    monkeypatch.setattr(reproduce, "_BOOK_PATH_DONE", {})
    monkeypatch.setitem(reproduce.BOOK_PATH_RUNS, "by hand", slow_run)
    a, b = SimpleNamespace(source="a"), SimpleNamespace(source="b")
    got = []
    tabs = [threading.Thread(target=lambda: got.append(reproduce.book_path_run(a, "by hand"))) for _ in range(2)]
    tabs[0].start()
    assert entered.acquire(timeout=10)  # the first tab is training
    tabs[1].start()
    second_trains_too = entered.acquire(timeout=0.5)  # only an uncached, unlocked run gets here
    release.set()
    for tab in tabs:
        tab.join(10)
    assert not second_trains_too and trained == ["a"] and got[0] is got[1]
    reproduce.book_path_run(b, "by hand")
    assert trained == ["a", "b"]  # another data source is another run


def test_07_the_hand_written_net_starts_saturated_and_nn_linear_does_not(l07, sample):
    """The lesson's explanation of the gap between the two book runs: measured on the validation digits."""
    saturated = l07.start_saturation(sample)
    assert saturated["by hand"] > 0.5 and saturated["learner"] == 0.0


def test_07_the_hand_written_run_is_the_chapters_loop_on_its_functions(sample, monkeypatch):
    from digitcore import chapter, reproduce

    calls = []
    monkeypatch.setattr(reproduce, "simple_net", lambda *a: calls.append(len(a)) or chapter.simple_net(*a))
    run = reproduce.simple_net_by_hand(sample, n_epoch=2)
    n_batches = -(-len(sample.train_xy()[0]) // reproduce.BATCH_SIZE) + -(-len(sample.valid_xy()[0]) // reproduce.BATCH_SIZE)
    assert len(run["accuracies"]) == 2 and calls == [5] * (2 * n_batches)
    assert [p.shape for p in reproduce.hand_params()] == [(784, 30), (30,), (30, 1), (1,)]
