"""Lesson 10 served as an app: answers typed into its boxes survive a reload of the page and a restart of the
server (they live in the browser's localStorage, digitcore/answers.py), and the download holds them."""

from marimo_driver import ROOT, free_port, serve

QUESTIONNAIRE = ROOT / "lessons" / "10_questionnaire.py"
ANSWERS = {
    "1. How does a computer store a greyscale image? And a colour one?":
        "A grid of numbers from 0 to 255, one per pixel; colour has three such grids.",
    "30. What does the backward method do?": "It adds the gradient into .grad of the leaf tensors.",
}


def boxes_say(page) -> dict[str, str]:
    return {label: page.page.get_by_label(label).input_value() for label in ANSWERS}


def test_answers_survive_a_reload_and_a_server_restart_and_download(open_page):
    port = free_port()
    with serve(QUESTIONNAIRE, port=port) as server:
        page = open_page(server.url)
        page.open(timeout=240)
        assert "in this browser, on this computer" in page.text()
        for label, answer in ANSWERS.items():
            page.page.get_by_label(label).click()
            page.page.keyboard.type(answer)
            page.page.keyboard.press("Tab")  # leaving the box hands its text to the kernel at once
        page.page.wait_for_function("() => __text().includes('You have written 2 of 30 answers')", timeout=60_000)

        page.page.reload()
        page.wait_idle(timeout=240)
        assert boxes_say(page) == ANSWERS
        page.page.wait_for_function("() => __text().includes('You have written 2 of 30 answers')", timeout=60_000)

    with serve(QUESTIONNAIRE, port=port) as server:  # a new server process at the same address
        page.page.goto(server.url, wait_until="domcontentloaded")
        page.wait_idle(timeout=240)
        assert boxes_say(page) == ANSWERS
        page.page.wait_for_function("() => __text().includes('You have written 2 of 30 answers')", timeout=60_000)
        with page.page.expect_download() as download:
            page.page.get_by_text("Download my answers").click()
        markdown = open(download.value.path(), encoding="utf-8").read()

    assert download.value.suggested_filename == "10_questionnaire-answers.md"
    for label, answer in ANSWERS.items():
        assert f"## {label}\n\n{answer}\n" in markdown
    assert markdown.count("*(not answered)*") == 28
