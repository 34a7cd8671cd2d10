"""Every output that comes from code shows that code, taken from what ran: the code views of lessons 06 to 09 are
the source of the functions that computed their outputs, as the shipped first screens (marimo's own record of the
lesson's outputs, rebuilt by `python -m digitcore.snapshots`) show them."""

import html
import inspect
import json
import re
from pathlib import Path

import pytest
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
