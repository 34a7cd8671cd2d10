"""Every output that comes from code shows that code, taken from what ran: the code views of lessons 01-04 and 06-09
are the source of the functions that computed their outputs, as the shipped first screens (marimo's own record of
the lesson's outputs, rebuilt by `python -m digitcore.snapshots`, on the embedded data) show them; and where a
listing is typed out with its results, the results it shows are the ones the code gives."""

import html
import inspect
import json
import re
from pathlib import Path

import pytest
import torch
from lesson_module import lesson

SESSIONS = Path(__file__).resolve().parent.parent / "lessons" / "__marimo__" / "session"


def shown_text(stem: str) -> str:
    """All the text a lesson's saved outputs show, tags removed, every run of white space one space (the code
    highlighter adds line breaks of its own)."""
    session = json.loads((SESSIONS / f"{stem}.py.json").read_text(encoding="utf-8"))
    parts = [v for cell in session["cells"] for out in cell["outputs"] for v in out.get("data", {}).values()
             if isinstance(v, str)]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", "\n".join(parts))).split())


def source(fn) -> str:
    """A function's source as a page shows it: without marimo's @app decorators; white space as in shown_text."""
    return " ".join(" ".join(line for line in inspect.getsource(fn).splitlines() if not line.startswith("@app.")).split())


@pytest.mark.parametrize("stem, names", [
    ("01_pixels_and_tensors", ["ls", "value_histogram", "value_chart", "tensor_facts", "stack_images"]),
    ("02_pixel_similarity", ["penalty_curves", "relative_costs", "distances_to_ideals", "distance_table", "is_3",
                             "baseline_accuracy", "l2_distance", "wrong_mix"]),
    ("03_broadcasting", ["align_shapes", "broadcast", "stretch_without_copy", "silent_bug", "build_training_set",
                         "first_predictions", "linear_by_loop", "loop_vs_matmul"]),
    ("04_gradients_and_steps", ["make_speed_data", "loss_and_grad", "best_quadratic", "curve_frame", "steps_by_hand",
                                "train_speed", "curvature", "loss_surface", "best_ab"]),
    ("06_batch_size", ["measure", "sgd_updates", "accuracy", "gradient_noise", "flat_grad", "steps_and_time_chart",
                       "noise_chart", "accuracy_chart"]),
    ("07_nonlinearity", ["book_path_chart", "start_saturation"]),
    ("08_bias_and_going_deeper", ["linear_without_bias", "train_cached", "digit_loaders", "input_picture",
                                  "fading_answers", "answer_at", "accuracy_by_epoch", "simple_net_numbers",
                                  "params_and_activations", "activation_shapes", "simple_net_model", "resnet18_digits",
                                  "resnet_summary", "resnet_stages", "train_resnet_subset", "sgd_momentum",
                                  "class_accuracy", "BatchProgress", "wide_vs_deep", "fit_curve", "curve_net"]),
    ("09_further_research", ["first_of_each_digit", "two_losses", "cross_entropy_by_hand", "ten_digit_loaders",
                             "ten_digit_model", "train_ten", "accuracy", "TimeBudget", "EveryEpoch",
                             "ValidateEveryEpoch", "ten_digit_chart", "predictions", "confusion_frame",
                             "accuracy_per_digit", "most_confident_mistakes", "one_digits_answer"]),
])
def test_lesson_outputs_show_the_source_of_what_ran(stem, names):
    shown, module = shown_text(stem), lesson(stem)
    missing = [name for name in names if source(getattr(module, name)) not in shown]
    assert not missing, f"{stem}: outputs without their code: {missing}"


def test_07_the_books_runs_show_the_functions_that_trained_them():
    from digitcore import chapter, reproduce

    shown = shown_text("07_nonlinearity")
    ran = [*reproduce.BOOK_PATH_RUNS.values(), reproduce.train_book_model, reproduce.book_dls, reproduce.hand_params,
           chapter.simple_net, chapter.init_params, chapter.train_epoch, chapter.validate_epoch]
    missing = [fn.__name__ for fn in ran if source(fn) not in shown]
    assert not missing, f"07: the book's runs without their code: {missing}"
    assert "res.max(torch.tensor(0.0))" in shown  # the hand-written ReLU, as the chapter writes it


