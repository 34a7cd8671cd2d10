"""A student's answers in a lesson served as an app, kept in the student's own browser.

`marimo run` forgets everything typed into a page when it reloads or the server restarts. The elements here keep
their value in the browser's localStorage under a key (`digitcore-answers:<lesson>:<question>`), so it comes back
after a reload or a restart, with no state on the server and nothing shared between students. The storage is this
browser on this computer, for the lesson's address (host and port). Three kinds, one widget and one script:

- `answer_box`: a written answer (a text area; lesson 10's 30 questions). `answers_download` gives the student a
  markdown file of every answer, to keep or to hand in.
- `kept_text`: a one-line input a student types into (a self-check such as lesson 01's `data =`).
- `kept_choice`: a radio group (a fieldset named by its question; Tab enters it, the arrow keys move the choice).
  `plots.quiz` builds every lesson's self-check questions from these and `kept_text`, keyed by the question's own
  text under QUIZ (`digitcore-answers:quiz:<question>`), so the lessons' quiz cells name no key.

Each is a marimo element whose `.value` is the answer itself: the text, or the option picked (None before any).

    notes = mo.ui.dictionary({"30": answer_box("10_questionnaire", "30", "30. What does backward do?")})
    answers_download("10_questionnaire", "Questionnaire", {"30": "30. What does backward do?"}, answer_texts(notes))
    data_text = kept_text("01_pixels_and_tensors", "data", "data =", value="[[1, 2, 3], [4, 5, 6]]")
"""

from __future__ import annotations

import copy

import anywidget
import marimo as mo
import traitlets

STORAGE_PREFIX = "digitcore-answers"
QUIZ = "quiz"  # the lesson part of every self-check question's key: the question's own text names it (plots.quiz)

WHERE_ANSWERS_LIVE = ("Your answers are saved **in this browser, on this computer** (its local storage for this "
                      "lesson's address), as you type: they come back after a reload or a restart of the lesson, "
                      "but not in another browser or on another computer. Nothing is sent or graded. To keep them or "
                      "hand them in, download them as a markdown file (the button at the end of the page).")
WHERE_QUIZ_ANSWERS_LIVE = ("Your answers are saved **in this browser, on this computer**, as you pick or type them: "
                           "they come back after a reload or a restart of the lesson, but not in another browser or "
                           "on another computer. Nothing is sent or graded.")
KEPT_HINT = "kept in this browser"  # said beside each kept one-line input

_ESM = """
function inline(el, text) {  // `code` spans as <code>, the rest as text: no HTML is parsed
  text.split("`").forEach((part, i) => {
    if (!part) return;
    if (i % 2) { const c = document.createElement("code"); c.textContent = part; el.append(c); }
    else el.append(document.createTextNode(part));
  });
}

function render({ model, el }) {
  const key = model.get("key");
  const kind = model.get("kind");
  const id = "answer-" + key.replace(/[^A-Za-z0-9_-]/g, "-");
  const options = model.get("options");
  let saved = null;
  try { saved = window.localStorage.getItem(key); } catch (e) { /* storage refused: the input still works */ }
  if (kind === "choice" && saved !== null && !options.includes(saved)) saved = null;  // a stale or foreign answer
  let current = saved !== null ? saved : model.get("value");
  let timer = null;
  const send = () => {
    clearTimeout(timer);
    if (model.get("value") !== current) { model.set("value", current); model.save_changes(); }
  };
  const keep = (text, wait) => {
    current = text;
    try { window.localStorage.setItem(key, text); } catch (e) { /* kept on the page only */ }
    clearTimeout(timer);
    if (wait) timer = setTimeout(send, wait); else send();
  };

  el.className = "kept-" + kind;
  if (kind === "choice") {
    const group = document.createElement("fieldset");
    const legend = document.createElement("legend");
    inline(legend, model.get("label"));
    group.append(legend);
    const radios = options.map((option, i) => {
      const row = document.createElement("div");
      const radio = document.createElement("input");
      radio.type = "radio";
      radio.name = id;
      radio.id = id + "-" + i;
      radio.value = option;
      radio.checked = option === current;
      radio.addEventListener("change", () => { if (radio.checked) keep(option, 0); });
      const label = document.createElement("label");
      label.htmlFor = radio.id;
      inline(label, option);
      row.append(radio, label);
      group.append(row);
      return radio;
    });
    model.on("change:value", () => { current = model.get("value"); radios.forEach(r => { r.checked = r.value === current; }); });
    el.append(group);
  } else {
    const label = document.createElement("label");
    label.htmlFor = id;
    inline(label, model.get("label"));
    const box = document.createElement(kind === "line" ? "input" : "textarea");
    if (kind === "line") { box.type = "text"; box.spellcheck = false; } else box.rows = model.get("rows");
    box.id = id;
    box.placeholder = model.get("placeholder");
    box.value = current;
    box.addEventListener("input", () => keep(box.value, 400));
    box.addEventListener("blur", send);
    box.addEventListener("keydown", (e) => { if (e.key === "Enter" && kind === "line") send(); });
    model.on("change:value", () => { current = model.get("value"); if (document.activeElement !== box) box.value = current; });
    el.append(label, box);
    if (model.get("hint")) {
      const hint = document.createElement("span");
      hint.className = "hint";
      hint.id = id + "-hint";
      hint.textContent = model.get("hint");
      box.setAttribute("aria-describedby", hint.id);
      el.append(hint);
    }
  }
  if (saved !== null) send();
}
export default { render };
"""

