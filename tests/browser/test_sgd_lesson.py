"""05_sgd.py in Chromium: the training lab's controls retrain live (every learning rate at once, so the lr slider
only picks one), divergence is said in words, the new views answer their controls (shuffle, starting weights,
training images, play / one step / back to the start), and the exercise cells grade code typed in `marimo edit`.

The slider tests share one `marimo run` server and one page (module scope) and run in file order.
"""

import shutil
import time

import pytest
from marimo_driver import ROOT, SCREENSHOTS, LessonPage, serve

LESSON = ROOT / "lessons" / "05_sgd.py"
LR, BS = "learning rate", "batch size"

pytestmark = pytest.mark.skipif(not LESSON.exists(), reason="lessons/05_sgd.py is not written yet")


def lab_curves(page: LessonPage) -> list[str]:
    """Specs of the training lab's charts: plots.training_curves draws loss per set (train/valid) by epoch."""
    return [s for s in page.chart_specs() if '"set"' in s and '"valid"' in s and '"epoch"' in s]


def move_and_watch(page: LessonPage, label: str, index: int, timeout: float = 120.0) -> dict:
    """Drag `label` to `index` and follow the run it starts: whether a progress bar showed while the kernel
    worked, and the lab's curves before and after."""
    before, runs, bars = lab_curves(page), page.runs(), page.state()["progress"]
    page.drag_slider(label, index)
    saw_progress, deadline = False, time.monotonic() + timeout
    while page.runs() <= runs:
        saw_progress = saw_progress or page.progress_visible()
        assert time.monotonic() < deadline, f"no run finished {timeout:.0f} s after moving {label}"
        time.sleep(0.03)
    page.wait_idle(after_runs=runs)
    return {"before": before, "after": lab_curves(page), "progress": saw_progress or page.state()["progress"] > bars}


@pytest.fixture(scope="module")
def sgd(browser):
    with serve(LESSON) as server:
        page = LessonPage(browser, server.url)
        page.open(timeout=240)
        yield page
        page.close()


def test_lab_shows_curves_at_defaults(sgd):
    assert sgd.errors() == {}, sgd.describe_errors()
    assert lab_curves(sgd), "the training lab drew no loss curves at its default settings"
    assert sgd.rendered_charts() > 0
    assert sgd.slider_steps(LR) and sgd.slider_steps(BS), "the lab has no learning-rate and batch-size sliders"


def lr_chart(page: LessonPage) -> list[str]:
    """Specs of the final-loss-against-lr chart (live.lr_chart): one point per lr, and a rule at the chosen one."""
    return [s for s in page.chart_specs() if '"lr"' in s and '"state"' in s]


def update_chart(page: LessonPage) -> list[str]:
    return [s for s in page.chart_specs() if '"update"' in s and "update by update" in s]


def test_learning_rate_drag_picks_an_already_trained_run(sgd):
    """Every slider lr was trained in the lab's one batched run: a drag draws another run's curves and moves the
    rule on the lr chart, with no training (no progress bar needed)."""
    steps, now = sgd.slider_steps(LR), sgd.slider_index(LR)
    target = now + 1 if now + 1 < len(steps) - 4 else now - 1  # a neighbouring, well-behaved rate
    charts_before = lr_chart(sgd)
    assert charts_before, "no chart of final loss and accuracy against the learning rate"
    seen = move_and_watch(sgd, LR, target)
    assert sgd.slider_index(LR) == target
    assert seen["after"] and seen["after"] != seen["before"], "the curves did not change with the learning rate"
    assert lr_chart(sgd) != charts_before, "the lr chart did not mark the new learning rate"
    assert "trained together" in sgd.text(), "the verdict does not say the run came from the batched sweep"
    assert sgd.errors() == {} and sgd.dom_errors() == [], sgd.describe_errors()


def test_batch_size_drag_retrains(sgd):
    steps, now = sgd.slider_steps(BS), sgd.slider_index(BS)
    target = now + 1 if now + 1 < len(steps) else now - 1  # a bigger batch: fewer updates, a quicker run
    seen = move_and_watch(sgd, BS, target)
    assert sgd.slider_index(BS) == target
    assert seen["progress"], "no progress bar while the model retrained"
    assert seen["after"] and seen["after"] != seen["before"], "the curves did not change with the batch size"
    assert sgd.errors() == {} and sgd.dom_errors() == [], sgd.describe_errors()


