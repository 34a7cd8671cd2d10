"""digitcore/answers.py: the keys answers are stored under, the markdown a student downloads, and kept answers that
mo.ui.dictionary and mo.ui.array can copy, whose value is the answer itself (the browser side is tested in
tests/browser/test_answers_kept.py)."""

import copy

import marimo as mo

from digitcore import answers


def test_each_lesson_and_question_has_its_own_storage_key():
    keys = {answers.storage_key(lesson, q) for lesson in ("10_questionnaire", "05_sgd") for q in ("1", "30")}
    assert len(keys) == 4 and all(k.startswith("digitcore-answers:") for k in keys)


def test_markdown_lists_every_question_in_order_with_its_answer_or_not_answered():
    labels = {"1": "1. How is an image stored?", "2": "2. What is a tensor?", "3": "3. Why validate?"}
    md = answers.answers_markdown("Quiz", labels, {"1": "  numbers  ", "3": "to see overfitting"})
    assert md.index("## 1. How") < md.index("## 2. What") < md.index("## 3. Why")
    assert "## 1. How is an image stored?\n\nnumbers\n" in md and "## 3. Why validate?\n\nto see overfitting\n" in md
    assert md.count("*(not answered)*") == 1 and md.startswith("# Quiz: my answers")


def test_boxes_can_be_copied_and_read_through_a_dictionary():
    box = answers.AnswerBox(key="k", label="1. A question", value="typed")
    twin = copy.deepcopy(box)
    assert twin is not box and (twin.key, twin.label, twin.value) == ("k", "1. A question", "typed")
    notes = mo.ui.dictionary({"1": answers.answer_box("10_questionnaire", "1", "1. A question")})
    assert answers.answer_texts(notes) == {"1": ""}


def test_kept_inputs_give_their_answer_as_mo_ui_text_and_radio_would():
    data = answers.kept_text("01_pixels_and_tensors", "data", "data =", value="[[1, 2]]")
    assert data.value == "[[1, 2]]" and data.widget.key == "digitcore-answers:01_pixels_and_tensors:data"
    assert data.widget.kind == "line" and data.widget.hint == answers.KEPT_HINT
    pick = answers.kept_choice("quiz", "Rank?", "1. Rank?", [2, 3])
    assert pick.value is None and pick.widget.options == ["2", "3"]
    both = mo.ui.array([data, pick])  # copies its elements: the copies must still be kept answers
    assert [type(e).__name__ for e in both.elements] == ["KeptAnswer", "KeptAnswer"]
    both._update({"0": {"value": "[[3]]"}, "1": {"value": "3"}})  # the page's updates, as anywidget sends them
    assert both.value == ["[[3]]", "3"]
    assert copy.deepcopy(both.elements[1].widget).options == ["2", "3"]
