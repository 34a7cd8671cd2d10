"""Reading submissions on the trusted side: which files are a student's, and their text.

The worker never opens the submission itself: the grader reads the files here (regular files only,
no symbolic links, size-capped) and sends their text, so a student cannot point the grader at
somebody else's files, and the submissions folder can stay hidden from the worker.
"""

import hashlib
import io
import tokenize
from collections import Counter
from pathlib import Path

from .report import untrusted

MAX_FILE_BYTES = 2 << 20
MAX_FILES = 50


class SubmissionError(Exception):
    """The submission cannot be read at all; the message is for the student."""


def student_name(path: Path) -> str:
    return path.stem if path.is_file() else path.name


def submission_files(path: Path) -> list[Path]:
    """A file is itself; a folder is its .py files (not conftest.py, not test_*.py, not hidden)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise SubmissionError(f"{untrusted(path.name)} does not exist")
    files = [p for p in sorted(path.iterdir())
             if p.suffix == ".py" and not p.name.startswith((".", "test_")) and p.name != "conftest.py"
             and p.is_file() and not p.is_symlink()]
    if not files:
        notebooks = " (a Jupyter .ipynb is not read: save it as a .py file)" if any(path.glob("*.ipynb")) else ""
        raise SubmissionError(f"the folder {untrusted(path.name)} has no .py files to grade{notebooks}")
    return files[:MAX_FILES]


def read_sources(path) -> dict[str, str]:
    """{absolute file name: text} for every file of the submission."""
    path = Path(path)
    sources = {}
    for f in submission_files(path):
        if f.suffix != ".py":
            raise SubmissionError(f"{untrusted(f.name)} is not a Python (.py) file")
        with open(f, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise SubmissionError(f"{untrusted(f.name)} is larger than {MAX_FILE_BYTES >> 20} MB")
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            text = data.decode(encoding)
        except (SyntaxError, UnicodeDecodeError, LookupError) as e:
            raise SubmissionError(f"{untrusted(f.name)} could not be read as text ({untrusted(str(e))})") from e
        sources[str(f.resolve())] = text
    return sources


# The files class grading writes beside the student folders: no student may be named like one.
RESERVED = ("gradebook.csv", "grades.json")
LONG_NAME = 120   # characters of a shown name before it is shortened (with a hash of the whole name)


def find_students(submissions_dir) -> dict[str, Path]:
    """Every .py file or folder directly in the class folder is one student: {name: path}, see student_names."""
    return scan_class(submissions_dir)[0]


def scan_class(submissions_dir) -> tuple[dict[str, Path], dict[str, str]]:
    """({name: path} for every student, {entry: why it is not graded} for everything else in the folder)."""
    folder = Path(submissions_dir)
    if not folder.is_dir():
        raise SubmissionError(f"the submissions folder {folder} does not exist")
    entries, skipped = [], {}
    for p in sorted(folder.iterdir()):
        why = _not_a_student(p)
        if why is None:
            entries.append(p)
        elif p.name != "__pycache__":
            skipped[show(p.name)] = why
    return student_names(entries), skipped


def _not_a_student(p: Path) -> str | None:
    if p.name.startswith("."):
        return "hidden (the name starts with a dot)"
    if p.name in ("__pycache__", "__init__.py", "conftest.py"):
        return "a file of Python's or pytest's own"
    if p.is_symlink():
        return "a symbolic link (only real files and folders are graded)"
    if p.is_dir() or (p.is_file() and p.suffix == ".py"):
        return None
    if p.suffix == ".ipynb":
        return "a Jupyter notebook, not a .py file: save it as one (File > Save and Export as > Executable Script)"
    return "not a .py file or a folder"


def student_names(entries: list[Path]) -> dict[str, Path]:
    """One name per entry, distinct, deterministic, and traceable to the entry:

    - a file is named by its stem (`jane.doe.py` -> `jane.doe`), a folder by its name (`bob/` -> `bob`);
    - a name that two entries would share (`bob/` and `bob.py`), or that is one of the files class
      grading writes (`gradebook.csv`, `grades.json`), gives way to the long form: the whole file name
      for a file (`bob.py`), the name and `-folder` for a folder (`bob-folder`), until no two clash.
      Long forms cannot clash (entry names are unique; a file's ends in `.py`, a folder's in `-folder`);
    - characters that do not print on one line (newlines, control and invisible characters) and `%`
      are written as `%XX` (their UTF-8 bytes); a name longer than 120 characters is cut, with a hash
      of the whole name appended.
    """
    short = {p: show(p.stem) if p.is_file() else show(p.name) for p in entries}
    long = {p: show(p.stem) + ".py" if p.is_file() else show(p.name) + "-folder" for p in entries}
    name = dict(short)
    while True:
        count = Counter(name.values())
        clash = [p for p in entries if (count[name[p]] > 1 or name[p] in RESERVED) and name[p] != long[p]]
        if not clash:
            break
        for p in clash:
            name[p] = long[p]
    return {name[p]: p for p in sorted(entries, key=lambda p: name[p])}


def show(text: str) -> str:
    """A file name as one printable line, reversibly: %XX for every byte of a character that does not print."""
    out = []
    for c in text:
        if c == "%" or not c.isprintable():
            try:
                raw = c.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                raw = c.encode("utf-8", "surrogatepass")
            out.append("".join(f"%{b:02X}" for b in raw))
        else:
            out.append(c)
    shown = "".join(out)
    if len(shown) > LONG_NAME:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        shown = f"{shown[:LONG_NAME - 13]}~{digest}"
    return shown


def check_out_dir(submissions_dir, out_dir) -> tuple[Path, Path]:
    subs, out = Path(submissions_dir).resolve(), Path(out_dir).resolve()
    if out == subs or subs in out.parents:
        raise SubmissionError(f"the grades folder {out} is inside the submissions folder {subs}: "
                              "choose a folder outside it (a student could otherwise be graded as 'grades')")
    if out in subs.parents:
        raise SubmissionError(f"the submissions folder {subs} is inside the grades folder {out}: keep them apart")
    return subs, out