_CSS = """
label { font-weight: 600; }
.kept-area label { display: block; margin-bottom: 0.25rem; }
textarea, input[type=text] { font: inherit; padding: 0.4rem; border: 1px solid #767676; border-radius: 4px; }
textarea { width: 100%; box-sizing: border-box; resize: vertical; }
.kept-line { display: flex; align-items: center; gap: 0.5rem; flex-wrap: wrap; }
.kept-line input { flex: 1 1 12rem; font-family: ui-monospace, monospace; }
.hint { color: #595959; font-size: 0.85em; }
fieldset { border: none; margin: 0; padding: 0; }
legend { font-weight: 600; padding: 0; margin-bottom: 0.3rem; }
fieldset div { display: flex; align-items: center; gap: 0.4rem; margin: 0.15rem 0; }
fieldset label { font-weight: normal; }
input[type=radio] { margin: 0; width: 1rem; height: 1rem; }
code { font-family: ui-monospace, monospace; font-size: 0.9em; background: #f2f2f2; padding: 0 0.2em; border-radius: 3px; }
textarea:focus, input:focus-visible { outline: 2px solid #1d4ed8; outline-offset: 2px; }
"""


class AnswerBox(anywidget.AnyWidget):
    """An answer whose text lives in the browser's localStorage under `key`, and in `value`: `kind` "area" (a
    text area), "line" (a one-line input) or "choice" (a radio group over `options`; "" before any pick)."""

    _esm = _ESM
    _css = _CSS
    key = traitlets.Unicode().tag(sync=True)
    label = traitlets.Unicode().tag(sync=True)
    kind = traitlets.Unicode("area").tag(sync=True)
    options = traitlets.List(traitlets.Unicode(), default_value=[]).tag(sync=True)
    placeholder = traitlets.Unicode("").tag(sync=True)
    hint = traitlets.Unicode("").tag(sync=True)
    rows = traitlets.Int(2).tag(sync=True)
    value = traitlets.Unicode("").tag(sync=True)

    def __deepcopy__(self, memo) -> AnswerBox:
        """A new box with the same traits: mo.ui.dictionary copies its elements, and ipywidgets cannot copy itself."""
        return AnswerBox(**{name: copy.copy(getattr(self, name)) for name in _TRAITS})


_TRAITS = ("key", "label", "kind", "options", "placeholder", "hint", "rows", "value")


class KeptAnswer(mo.ui.anywidget):
    """An AnswerBox as a marimo element whose value is the answer itself (not the widget's state): the text, or
    for a choice the option picked, None before any, as mo.ui.text and mo.ui.radio give them."""

    def _convert_value(self, value):
        super()._convert_value(value)  # the page's update reaches the widget (an empty first value leaves it)
        return self._answer()

    def _answer(self):
        text = self.widget.value
        return (text or None) if self.widget.kind == "choice" else text

    @property
    def value(self):
        return self._answer()

    def __deepcopy__(self, memo) -> KeptAnswer:
        return KeptAnswer(copy.deepcopy(self.widget, memo))


def storage_key(lesson: str, question: str) -> str:
    return f"{STORAGE_PREFIX}:{lesson}:{question}"


def answer_box(lesson: str, question: str, label: str, placeholder: str = "your answer, in your own words",
               rows: int = 2) -> KeptAnswer:
    """A written answer: the box for one question, its visible label the question itself."""
    return KeptAnswer(AnswerBox(key=storage_key(lesson, question), label=label, placeholder=placeholder, rows=rows))


def kept_text(lesson: str, name: str, label: str, value: str = "", hint: str = KEPT_HINT) -> KeptAnswer:
    """A one-line input like mo.ui.text(value=, label=) whose text is kept; `value` until the student types."""
    return KeptAnswer(AnswerBox(key=storage_key(lesson, name), label=label, kind="line", value=value, hint=hint))


def kept_choice(lesson: str, name: str, label: str, options) -> KeptAnswer:
    """A radio group like mo.ui.radio(options, label=) whose pick is kept; a saved pick that is no longer one of
    `options` is ignored."""
    return KeptAnswer(AnswerBox(key=storage_key(lesson, name), label=label, kind="choice",
                                options=[str(o) for o in options]))


def answer_texts(boxes) -> dict[str, str]:
    """{question: text} from a mo.ui.dictionary of answer boxes."""
    return {question: text or "" for question, text in boxes.value.items()}


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
