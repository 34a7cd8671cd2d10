"""digitcore.plots: the shared pictures draw what they claim to draw."""

import base64
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from digitcore import plots


def _digit() -> torch.Tensor:
    img = torch.zeros(28, 28, dtype=torch.uint8)
    img[5:20, 10:14] = 255  # a thick vertical stroke
    img[6, 11] = 100
    return img


def test_heatmap_has_one_rect_per_pixel_and_the_values():
    img = _digit()
    spec = plots.digit_heatmap(img, title="a one").to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert len(rows) == 784
    by_pos = {(r["row"], r["col"]): r["value"] for r in rows}
    assert by_pos[(6, 11)] == 100 and by_pos[(0, 0)] == 0 and by_pos[(10, 12)] == 255
    assert spec["encoding"]["color"]["scale"]["domain"] == [0.0, 255.0]
    assert spec["title"] == "a one"


def test_heatmap_float_image_uses_unit_range_and_rejects_stacks():
    spec = plots.digit_heatmap(_digit().float() / 255).to_dict()
    assert spec["encoding"]["color"]["scale"]["domain"] == [0.0, 1.0]
    with pytest.raises(ValueError, match="2-D"):
        plots.digit_heatmap(torch.zeros(2, 28, 28))


def _pngs(html: str) -> list[np.ndarray]:
    return [
        np.asarray(Image.open(io.BytesIO(base64.b64decode(b))))
        for b in re.findall(r"base64,([A-Za-z0-9+/=]+)", html)
    ]


def test_digit_images_ink_is_dark_and_scaled():
    imgs = torch.stack([_digit(), torch.zeros(28, 28, dtype=torch.uint8), _digit()])
    html = plots.digit_images(imgs, ncols=2, scale=2, labels=["3", "blank", "3"]).text
    pngs = _pngs(html)
    assert len(pngs) == 3 and pngs[0].shape == (56, 56)
    assert pngs[0][20, 24] == 0  # full ink -> black
    assert pngs[0][0, 0] == 255  # no ink -> white
    assert (pngs[1] == 255).all()
    assert "repeat(2," in html and "blank" in html


def test_digit_images_same_picture_for_uint8_and_float():
    a = _pngs(plots.digit_images(_digit(), scale=1).text)[0]
    b = _pngs(plots.digit_images(_digit().float() / 255, scale=1).text)[0]
    assert np.array_equal(a, b)


def test_pixel_table_labels_and_shading():
    img = _digit()
    styler = plots.pixel_table(img, rows=slice(4, 8), cols=slice(9, 13))
    df = styler.data
    assert list(df.index) == [4, 5, 6, 7] and list(df.columns) == [9, 10, 11, 12]
    assert df.loc[6, 11] == 100 and df.loc[4, 9] == 0
    html = styler.to_html()
    assert "rgb(0,0,0)" in html and "rgb(255,255,255)" in html


def test_training_curves_drop_nonfinite_values():
    rows = [
        {"epoch": 1, "train_loss": 0.5, "valid_loss": 0.4, "batch_accuracy": 0.9, "seconds": 0.1},
        {"epoch": 2, "train_loss": float("nan"), "valid_loss": float("inf"), "batch_accuracy": 0.5},
    ]
    spec = plots.training_curves(rows).to_dict()
    data = [r for rs in spec["datasets"].values() for r in rs]
    losses = [r["loss"] for r in data if "loss" in r]
    assert losses == [0.5, 0.4]
    assert sorted(r["batch_accuracy"] for r in data if "batch_accuracy" in r) == [0.5, 0.9]
    assert plots.training_curves([]).to_dict()["mark"]["type"] == "text"


class _Sample:
    def __init__(self, offline):
        self.offline = offline
        self.source = "test source line"
        self.train_threes = self.train_sevens = torch.zeros(3, 28, 28)
        self.valid_threes = self.valid_sevens = torch.zeros(2, 28, 28)


def test_data_notice_says_which_data_and_how_to_get_more():
    offline = plots.data_notice(_Sample(True)).text
    assert "all ten digits" in offline and "not equal" in offline and "digitcore data download" in offline and "DIGITCORE_DATA" in offline
    real = plots.data_notice(_Sample(False)).text
    assert "test source line" in real and "digitcore data download" not in real


