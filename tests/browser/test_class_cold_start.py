"""A freshly started plain `marimo run` survives a whole class opening it at the same moment.

Before digitcore/lesson_imports.py, 8 tabs opening a cold server made the kernel threads and marimo's formatter
registration import torch at once: every tab showed "partially initialized module 'torch.nn.parameter'" and the
server stayed broken (2 of 2 rounds here). Each round starts a new server (cold: nothing imported yet) and opens 8
pages without waiting between them. Rounds stop after ROUNDS or once BUDGET_S has passed, whichever is first.
tests/test_lesson_imports.py pins the same race down in seconds without a browser.
"""

import time

import pytest
from marimo_driver import ROOT, LessonPage, serve

LESSON = ROOT / "lessons" / "05_sgd.py"
PAGES = 8
ROUNDS = 3
BUDGET_S = 150  # no new round starts after this; one round takes 1 to 2 minutes on a busy 2-core machine

pytestmark = pytest.mark.skipif(not LESSON.exists(), reason="lessons/05_sgd.py is missing")


def open_at_once(browser, url: str, n: int) -> list[LessonPage]:
    pages = [LessonPage(browser, url) for _ in range(n)]
    for page in pages:
        page.page.goto(url, wait_until="commit")  # the next page starts before this one has loaded
    return pages


def test_cold_plain_marimo_run_survives_a_class_opening_it_at_once(browser):
    start, rounds = time.monotonic(), 0
    while rounds < ROUNDS and (rounds == 0 or time.monotonic() - start < BUDGET_S):
        rounds += 1
        with serve(LESSON, plain=True) as server:
            pages = open_at_once(browser, server.url, PAGES)
            try:
                for k, page in enumerate(pages):
                    try:
                        page.wait_idle(timeout=400)
                    except Exception as e:  # a page that never finishes is the failure students saw
                        pytest.fail(f"round {rounds}, page {k}: never finished rendering ({e})\n"
                                    f"{page.describe_errors()}\n{server.log()[-3000:]}")
                    assert page.errors() == {}, f"round {rounds}, page {k}: {page.describe_errors()}"
                    assert page.failed_runs() == [], f"round {rounds}, page {k}: {page.describe_errors()}"
                log = server.log()
                assert "Traceback (most recent call last)" not in log, f"round {rounds}:\n{log[-4000:]}"
            finally:
                for page in pages:
                    page.close()