@pytest.mark.parametrize("stem, ran", [
    ("03_broadcasting", ["init_params", "linear1"]),
    ("04_gradients_and_steps", ["f", "mse", "apply_step"]),
])
def test_the_library_functions_a_lesson_calls_are_shown(stem, ran):
    from digitcore import chapter

    shown = shown_text(stem)
    missing = [name for name in ran if source(getattr(chapter, name)) not in shown]
    assert not missing, f"{stem}: library functions that ran without their code: {missing}"


# --- listings typed out with their results: the results are what the code gives (the snapshots use the embedded data)

@pytest.fixture(scope="module")
def embedded():
    from digitcore.data import load_sample

    return load_sample("embedded")


def test_01_the_pickers_run_the_code_they_show(embedded):
    m, shown = lesson("01_pixels_and_tensors"), shown_text("01_pixels_and_tensors")
    stacked = m.stack_images(embedded.train_threes)
    viewed, _ = m.try_view(stacked, "(-1, 28*28)")
    assert f"stacked_threes.view(-1, 28*28).shape # {tuple(viewed.shape)}" in shown
    assert viewed.shape == (len(stacked), 784)
    assert m.try_view(stacked, "(-1, 500)")[0] is None  # 784 * n is no multiple of 500 for these n
    facts = m.tensor_facts(m.make_example(m.EXAMPLES["a greyscale image: one digit"], embedded.train_threes))
    assert "t = train_threes[1] tensor_facts(t)" in shown
    assert facts == {"rank": 2, "shape": (28, 28), "dtype": "uint8", "numel": 784}
    colour = m.make_example(m.EXAMPLES["a colour image: the digit in red ink"], embedded.train_threes)
    assert torch.equal(colour, m.colour_version(embedded.train_threes[1]))


def test_01_the_shown_answer_to_double_and_corner_gives_the_result_it_prints():
    m, shown = lesson("01_pixels_and_tensors"), shown_text("01_pixels_and_tensors")
    lines = ["t = torch.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])", "(t * 2)[1:, 1:]"]
    assert all(line in shown for line in lines)
    scope = {"torch": torch}
    exec(lines[0], scope)
    got = eval(lines[1], scope)
    assert torch.equal(got, m.DOUBLE_AND_CORNER_CASES[0][1])
    assert " ".join(("# " + "\n# ".join(repr(got).splitlines())).split()) in shown


def test_03_the_first_prediction_shown_is_the_seeded_one_that_ran(embedded):
    m, shown = lesson("03_broadcasting"), shown_text("03_broadcasting")
    train_x = m.build_training_set(embedded.train_threes.float() / 255, embedded.train_sevens.float() / 255)["train_x"]
    weights, bias, by_hand, preds = m.first_predictions(train_x)
    assert f"by_hand # {' '.join(repr(by_hand.detach()).split())}" in shown
    assert f"preds[0] # {' '.join(repr(preds[0].detach()).split())}" in shown
    assert "weights = init_params((28*28, 1))" not in shown  # the unseeded call that never ran


def test_04_the_steps_by_hand_shown_are_the_seeded_ones_that_ran():
    m, shown = lesson("04_gradients_and_steps"), shown_text("04_gradients_and_steps")
    time, speed = m.make_speed_data()
    done = m.steps_by_hand(time, speed, lr=1e-5)
    start = ", ".join(f"{v:.4f}" for v in done["start"].tolist())
    assert f'done["start"] # tensor([{start}])' in shown
    for number in (done["loss"], done["loss after"]):
        assert f"{number:,.4f}" in shown
    assert "params = torch.randn(3).requires_grad_()" not in shown  # the unseeded call that never ran
    ten = m.train_speed(m.chapter.apply_step, time, speed, 1e-5, 10)
    assert torch.equal(ten["params"][0], done["start"])  # "ten steps from the same start"
