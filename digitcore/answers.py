"""A student's written answers in a lesson served as an app, kept in the student's own browser.

`marimo run` forgets everything typed into a page when it reloads or the server restarts. An `answer_box` keeps its
text in the browser's localStorage under the lesson and question (`digitcore-answers:<lesson>:<question>`), so it
comes back after a reload or a restart, with no state on the server and nothing shared between students. The
storage is this browser on this computer, for the lesson's address (host and port): `answers_download` gives the
student a markdown file of every answer, to keep or to hand in.

    notes = mo.ui.dictionary({"30": answer_box("10_questionnaire", "30", "30. What does backward do?")})
    answers_download("10_questionnaire", "Questionnaire", {"30": "30. What does backward do?"}, answer_texts(notes))
"""

from __future__ import annotations

import anywidget
import marimo as mo
import traitlets

STORAGE_PREFIX = "digitcore-answers"

WHERE_ANSWERS_LIVE = ("Your answers are saved **in this browser, on this computer** (its local storage for this "
                      "lesson's address), as you type: they come back after a reload or a restart of the lesson, "
                      "but not in another browser or on another computer. Nothing is sent or graded. To keep them or "
                      "hand them in, download them as a markdown file (the button at the end of the page).")

_ESM = """
function render({ model, el }) {
  const key = model.get("key");
  const id = "answer-" + key.replace(/[^A-Za-z0-9_-]/g, "-");
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = model.get("label");
  const box = document.createElement("textarea");
  box.id = id;
  box.rows = model.get("rows");
  box.placeholder = model.get("placeholder");
  let saved = null;
  try { saved = window.localStorage.getItem(key); } catch (e) { /* storage refused: the box still works */ }
  box.value = saved !== null ? saved : model.get("value");
  let timer = null;
  const send = () => {
    clearTimeout(timer);
    if (model.get("value") !== box.value) { model.set("value", box.value); model.save_changes(); }
  };
  if (saved !== null) send();
  box.addEventListener("input", () => {
    try { window.localStorage.setItem(key, box.value); } catch (e) { /* kept on the page only */ }
    clearTimeout(timer);
    timer = setTimeout(send, 400);
  });
  box.addEventListener("blur", send);
  model.on("change:value", () => { if (document.activeElement !== box) box.value = model.get("value"); });
  el.append(label, box);
}
export default { render };
"""

_CSS = """
label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
textarea { width: 100%; box-sizing: border-box; font: inherit; padding: 0.4rem; border: 1px solid #999;
           border-radius: 4px; resize: vertical; }
textarea:focus { outline: 2px solid #1d4ed8; outline-offset: 1px; }
"""


class AnswerBox(anywidget.AnyWidget):
    """A labelled text box whose text lives in the browser's localStorage under `key`, and in `value`."""

    _esm = _ESM
    _css = _CSS
    key = traitlets.Unicode().tag(sync=True)
    label = traitlets.Unicode().tag(sync=True)
    placeholder = traitlets.Unicode("").tag(sync=True)
    rows = traitlets.Int(2).tag(sync=True)
    value = traitlets.Unicode("").tag(sync=True)

    def __deepcopy__(self, memo) -> AnswerBox:
        """A new box with the same traits: mo.ui.dictionary copies its elements, and ipywidgets cannot copy itself."""
        return AnswerBox(key=self.key, label=self.label, placeholder=self.placeholder, rows=self.rows, value=self.value)


def storage_key(lesson: str, question: str) -> str:
    return f"{STORAGE_PREFIX}:{lesson}:{question}"


def answer_box(lesson: str, question: str, label: str, placeholder: str = "your answer, in your own words",
               rows: int = 2):
    """A marimo element: the box for one question, its visible label the question itself."""
    return mo.ui.anywidget(AnswerBox(key=storage_key(lesson, question), label=label, placeholder=placeholder,
                                     rows=rows))


def answer_texts(boxes) -> dict[str, str]:
    """{question: text} from a mo.ui.dictionary of answer boxes (an element's value is its widget's state)."""
    return {question: state.get("value", "") for question, state in boxes.value.items()}


def answers_markdown(title: str, labels: dict[str, str], texts: dict[str, str]) -> str:
    """Every question (its label) and the answer typed under it, as a markdown document; unanswered ones say so."""
    parts = [f"# {title}: my answers", ""]
    for question, label in labels.items():
        answer = texts.get(question, "").strip()
        parts += [f"## {label}", "", answer if answer else "*(not answered)*", ""]
    return "\n".join(parts)


def answers_download(lesson: str, title: str, labels: dict[str, str], texts: dict[str, str]):
    """A button that downloads answers_markdown as `<lesson>-answers.md`."""
    written = sum(bool(t.strip()) for t in texts.values())
    return mo.download(data=answers_markdown(title, labels, texts).encode("utf-8"), filename=f"{lesson}-answers.md",
                       mimetype="text/markdown", label=f"Download my answers ({written} written, markdown)")