def test_data_notice_for_a_lesson_without_mnist():
    text = plots.data_notice(None, what="Small made-up tensors.").text
    assert "no MNIST" in text and "made-up" in text


def test_answer_feedback_right_wrong_and_empty():
    assert "Right" in plots.answer_feedback("3", "3", "why").text
    assert "Not quite" in plots.answer_feedback("2", "3", "why", "look again").text
    assert "look again" in plots.answer_feedback("2", "3", "why", "look again").text
    assert "Right" in plots.answer_feedback(" 784 ", lambda s: s.strip() == "784").text
    assert "pick or type" in plots.answer_feedback(None, "3").text
    assert "pick or type" in plots.answer_feedback("  ", "3").text


def test_recorder_table_one_row_per_epoch_with_rounded_numbers():
    rows = [{"epoch": 1, "train_loss": 0.123456, "valid_loss": 0.2, "batch_accuracy": 0.97654, "seconds": 0.04321},
            {"epoch": 2, "train_loss": 0.1, "valid_loss": 0.15, "batch_accuracy": 0.98, "seconds": 0.05}]
    html = plots.recorder_table(rows).text
    assert html.count("<tr") == 3  # a header and two epochs
    for text in ("train_loss", "0.1235", "0.9765", "0.04", "0.1500"):
        assert text in html
    assert "0.123456" not in html and "0.0432" not in html


def test_quiz_kept_radio_and_text_questions_numbered_with_a_prompt_until_answered():
    items = [("Rank of (6131, 28, 28)?", ["2", "3"], "3", "Three axes."),
             ("Pixels per image?", None, lambda s: s.strip() == "784", "28 x 28.", "Rows times columns.")]
    answers = plots.quiz(items)
    widgets = [e.widget for e in answers.elements]
    assert [w.kind for w in widgets] == ["choice", "line"] and widgets[0].options == ["2", "3"]
    assert [w.label for w in widgets] == ["1. Rank of (6131, 28, 28)?", "2. Pixels per image?"]
    assert [w.key for w in widgets] == ["digitcore-answers:quiz:Rank of (6131, 28, 28)?",
                                        "digitcore-answers:quiz:Pixels per image?"]
    assert answers.value == [None, ""]
    html = plots.quiz_view(answers, items).text
    assert "in this browser, on this computer" in html and html.count("pick or type an answer") == 2
    answers._update({"0": {"value": "3"}, "1": {"value": "78"}})  # what the page sends when a student answers
    assert answers.value == ["3", "78"]
    html = plots.quiz_view(answers, items).text
    assert "pick or type an answer" not in html  # the first right, the second not (callouts escape their text)
    assert html.count("data-kind='&quot;success&quot;'") == 1 and html.count("data-kind='&quot;warn&quot;'") == 1


def test_self_check_says_not_started_wrong_raised_or_passed():
    import torch

    def kind(html) -> str:
        return html.text.split("data-kind='&quot;")[1].split("&quot;")[0]

    def stub():
        raise NotImplementedError

    want = torch.tensor([[10, 12], [16, 18]])
    assert "not started" in plots.self_check("f", stub, [((), want)]).text
    assert kind(plots.self_check("f", lambda: want.clone(), [((), want)])) == "success"
    assert kind(plots.self_check("f", lambda: want.float(), [((), want)])) == "warn"  # float where ints were asked
    assert kind(plots.self_check("f", lambda: want.T, [((), want)])) == "warn"
    assert kind(plots.self_check("f", lambda: 1 / 0, [((), want)])) == "warn"
    assert kind(plots.self_check("g", lambda n: [2 * x for x in n if x % 2], [(([1, 2, 3],), [2, 6])])) == "success"


def test_code_shows_a_function_by_its_real_source():
    def add_one(x):
        return x + 1

    html = plots.code(add_one, "y = add_one(1)").text
    assert "add_one" in html and "return" in html and "y" in html


