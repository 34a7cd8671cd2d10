"""The lessons are usable without sight and without a mouse (WCAG 2.1 AA), checked in Chromium.

- axe-core (bundled by axe-playwright-python, so nothing is fetched) runs the WCAG 2.0/2.1 A and AA rules on each
  served lesson once it has settled: no violation in what the project renders. marimo's own page parts that a
  lesson cannot fix are left out by the selectors in MARIMO_CHROME, each listed in docs/accessibility.md.
- The training lab works from the keyboard alone: Tab reaches the learning-rate slider, the arrow keys move it,
  and the lab's curves and their words change.
"""

import pytest
from marimo_driver import LESSONS, ROOT, LessonPage, serve

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# marimo's own markup, out of a lesson's reach (docs/accessibility.md says why and how to live with each).
# fromShadowDom: a path of selectors, each inside the shadow root of the one before, as axe-core reads it.
MARIMO_CHROME = [
    '[data-testid="notebook-actions-dropdown"]',  # the app's "..." menu button, top right: an icon with no name
    {"fromShadowDom": ["marimo-refresh", '[data-testid="marimo-plugin-refresh-button"]']},  # mo.ui.refresh: its
    {"fromShadowDom": ["marimo-refresh", '[data-testid="marimo-plugin-refresh-select"]']},  # label= names neither
]

SGD = ROOT / "lessons" / "05_sgd.py"
LR = "learning rate"


def axe_violations(page: LessonPage) -> list[dict]:
    """axe-core's WCAG A/AA violations on the page as it is now, marimo's chrome left out."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page.page, context={"exclude": MARIMO_CHROME},
                        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    return results.response["violations"]


def describe(violations: list[dict]) -> str:
    return "\n".join(f"{v['id']} ({len(v['nodes'])}): {v['help']}\n" + "\n".join(
        f"    {n['target']}: {n['html'][:200]}" for n in v["nodes"][:5]) for v in violations)


@pytest.mark.parametrize("lesson_server", LESSONS, ids=[p.stem for p in LESSONS], indirect=True)
def test_lesson_has_no_wcag_violations(lesson_server, open_page):
    page = open_page(lesson_server.url)
    page.open(timeout=240)
    assert page.errors() == {}, page.describe_errors()
    violations = axe_violations(page)
    assert violations == [], f"{sum(len(v['nodes']) for v in violations)} failing nodes:\n{describe(violations)}"


# The focused element, through shadow roots: its role, and the label of the marimo control it is in.
FOCUSED_JS = """() => {
  let e = document.activeElement, label = null;
  while (e) {
    if (e.dataset && e.dataset.label) label = e.dataset.label;
    if (!e.shadowRoot || !e.shadowRoot.activeElement) break;
    e = e.shadowRoot.activeElement;
  }
  return {role: e && e.getAttribute('role'), label, now: e && e.getAttribute('aria-valuenow')};
}"""


def tab_to_slider(page: LessonPage, label: str, max_tabs: int = 400) -> dict:
    """Press Tab from the top of the page until the focus is on the slider whose label contains `label`."""
    page.page.locator("body").focus()
    for _ in range(max_tabs):
        page.page.keyboard.press("Tab")
        focused = page.page.evaluate(FOCUSED_JS)
        if focused["role"] == "slider" and label in (focused["label"] or ""):
            return focused
    raise AssertionError(f"{max_tabs} presses of Tab never reached the {label!r} slider")


def lab_words(page: LessonPage) -> str:
    """The lab curves' text alternative (plots.described_chart): what a screen reader reads for them."""
    return page.page.locator("figure[aria-label^='Training curves']").first.get_attribute("aria-label")


def test_lab_works_from_the_keyboard_alone(browser):
    with serve(SGD) as server:
        page = LessonPage(browser, server.url)
        try:
            page.open(timeout=240)
            words_before, specs_before = lab_words(page), page.chart_specs()
            focused = tab_to_slider(page, LR)
            runs = page.runs()
            page.page.keyboard.press("ArrowRight")
            page.wait_idle(after_runs=runs)
            assert page.slider_index(LR) == int(focused["now"]) + 1, "the arrow key did not move the slider"
            assert page.chart_specs() != specs_before, "the lab's charts did not change"
            assert lab_words(page) != words_before, f"the curves' words did not change: {words_before}"
            assert page.errors() == {}, page.describe_errors()
        finally:
            page.close()
