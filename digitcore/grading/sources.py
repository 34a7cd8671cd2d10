"""Reading submissions on the trusted side: which files are a student's, and their text.

The worker never opens a submission: its text is read here and sent, so no student can point the grader at
another's files. Below the folder the instructor named, every entry is opened relative to its parent, without
following a link (O_NOFOLLOW), and checked once open: only a regular file with one name (no hard link, which
Python's tarfile can make), of a capped size, is read. What is not graded is named, with why, in the report.
"""

import hashlib
import io
import os
import stat
import tokenize
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .report import skipped_lines, untrusted

MAX_FILE_BYTES = 2 << 20
MAX_FILES = 50
GRADED_SUFFIXES = (".py", ".ipynb")


class SubmissionError(Exception):
    """The submission cannot be read at all; the message is for the student."""


@dataclass
class Submission:
    sources: dict = field(default_factory=dict)   # {"/submission/<file>": Python text}: no host path reaches the worker
    skipped: list = field(default_factory=list)   # [(what, why)] for every entry of the submission not graded


def read_submission(path) -> Submission:
    """The text of every file of a submission (a .py file, a notebook, or a folder of them), and what was
    left out. The folder holding `path` is the instructor's; nothing below it is followed through a link."""
    path = Path(path)
    parent_fd = os.open(os.path.realpath(path.parent), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            st = os.stat(path.name, dir_fd=parent_fd, follow_symlinks=False)
        except FileNotFoundError:
            raise SubmissionError(f"{untrusted(path.name)} does not exist") from None
        why = _not_graded(path.name, st, top=True)
        if why:
            raise SubmissionError(f"{untrusted(path.name)} is not graded: it is {why}")
        if not stat.S_ISDIR(st.st_mode):
            submission = Submission()
            _read_file(parent_fd, path.name, st, submission)
            return submission
        fd = _open_checked(parent_fd, path.name, st)
        try:
            return _read_folder(fd, path.name)
        finally:
            os.close(fd)
    finally:
        os.close(parent_fd)


def _open_checked(dir_fd: int, name: str, seen: os.stat_result) -> int:
    """Open `name` in the folder `dir_fd` without following a link, and make sure it is what lstat saw (an
    entry swapped for another between the two is refused)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | (os.O_DIRECTORY if stat.S_ISDIR(seen.st_mode) else 0)
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError as e:
        raise SubmissionError(f"{untrusted(name)} could not be opened ({e.strerror})") from None
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != (seen.st_dev, seen.st_ino) or _not_graded(name, st, top=True):
        os.close(fd)
        raise SubmissionError(f"{untrusted(name)} changed while it was being read: not graded")
    return fd


def _not_graded(name: str, st: os.stat_result, *, top: bool) -> str | None:
    """Why an entry is not graded, from its lstat (None: it is read). `top`: the submission itself, which
    may be a folder; inside a student's folder only files directly in it are read."""
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link (only real files and folders are graded)"
    if stat.S_ISDIR(st.st_mode):
        return None if top else "a folder (only the files directly in your submission folder are graded)"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a pipe, a device or a socket)"
    if st.st_nlink != 1:
        return "a hard link, a second name of a file elsewhere (only a file of your own is graded: hand in a copy)"
    if Path(name).suffix not in GRADED_SUFFIXES:
        return "not a .py file, a notebook (.ipynb) or a folder" if top else "not a .py file or a notebook (.ipynb)"
    return None


def _read_folder(folder_fd: int, shown: str) -> Submission:
    submission = Submission()
    candidates = []
    for name in sorted(os.listdir(folder_fd)):
        st = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
        why = _skip_by_name(name, top=False) or _not_graded(name, st, top=False)
        if why is None and len(candidates) >= MAX_FILES:
            why = f"one file too many: at most {MAX_FILES} files of a folder are graded (the first {MAX_FILES} by name)"
        if why is None:
            candidates.append((name, st))
        elif name != "__pycache__":
            submission.skipped.append((show(name), why))
    if not candidates:
        why = "".join(f"; {line}" for line in skipped_lines(submission.skipped, 5))
        raise SubmissionError(f"the folder {untrusted(shown)} has no .py files or notebooks to grade{why}")
    for name, st in candidates:
        _read_file(folder_fd, name, st, submission)
    return submission


def _skip_by_name(name: str, top: bool) -> str | None:
    """Why an entry is not graded, by its name alone. `top`: directly in the class folder (a student's file
    may be named test_*.py there), else in a student's folder (which may hold an __init__.py)."""
    if name.startswith("."):
        return "hidden (the name starts with a dot)"
    if name in ("__pycache__", "conftest.py") or (name == "__init__.py" if top else name.startswith("test_")):
        return "a file of Python's or pytest's own (a cache, a test file or a package's __init__.py): not graded"
    return None


def _read_file(dir_fd: int, name: str, seen: os.stat_result, submission: Submission):
    with open(_open_checked(dir_fd, name, seen), "rb") as f:   # a regular file (checked once open): up to the cap
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SubmissionError(f"{untrusted(name)} is larger than {MAX_FILE_BYTES >> 20} MB")
    if name.endswith(".ipynb"):
        text, notes = notebook_source(data, name)
        submission.skipped += notes
    else:
        try:
            text = data.decode(tokenize.detect_encoding(io.BytesIO(data).readline)[0])
        except (SyntaxError, UnicodeDecodeError, LookupError) as e:
            raise SubmissionError(f"{untrusted(name)} could not be read as text ({untrusted(str(e))})") from e
    submission.sources[f"/submission/{name}"] = text


