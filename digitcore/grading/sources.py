"""Reading submissions on the trusted side: which files are a student's, and their text.

The worker never opens the submission itself: the grader reads the files here (regular files only,
no symbolic links, size-capped) and sends their text, so a student cannot point the grader at
somebody else's files, and the submissions folder can stay hidden from the worker.
"""

import io
import tokenize
from pathlib import Path

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
        raise SubmissionError(f"{path} does not exist")
    files = [p for p in sorted(path.iterdir())
             if p.suffix == ".py" and not p.name.startswith((".", "test_")) and p.name != "conftest.py"
             and p.is_file() and not p.is_symlink()]
    if not files:
        raise SubmissionError(f"the folder {path.name} has no .py files to grade")
    return files[:MAX_FILES]


def read_sources(path) -> dict[str, str]:
    """{absolute file name: text} for every file of the submission."""
    path = Path(path)
    sources = {}
    for f in submission_files(path):
        if f.suffix != ".py":
            raise SubmissionError(f"{f.name} is not a Python (.py) file")
        with open(f, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise SubmissionError(f"{f.name} is larger than {MAX_FILE_BYTES >> 20} MB")
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            text = data.decode(encoding)
        except (SyntaxError, UnicodeDecodeError, LookupError) as e:
            raise SubmissionError(f"{f.name} could not be read as text ({e})") from e
        sources[str(f.resolve())] = text
    return sources


def find_students(submissions_dir) -> dict[str, Path]:
    """Every .py file or folder directly in the class folder is one student (hidden entries ignored)."""
    folder = Path(submissions_dir)
    if not folder.is_dir():
        raise SubmissionError(f"the submissions folder {folder} does not exist")
    students = {}
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or p.name in ("__pycache__", "__init__.py", "conftest.py") or p.is_symlink():
            continue
        if (p.is_file() and p.suffix == ".py") or p.is_dir():
            name = student_name(p)
            if name in students:
                name = f"{name}-{'folder' if p.is_dir() else 'file'}"
            students[name] = p
    return students


def check_out_dir(submissions_dir, out_dir) -> tuple[Path, Path]:
    subs, out = Path(submissions_dir).resolve(), Path(out_dir).resolve()
    if out == subs or subs in out.parents:
        raise SubmissionError(f"the grades folder {out} is inside the submissions folder {subs}: "
                              "choose a folder outside it (a student could otherwise be graded as 'grades')")
    if out in subs.parents:
        raise SubmissionError(f"the submissions folder {subs} is inside the grades folder {out}: keep them apart")
    return subs, out
