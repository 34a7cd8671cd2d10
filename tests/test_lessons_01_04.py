"""What lessons 01-04 compute and show: the tensor tour, the small exercises' self-checks, the baseline through
is_3, the training-set pipeline, @ as row times column, and the speed example's curvature. Each test imports
the lesson as a module (its @app.function functions and setup constants) on the embedded data."""

import pytest
import torch
from lesson_module import lesson

from digitcore import chapter, plots
from digitcore.data import load_sample


@pytest.fixture(scope="module")
def data():
    return load_sample("embedded")


def kind(callout) -> str:
    return callout.text.split("data-kind='&quot;")[1].split("&quot;")[0]


# --- 01 -----------------------------------------------------------------------------------------------------

def test_01_tour_runs_each_line_as_written_and_shows_errors_as_results():
    m = lesson("01_pixels_and_tensors")
    out = m.tour(torch.tensor(m.parse_data("[[1, 2, 3], [4, 5, 6]]")))
    for expected in (">>> t[1]", "tensor([4, 5, 6])", "tensor([2, 5])", "tensor([5, 6])", "tensor([[2, 3, 4],",
                     "tensor([[1.5000, 3.0000, 4.5000],", "torch.int64", "torch.float32", "torch.Size([2, 3])"):
        assert expected in out, (expected, out)
    one_row = m.tour(torch.tensor([1, 2, 3]))
    assert "IndexError" in one_row and "tensor(2)" in one_row


@pytest.mark.parametrize("text", ["__import__('os').getcwd()", "[[1, 2], 'a']", "[" + "1, " * 9 + "1]", "[]", "7"])
def test_01_tour_data_is_only_small_lists_of_numbers(text):
    with pytest.raises((ValueError, SyntaxError)):
        lesson("01_pixels_and_tensors").parse_data(text)


def test_01_exercises_ship_as_stubs_and_their_checks_accept_a_right_answer():
    m = lesson("01_pixels_and_tensors")
    assert "not started" in plots.self_check("double_and_corner", m.double_and_corner, m.DOUBLE_AND_CORNER_CASES).text
    assert "not started" in plots.self_check("odd_doubled", m.odd_doubled, m.ODD_DOUBLED_CASES).text

    def corner():
        return (torch.arange(1, 10).view(3, 3) * 2)[1:, 1:]

    assert kind(plots.self_check("double_and_corner", corner, m.DOUBLE_AND_CORNER_CASES)) == "success"
    assert kind(plots.self_check("double_and_corner", lambda: corner()[:1], m.DOUBLE_AND_CORNER_CASES)) == "warn"
    good = lambda nums: [2 * x for x in nums if x % 2 == 1]  # noqa: E731
    assert kind(plots.self_check("odd_doubled", good, m.ODD_DOUBLED_CASES)) == "success"
    evens = lambda nums: [2 * x for x in nums if x % 2 == 0]  # noqa: E731
    assert kind(plots.self_check("odd_doubled", evens, m.ODD_DOUBLED_CASES)) == "warn"


def test_01_ls_counts_and_sorts_like_fastai(tmp_path):
    m = lesson("01_pixels_and_tensors")
    for name in ("valid", "train", "labels.csv"):
        (tmp_path / name).mkdir() if "." not in name else (tmp_path / name).write_text("")
    assert m.ls(tmp_path) == "(#3) ['labels.csv', 'train', 'valid']"


def test_01_colour_image_is_rank_3_channels_first(data):
    colour = lesson("01_pixels_and_tensors").colour_version(data.train_threes[1])
    assert colour.shape == (3, 28, 28) and colour.dtype == torch.uint8
    assert (colour[0] == 255).all() and torch.equal(colour[1], 255 - data.train_threes[1])


# --- 02 -----------------------------------------------------------------------------------------------------

def test_02_baseline_through_is_3_and_one_minus_is_the_books(data):
    m = lesson("02_pixel_similarity")
    s3, s7 = data.train_threes.float() / 255, data.train_sevens.float() / 255
    v3, v7 = data.valid_threes.float() / 255, data.valid_sevens.float() / 255
    acc = m.baseline_accuracy(chapter.mnist_distance, v3, v7, s3.mean(0), s7.mean(0))
    assert [round(acc[k], 4) for k in ("threes", "sevens", "mean")] == [0.9168, 0.9854, 0.9511]
    a3 = s3[1]  # the book's a_3
    got = {"L1 to mean 3": (a3 - s3.mean(0)).abs().mean(), "L2 to mean 3": m.l2_distance(a3, s3.mean(0)),
           "L1 to mean 7": (a3 - s7.mean(0)).abs().mean(), "L2 to mean 7": m.l2_distance(a3, s7.mean(0))}
    assert {k: round(v.item(), 4) for k, v in got.items()} == m.BOOK_A3