def notebook_source(data: bytes, name: str) -> tuple[str, list]:
    """A Jupyter notebook as the Python it runs: its code cells in order (markdown and outputs are not read).
    IPython's own lines (`%magic`, `!shell`, and whole `%%cell` magics) are not Python: each becomes `pass`,
    keeping the lines where they were, and is named in the notes."""
    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        sources = [c.get("source") or "" for c in notebook.cells if c.get("cell_type") == "code"]
    except Exception as e:  # noqa: BLE001 - any failure to parse the student's notebook is theirs to fix
        raise SubmissionError(f"{untrusted(name)} is not a notebook Jupyter can read ({untrusted(type(e).__name__)}: "
                              f"{untrusted(str(e), 120)}); open it in Jupyter and save it again") from None
    notes, parts = [], []
    for number, source in enumerate(sources, 1):
        where = f"{show(name)}, cell {number}"
        lines = source.splitlines()
        if lines and lines[0].lstrip().startswith("%%"):
            notes.append((where, f"{untrusted(lines[0].strip(), 80)} makes the whole cell IPython's, not Python: "
                                 "the cell is left out"))
            lines = [""] * len(lines)
        for i, line in enumerate(lines):
            body = line.lstrip()
            if body.startswith(("%", "!")):
                notes.append((where, f"{untrusted(body, 80)} is IPython's, not Python: left out"))
                lines[i] = line[:len(line) - len(body)] + "pass"
        parts.append(f"# cell {number}\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n", notes


# The files class grading writes beside the student folders: no student may be named like one.
RESERVED = ("gradebook.csv", "grades.json")
LONG_NAME = 120   # characters of a shown name before it is shortened (with a hash of the whole name)
NAME_BYTES = 255  # ... or of bytes in UTF-8: a name is also a folder of the grades, and a path component holds 255


def scan_class(submissions_dir) -> tuple[dict[str, Path], dict[str, str]]:
    """({name: path} for every student: every .py file, notebook or folder directly in the class folder; {entry:
    why it is not graded} for everything else in the folder)."""
    folder = Path(submissions_dir)
    if not folder.is_dir():
        raise SubmissionError(f"the submissions folder {folder} does not exist")
    entries, skipped = [], {}
    for p in sorted(folder.iterdir()):
        why = _skip_by_name(p.name, top=True) or _not_graded(p.name, p.lstat(), top=True)
        if why is None:
            entries.append(p)
        elif p.name != "__pycache__":
            skipped[show(p.name)] = why
    return student_names(entries), skipped


def student_names(entries: list[Path]) -> dict[str, Path]:
    """One name per entry, distinct, deterministic, traceable: a file's stem (`jane.doe.py` -> `jane.doe`), a
    folder's name; where two entries would share one (`bob/`, `bob.py`) or it is a file class grading writes, the
    long form (`bob.py`, `bob-folder`), which cannot clash. Names are written as `show` writes them."""
    short = {p: show(p.stem) if p.is_file() else show(p.name) for p in entries}
    long = {p: _shortened(_escaped(p.stem), p.name, p.suffix) if p.is_file() else
            _shortened(_escaped(p.name), p.name + "/", "-folder") for p in entries}
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
    """A file name as one printable line, reversibly: %XX for every byte of a character that does not print;
    cut, with a hash of the whole name, past LONG_NAME characters or NAME_BYTES bytes."""
    return _shortened(_escaped(text), text)


def _escaped(text: str) -> str:
    # a lone surrogate from os.fsdecode stands for the byte it escaped
    raw = lambda c: bytes([ord(c) - 0xDC00]) if 0xDC80 <= ord(c) <= 0xDCFF else _utf8(c)
    return "".join("".join(f"%{b:02X}" for b in raw(c)) if c == "%" or not c.isprintable() else c for c in text)


def _shortened(shown: str, whole: str, tail: str = "") -> str:
    """`shown + tail`, or as much of `shown` as fits with a hash of `whole` and `tail` (LONG_NAME, NAME_BYTES)."""
    if len(shown + tail) <= LONG_NAME and len(_utf8(shown + tail)) <= NAME_BYTES:
        return shown + tail
    digest = hashlib.sha256(_utf8(whole)).hexdigest()[:12]
    cut = shown[:LONG_NAME - 13 - len(tail)]
    while len(_utf8(cut + tail)) > NAME_BYTES - 13:
        cut = cut[:-1]
    return f"{cut}~{digest}{tail}"


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def check_out_dir(submissions_dir, out_dir) -> Path:
    subs, out = Path(submissions_dir).resolve(), Path(out_dir).resolve()
    if out == subs or subs in out.parents:
        raise SubmissionError(f"the grades folder {out} is inside the submissions folder {subs}: "
                              "choose a folder outside it (a student could otherwise be graded as 'grades')")
    if out in subs.parents:
        raise SubmissionError(f"the submissions folder {subs} is inside the grades folder {out}: keep them apart")
    return out