def test_extreme_learning_rate_is_explained_and_squared_error_diverges(sgd):
    """At the top learning rate the chapter's sigmoid-bounded mnist_loss cannot overflow (measured: nothing goes
    NaN below lr 1e38), so the page must say the model saturated; with the unbounded squared-error loss the
    same setting must end in a clear "diverged at epoch k". Neither may show an error or a chart of NaN."""
    top = len(sgd.slider_steps(LR)) - 1
    move_and_watch(sgd, LR, top)
    assert sgd.slider_index(LR) == top
    text = sgd.text().lower()
    lr = sgd.slider_steps(LR)[top]
    assert "the model saturated" in text, f"at lr {lr:g} the page does not explain saturation:\n{text[-1500:]}"
    assert sgd.errors() == {} and sgd.dom_errors() == [] and sgd.failed_runs() == [], sgd.describe_errors()

    said_before = text.count("diverged at epoch")
    runs = sgd.runs()
    sgd.page.locator("select").filter(has_text="squared error").select_option(label="squared error, no sigmoid")
    sgd.wait_idle(after_runs=runs)
    text = sgd.text().lower()
    assert text.count("diverged at epoch") > said_before, f"squared error at lr {lr:g} did not diverge:\n{text[-1500:]}"
    assert sgd.errors() == {} and sgd.dom_errors() == [] and sgd.failed_runs() == [], sgd.describe_errors()
    sgd.screenshot(SCREENSHOTS / "05_sgd-diverged.png")
    runs = sgd.runs()
    sgd.page.locator("select").filter(has_text="squared error").select_option(label="mnist_loss (with sigmoid)")
    sgd.wait_idle(after_runs=runs)


def test_shuffle_off_draws_the_book_order(sgd):
    move_and_watch(sgd, LR, sgd.slider_steps(LR).index(1))
    before = update_chart(sgd)
    assert before and "not shuffled" not in before[0]
    runs = sgd.runs()
    sgd.page.locator('marimo-switch[data-label*="shuffle"] [role="switch"]').first.click()
    sgd.wait_idle(after_runs=runs, timeout=120)
    after = update_chart(sgd)
    assert after and "not shuffled" in after[0], "switching shuffle off did not redraw the update-by-update chart"
    assert "not shuffled" in sgd.text()
    assert sgd.errors() == {} and sgd.dom_errors() == [], sgd.describe_errors()
    runs = sgd.runs()
    sgd.page.locator('marimo-switch[data-label*="shuffle"] [role="switch"]').first.click()
    sgd.wait_idle(after_runs=runs, timeout=120)


def test_starting_weights_and_training_images(sgd):
    before = lab_curves(sgd)
    runs = sgd.runs()
    sgd.page.locator("select").filter(has_text="init_params").select_option(label="init_params' N(0, 1)")
    sgd.wait_idle(after_runs=runs, timeout=120)
    assert lab_curves(sgd) != before and "starting weights N(0,1)" in sgd.text()
    assert "saturated" in sgd.text().lower()
    before = lab_curves(sgd)
    seen = move_and_watch(sgd, "training images", 0)
    assert seen["after"] != before and "100 training images" in sgd.text()
    assert sgd.errors() == {} and sgd.dom_errors() == [], sgd.describe_errors()
    runs = sgd.runs()
    sgd.page.locator("select").filter(has_text="init_params").select_option(label="nn.Linear's (std 0.02)")
    sgd.wait_idle(after_runs=runs, timeout=120)
    move_and_watch(sgd, "training images", len(sgd.slider_steps("training images")) - 1)


def watch_heading(page: LessonPage) -> str:
    """The "after N of M updates" line of the watch-it-learn view."""
    text = page.text()
    at = text.find("updates (epoch")
    assert at > 0, "the watch-it-learn view shows no snapshot"
    return text[text.rfind("after ", 0, at): at]


def click(page: LessonPage, label: str) -> None:
    runs = page.runs()
    page.page.locator(f'marimo-button[data-label*="{label}"] button').first.click()
    page.wait_idle(after_runs=runs, timeout=60)


def test_watch_it_learn_steps_plays_and_rewinds(sgd):
    click(sgd, "back to the start")
    assert watch_heading(sgd).startswith("after 0 of"), watch_heading(sgd)
    click(sgd, "one step")
    assert watch_heading(sgd).startswith("after 1 of"), watch_heading(sgd)
    play = sgd.page.locator('marimo-refresh select').first
    play.select_option("0.3s")
    deadline = time.monotonic() + 30
    while watch_heading(sgd).startswith("after 1 of") and time.monotonic() < deadline:
        time.sleep(0.3)
    play.select_option("off")
    sgd.wait_idle(timeout=60)
    moved = watch_heading(sgd)
    assert not moved.startswith("after 1 of"), "play did not move the snapshot on"
    time.sleep(1.0)
    assert watch_heading(sgd) == moved, "pause (off) did not stop it"
    assert sgd.errors() == {} and sgd.dom_errors() == [], sgd.describe_errors()
    sgd.screenshot(SCREENSHOTS / "05_sgd-watch.png")