def test_02_mistakes_shown_are_a_mix_most_wrong_first():
    import pandas as pd

    m = lesson("02_pixel_similarity")
    rows = [{"digit": "3", "index": i, "to mean 3": 0.2 + i / 100, "to mean 7": 0.1, "right": False} for i in range(30)]
    rows += [{"digit": "7", "index": i, "to mean 3": 0.1, "to mean 7": 0.2 + i / 100, "right": False} for i in range(5)]
    rows += [{"digit": "7", "index": 99, "to mean 3": 0.3, "to mean 7": 0.1, "right": True}]
    shown = m.wrong_mix(pd.DataFrame(rows))
    digits = [r.digit for r in shown]
    assert digits[:10] == ["3", "7"] * 5 and digits.count("7") == 5 and len(shown) == 17
    assert shown[0].index == 29 and shown[1].index == 4  # the biggest gap first
    assert all(r.index != 99 for r in shown)


# --- 03 -----------------------------------------------------------------------------------------------------

def test_03_training_set_shapes_at_every_step(data):
    m = lesson("03_broadcasting")
    built = m.build_training_set(data.train_threes.float() / 255, data.train_sevens.float() / 255)
    n = len(data.train_threes) + len(data.train_sevens)
    assert built["images"].shape == (n, 28, 28) and built["train_x"].shape == (n, 784)
    assert built["labels"].shape == (n,) and built["train_y"].shape == (n, 1)
    x, y = built["dset"][0]
    assert len(built["dset"]) == n and x.shape == (784,) and torch.equal(y, torch.tensor([1]))
    assert torch.equal(built["dset"][-1][1], torch.tensor([0]))
    assert torch.equal(x.view(28, 28), data.train_threes[0].float() / 255)


def test_03_pair_up_check_accepts_zip_and_refuses_a_wrong_pairing():
    m = lesson("03_broadcasting")
    assert "not started" in plots.self_check("pair_up", m.pair_up, m.PAIR_UP_CASES).text
    assert kind(plots.self_check("pair_up", lambda a, b: list(zip(a, b)), m.PAIR_UP_CASES)) == "success"
    assert kind(plots.self_check("pair_up", lambda a, b: list(zip(b, a)), m.PAIR_UP_CASES)) == "warn"


def test_03_matmul_picture_marks_row_i_column_j_and_the_entry():
    m = lesson("03_broadcasting")
    a, b = torch.arange(12).view(3, 4), torch.arange(8).view(4, 2)
    cells = m.matmul_cells(a, b, 2, 1)
    used = cells[cells["used"]]
    assert sorted(used[used["matrix"] == "a"]["row"].unique()) == [2] and len(used[used["matrix"] == "a"]) == 4
    assert sorted(used[used["matrix"] == "b"]["col"].unique()) == [1] and len(used[used["matrix"] == "b"]) == 4
    entry = used[used["matrix"] == "a @ b"]
    assert len(entry) == 1 and entry["value"].item() == str((a[2] * b[:, 1]).sum().item())


def test_03_linear_by_loop_is_linear1(data):
    m = lesson("03_broadcasting")
    x, _ = data.train_xy()
    g = torch.Generator().manual_seed(0)
    w, b = chapter.init_params((784, 1), generator=g), chapter.init_params(1, generator=g)
    loop = torch.tensor(m.linear_by_loop(x[:5], w, b))
    assert torch.allclose(loop, chapter.linear1(x[:5], w, b).view(-1), atol=1e-4)
    assert torch.allclose((x[0] * w.T).sum() + b, chapter.linear1(x, w, b)[0])


# --- 04 -----------------------------------------------------------------------------------------------------

def test_04_curvature_limit_separates_wobbling_from_diverging():
    m = lesson("04_gradients_and_steps")
    time, speed = m.make_speed_data()
    limit = m.curvature(time)["lr_limit"]
    assert 3e-5 < limit < 4e-5, limit  # the lesson says: 3e-5 wobbles, 4e-5 blows up
    assert m.train_speed(chapter.apply_step, time, speed, 3e-5, 200)["diverged_at"] is None
    assert m.train_speed(chapter.apply_step, time, speed, 4e-5, 200)["diverged_at"] is not None


def test_04_loss_map_lowest_cell_is_the_least_squares_a_b():
    m = lesson("04_gradients_and_steps")
    time, speed = m.make_speed_data()
    best_a, best_b = m.best_ab(time, speed, 5.0)
    grid = m.loss_surface(time, speed, (best_a - 0.3, best_a + 0.3), (best_b - 6, best_b + 6), 5.0, n=41)
    low = grid.loc[grid["mse"].idxmin()]
    assert low["a0"] <= best_a <= low["a1"] and low["b0"] <= best_b <= low["b1"]


def test_04_descent_starts_where_the_student_put_the_sliders():
    m = lesson("04_gradients_and_steps")
    time, speed = m.make_speed_data()
    run = m.train_speed(chapter.apply_step, time, speed, 1e-5, 3, start=(0.7, -14.0, 60.0))
    assert run["params"][0].tolist() == pytest.approx([0.7, -14.0, 60.0])
    loss, grad = m.loss_and_grad((0.7, -14.0, 60.0), time, speed)
    assert loss == pytest.approx(run["losses"][0]) and len(grad) == 3
    assert run["losses"][-1] < run["losses"][0]
