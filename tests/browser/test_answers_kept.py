"""Lessons served as apps keep a student's answers in the browser's localStorage (digitcore/answers.py): lesson 10's
written answers, and lesson 01's self-check quiz and typed input, survive a reload of the page and a restart of the
server; the download holds lesson 10's; the kept radio group works from the keyboard."""

from marimo_driver import ROOT, free_port, serve

QUESTIONNAIRE = ROOT / "lessons" / "10_questionnaire.py"
PIXELS = ROOT / "lessons" / "01_pixels_and_tensors.py"
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


# lesson 01: a quiz pick, a quiz text answer and the typed `data =`, each with what the page says once it has them
PICK = ("3. In a uint8 MNIST image, what does a pixel value of 255 mean?", "full ink")
TYPED = ("7. How many numbers does one MNIST image hold?", "784")
DATA = ("data =", "[[7, 8], [9, 10]]")
SHOWN = ("0 is blank paper, 255 the darkest stroke.", "28 × 28 = 784.", "tensor ([[ 7 , 8 ], [ 9 , 10 ]])")  # as __text spaces it


def lesson01_says(page) -> tuple[bool, str, str]:
    group = page.page.get_by_role("group", name=PICK[0])
    return (group.get_by_role("radio", name=PICK[1], exact=True).is_checked(),
            page.page.get_by_label(TYPED[0]).input_value(), page.page.get_by_label(DATA[0]).input_value())


def shows_feedback(page) -> None:
    for text in SHOWN:
        page.page.wait_for_function("(t) => __text().includes(t)", arg=text, timeout=60_000)


def test_quiz_answers_and_typed_inputs_survive_a_reload_and_a_server_restart(open_page):
    port = free_port()
    with serve(PIXELS, port=port) as server:
        page = open_page(server.url)
        page.open(timeout=240)
        assert "in this browser, on this computer" in page.text()
        assert not any(t in page.text() for t in SHOWN)
        page.page.get_by_role("group", name=PICK[0]).get_by_role("radio", name=PICK[1], exact=True).check()
        for label, text in (TYPED, DATA):
            page.page.get_by_label(label).fill(text)
            page.page.get_by_label(label).press("Enter")  # Enter hands the text to the kernel at once
        shows_feedback(page)

        page.page.reload()
        page.wait_idle(timeout=240)
        assert lesson01_says(page) == (True, TYPED[1], DATA[1])
        shows_feedback(page)

    with serve(PIXELS, port=port) as server:  # a new server process at the same address
        page.page.goto(server.url, wait_until="domcontentloaded")
        page.wait_idle(timeout=240)
        assert lesson01_says(page) == (True, TYPED[1], DATA[1])
        shows_feedback(page)


def test_kept_radio_group_works_from_the_keyboard(open_page):
    with serve(PIXELS) as server:
        page = open_page(server.url)
        page.open(timeout=240)
        first = page.page.get_by_role("group", name="1. What is the rank of a tensor of shape (6131, 28, 28)?")
        first.get_by_role("radio", name="28", exact=True).focus()
        page.page.keyboard.press("Tab")  # into the next question's group, on its first option, nothing picked
        second = page.page.get_by_role("group", name="2. What is the rank of one colour image?")
        radios = [second.get_by_role("radio", name=n, exact=True) for n in "1234"]
        assert radios[0].evaluate("r => r.matches(':focus')") and not any(r.is_checked() for r in radios)
        page.page.keyboard.press("ArrowDown")
        page.page.keyboard.press("ArrowDown")  # the arrow keys move the choice: "3", the right answer
        assert [r.is_checked() for r in radios] == [False, False, True, False]
        assert radios[2].evaluate("r => r.matches(':focus-visible') && getComputedStyle(r).outlineStyle") == "solid"
        page.page.wait_for_function("() => __text().includes('Rows, columns and three channels')", timeout=60_000)
