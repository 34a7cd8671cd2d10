"""Every lesson opens in Chromium as an app (`marimo run`) and every cell ends without an error."""

import pytest
from marimo_driver import LESSONS, SCREENSHOTS


@pytest.mark.parametrize("lesson_server", LESSONS, ids=[p.stem for p in LESSONS], indirect=True)
def test_lesson_loads_without_errors(lesson_server, open_page):
    page = open_page(lesson_server.url)
    page.open(timeout=240)
    page.screenshot(SCREENSHOTS / f"{lesson_server.notebook.stem}.png")

    assert page.errors() == {}, page.describe_errors()
    assert page.dom_errors() == [], page.describe_errors()
    assert page.failed_runs() == [], page.describe_errors()
    assert page.page_errors == [], page.describe_errors()
    assert "Traceback (most recent call last)" not in lesson_server.log(), lesson_server.log()[-3000:]
    assert len(page.text()) > 500, "the page shows almost nothing"
    # the title page (digitcore/snapshots.py) was on screen before marimo drew the lesson, and made way for the same
    # title drawn by marimo, not for an empty page
    first = page.state()["firstScreen"]
    assert first["shown"] is not None, "the lesson's title page never showed (its html_head_file is missing?)"
    assert first["gone"] is not None and first["gone"] > first["shown"], f"the title page stayed on: {first}"
    assert first["title"] and first["rootTitleWhenGone"] == first["title"], first