def test_weight_images_draw_sign_as_colour_one_picture_per_row():
    import base64
    import io
    import re

    import numpy as np
    import torch
    from PIL import Image

    w = torch.zeros(3, 784)
    w[0, 0], w[1, 0] = 2.0, -0.5  # unit 0: top-left pixel strongly positive; unit 1: negative; unit 2: all zero
    html = plots.weight_images(w, labels=["a", "b", "c"]).text
    pngs = re.findall(r"base64,([A-Za-z0-9+/=]+)'", html)
    assert len(pngs) == 3 and all(c in html for c in "abc")
    pixels = [np.array(Image.open(io.BytesIO(base64.b64decode(p)))) for p in pngs]
    blue, red, white = pixels[0][0, 0], pixels[1][0, 0], pixels[2][0, 0]
    assert blue[2] > blue[0] and red[0] > red[2] and tuple(white) == (255, 255, 255)
    assert tuple(pixels[0][-1, -1]) == (255, 255, 255)  # a zero weight is white


def test_every_picture_says_what_it_shows_in_its_alt_text():
    digits = plots.digit_images(torch.stack([_digit(), _digit()]), labels=["3 #1", "7 <#2>"], what="a training digit").text
    weights = plots.weight_images(torch.zeros(2, 784), labels=["unit 0", "unit 1"], what="weights of hidden").text
    alts = re.findall(r"<img [^>]*alt='([^']*)'", digits + weights)
    assert alts[:2] == ["a training digit, 3 #1", "a training digit, 7 &lt;#2&gt;"]  # escaped, never markup
    assert len(alts) == 4 and all(a.startswith("weights of hidden, unit ") and "blue: positive" in a for a in alts[2:])
    assert len(re.findall(r"<img ", digits + weights)) == len(alts)


def _spec_in(html: str) -> dict:
    """The Vega-Lite spec inside a marimo-mime-renderer's data-data attribute."""
    import html as html_lib

    raw = re.search(r"data-data='([^']*)'", html).group(1)
    return json.loads(json.loads(html_lib.unescape(raw)))


def test_described_chart_names_the_figure_and_says_its_data_in_words():
    rows = [{"epoch": e, "train_loss": 0.5 / (e + 1), "valid_loss": 0.4 / (e + 1), "batch_accuracy": 0.5 + 0.1 * e}
            for e in range(5)]
    out = plots.described_chart(plots.training_curves(rows)).text
    label = re.search(r"<figure role='figure' aria-label='([^']*)'", out).group(1)
    assert label == ("Loss (train and valid) and batch accuracy over 5 epochs: valid loss from 0.4000 to 0.0800, "
                     "batch accuracy from 0.5000 to 0.9000.")
    words = out[out.index("<details"):]
    assert "<summary>the chart in words</summary>" in words
    assert "valid: 0.4 at epoch 0" in words and "0.08 at epoch 4" in words and "0.9 at epoch 4" in words
    spec = _spec_in(out)
    assert spec["usermeta"]["embedOptions"]["actions"] is False  # vega-embed's unnamed "..." disclosure is off
    assert spec["description"] == label


def test_described_chart_summarises_a_heatmap_and_a_long_series_from_the_drawn_rows():
    heat = plots.described_chart(plots.digit_heatmap(_digit(), title="a one"), "a one as a heat map").text
    assert "aria-label='a one as a heat map'" in heat and "value over 28 rows by 28 columns, from 0 to 255" in heat
    df = pd.DataFrame({"x": np.arange(50.0), "y": np.r_[np.nan, np.arange(49.0)]})
    line = plots.described_chart(plots.line_chart(df, "x", "y", title="a ramp")).text
    assert "aria-label='chart: a ramp'" in line  # no description given: the titles
    assert "y 0 at x 1, 48 at x 49; lowest 0, highest 48; 49 points" in line  # the NaN row is not drawn, not told
    assert "lowest nan" not in line.lower()


def test_code_shows_a_class_defined_in_a_notebook_cell():
    """A lesson exported to Jupyter runs each cell from a made-up file name: inspect finds a function's source there
    but not a class's (lessons 08 and 09 show their Callback classes), so plots.code reads the class from its
    methods' cell."""
    import linecache

    src = "class Tick:\n    def after_batch(self, learn):\n        return 'ticked'\n"
    cell = "<notebook cell for test_plots>"
    linecache.cache[cell] = (len(src), None, src.splitlines(True), cell)
    space = {"__name__": "__main__"}
    exec(compile(src, cell, "exec"), space)
    shown = plots.code(space["Tick"]).text
    assert "Tick" in shown and "after_batch" in shown and "ticked" in shown
