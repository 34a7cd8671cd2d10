"""Every lesson opens in Chromium as an app (`marimo run`) and every cell ends without an error."""

import json

import pytest
from marimo_driver import LESSONS, ROOT, SCREENSHOTS, serve

from digitcore import snapshots


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


def test_the_title_page_makes_way_when_the_title_cell_fails(tmp_path, open_page):
    """A lesson whose title cell raises (a student's edit, say): marimo draws the error and the prose below it,
    and the title page goes then, not after its 15 s fallback."""
    lesson = tmp_path / "my lessons v2" / "05_sgd.py"
    head = snapshots.first_screen_path(lesson)
    head.parent.mkdir(parents=True)
    head.write_text(snapshots.first_screen_path(ROOT / "lessons" / "05_sgd.py").read_text(encoding="utf-8"))
    lesson.write_text(f"""import marimo

app = marimo.App(html_head_file={json.dumps(head.relative_to(lesson.parent).as_posix())})


@app.cell
def _():
    raise RuntimeError("a broken title cell")


@app.cell
def _():
    import marimo as mo

    mo.md("Below the title, the lesson goes on.")
    return


if __name__ == "__main__":
    app.run()
""", encoding="utf-8")
    with serve(lesson, plain=True) as server:
        page = open_page(server.url)
        page.open(timeout=120)
        first = page.state()["firstScreen"]
    assert first["shown"] is not None and first["gone"] is not None, first
    assert first["cellsWithTextWhenGone"] >= 1, f"the title page left before marimo drew anything: {first}"
