"""Browser fixtures: Debian's Chromium through Playwright, and a marimo server per lesson.

The tests run when /usr/bin/chromium and playwright are installed (.ci/run installs both); otherwise they skip
and say why. Lessons read DIGITCORE_DATA from the environment, as CI sets it.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from marimo_driver import CHROMIUM, SPAWNED, LessonPage, group_alive, launch_chromium, serve

_missing = []
if not CHROMIUM.exists():
    _missing.append(f"{CHROMIUM} is missing (apt-get install chromium)")
if importlib.util.find_spec("playwright") is None:
    _missing.append("the playwright Python package is missing (pip install playwright; no `playwright install`)")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)
            if _missing:
                item.add_marker(pytest.mark.skip(reason="browser tests need " + "; ".join(_missing)))


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives the lessons in Chromium (tests/browser)")


@pytest.fixture(scope="session", autouse=True)
def nothing_left_running():
    """After the browser tests: no process of any marimo server they started is still alive."""
    yield
    alive = [pgid for pgid in SPAWNED if group_alive(pgid)]
    assert not alive, f"marimo server process groups still running after the tests: {alive}"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


@pytest.fixture
def lesson_server(request):
    """`marimo run` for the lesson given by indirect parametrization; stopped (process group) afterwards."""
    with serve(request.param) as server:
        yield server
    assert not group_alive(server.proc.pid), "a marimo process of this test is still running"


@pytest.fixture
def open_page(browser):
    """Factory: a LessonPage on a URL, closed after the test."""
    pages = []

    def _open(url):
        page = LessonPage(browser, url)
        pages.append(page)
        return page

    yield _open
    for page in pages:
        page.close()