# ------------------------------------------------------------------------------------------------------------
# exercises, typed in marimo edit on a copy of the lesson

WRONG_LOSS = '''def mnist_loss(predictions, targets):
    """forgot the sigmoid"""
    return torch.where(targets == 1, 1 - predictions, predictions).mean()
'''
RIGHT_LOSS = '''def mnist_loss(predictions, targets):
    """squash, then distance from the target"""
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()
'''


def cell_with_code(page: LessonPage, needle: str) -> str:
    """The id of the (edit mode) cell whose code contains `needle`. marimo mounts a cell's editor only once it
    has been on screen, so cells are scrolled into view one by one, as a reader scrolls."""
    find = """(needle) => { for (const c of document.querySelectorAll('[data-cell-id]')) {
                   const ed = c.querySelector('.cm-content');
                   if (ed && ed.textContent.includes(needle)) return c.getAttribute('data-cell-id'); }
                 return null; }"""
    for cell in page.page.locator("[data-cell-id]").all():
        if cell_id := page.page.evaluate(find, needle):
            return cell_id
        cell.scroll_into_view_if_needed()
    cell_id = page.page.evaluate(find, needle)
    assert cell_id, f"no cell's code contains {needle!r}"
    return cell_id


def callout(page: LessonPage, cell_id: str) -> tuple[str, str]:
    """(kind, text) of the callout in a cell's output."""
    return page.page.evaluate(
        """(id) => { const out = document.getElementById('output-' + id);
               const c = out && __deep('marimo-callout-output', out)[0];
               return c ? [JSON.parse(c.getAttribute('data-kind')), __text(c)] : [null, out ? __text(out) : '']; }""",
        cell_id)


def callout_after(page: LessonPage, cell_id: str, before: str, timeout: float = 120.0) -> tuple[str, str]:
    """The cell's callout once its text is no longer `before`: the check re-ran on the new code. (A count of
    completed runs can be met by another cell's run that ends meanwhile, before the check's own.)"""
    deadline = time.monotonic() + timeout
    kind, text = callout(page, cell_id)
    while text == before and time.monotonic() < deadline:
        time.sleep(0.2)
        kind, text = callout(page, cell_id)
    return kind, text


def type_into_cell(page: LessonPage, cell_id: str, code: str) -> None:
    """Replace a cell's code as a student does (click, select all, paste) and run it with Shift+Enter."""
    runs = page.runs()
    editor = page.page.locator(f'[data-cell-id="{cell_id}"] .cm-content').first
    editor.scroll_into_view_if_needed()
    editor.click()
    page.page.keyboard.press("Control+a")
    page.page.keyboard.insert_text(code)
    page.page.keyboard.press("Shift+Enter")
    page.wait_idle(after_runs=runs, timeout=180)


def test_exercise_feedback_for_typed_code(browser, tmp_path):
    notebook = tmp_path / LESSON.name
    shutil.copy(LESSON, notebook)
    with serve(notebook, mode="edit", env={"DIGITCORE_DATA": "offline"}) as server:  # grading, not training
        page = LessonPage(browser, server.url)
        try:
            page.page.goto(server.url)
            page.page.locator(".cm-content").first.wait_for(timeout=120_000)
            page.page.keyboard.press("Control+Shift+KeyR")  # "run all stale cells", as the student would
            page.wait_idle(timeout=240)
            stub, feedback = cell_with_code(page, "def mnist_loss"), cell_with_code(page, 'check("mnist_loss"')
            kind, text = callout(page, feedback)
            assert kind is not None and "not started" in text.lower(), f"before any code: {kind} {text!r}"

            type_into_cell(page, stub, WRONG_LOSS)
            kind, text = callout_after(page, feedback, text)
            assert kind in ("warn", "danger") and "not started" not in text.lower(), f"wrong code: {kind} {text!r}"
            assert "sigmoid" in text.lower(), f"the diagnosis does not point at the missing sigmoid: {text!r}"
            assert "Traceback" not in text

            type_into_cell(page, stub, RIGHT_LOSS)
            kind, text = callout_after(page, feedback, text)
            assert kind == "success", f"right code: {kind} {text!r}"
            assert page.errors() == {}, page.describe_errors()
            page.screenshot(SCREENSHOTS / "05_sgd-exercise.png")
        finally:
            page.close()
