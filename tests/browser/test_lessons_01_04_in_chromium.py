"""Lessons 01, 03 and 04 in Chromium: their new controls answer (typed tensor data, the @ entry picker, the
a/b/c sliders that drive the live loss, the code shown and the loss map), with no error on the page."""

import contextlib

import pytest
from marimo_driver import ROOT, LessonPage, serve

LESSONS = ROOT / "lessons"


def shows(page: LessonPage, *snippets: str) -> bool:
    """Every snippet is on the page, whitespace ignored (code blocks come out token by token)."""
    text = "".join(page.text().split())
    return all("".join(snip.split()) in text for snip in snippets)


def press(page: LessonPage, label: str, key: str) -> None:
    """Move a slider by keyboard (Radix sliders take Home/End/arrows) and wait for the run it starts."""
    runs = page.runs()
    thumb = page.slider(label)
    thumb.scroll_into_view_if_needed()
    thumb.focus()
    page.page.keyboard.press(key)
    page.wait_idle(after_runs=runs)


@pytest.fixture
def opened(browser):
    """Factory: serve a lesson with `marimo run` and open it; every server and page is closed afterwards, even
    when opening failed."""
    with contextlib.ExitStack() as stack:

        def _open(stem):
            server = stack.enter_context(serve(LESSONS / f"{stem}.py"))
            page = LessonPage(browser, server.url)
            stack.callback(page.close)
            page.open(timeout=240)
            return page

        yield _open


def test_01_typed_data_runs_the_tour(opened):
    page = opened("01_pixels_and_tensors")
    assert shows(page, ">>> t[1]", "tensor([4, 5, 6])")
    runs = page.runs()
    box = page.page.get_by_label("data =")  # a kept input (digitcore/answers.py)
    box.scroll_into_view_if_needed()
    box.fill("[[1, 2], [3, 4], [5, 6]]")
    box.press("Enter")
    page.wait_idle(after_runs=runs)
    assert shows(page, "tensor([3, 4])", "tensor([2, 4, 6])"), page.text()[-3000:]
    assert page.errors() == {} and page.page_errors == [], page.describe_errors()


def test_03_matmul_entry_follows_the_sliders(opened):
    page = opened("03_broadcasting")
    assert shows(page, "(a @ b)[0, 0]")
    press(page, "row i of a", "End")
    press(page, "column j of b", "End")
    assert shows(page, "(a @ b)[2, 1]", "(a[2] * b[:, 1]).sum()"), page.text()[-3000:]
    assert page.errors() == {} and page.page_errors == [], page.describe_errors()


def test_04_the_student_optimiser_moves_the_loss_the_code_and_the_map(opened):
    page = opened("04_gradients_and_steps")
    maps = [s for s in page.chart_specs() if "lowest point of this map" in s]
    assert shows(page, "torch.tensor([0.20, 0.0, 10.0])") and maps
    press(page, "a (times t", "End")
    assert shows(page, "torch.tensor([2.00, 0.0, 10.0])"), page.text()[-3000:]
    after = [s for s in page.chart_specs() if "lowest point of this map" in s]
    assert after and after != maps, "the loss map did not move its 'your a, b' mark"
    assert page.errors() == {} and page.page_errors == [], page.describe_errors()
