"""Red team for the grader's isolation (issue 9): each student below attacks one failure class, graded as
one class with one warm zygote (so the scanner is forked from the very process that served the secret
student just before), and every test asserts the exact grade and that nothing leaked, outlived the
sandbox, or was written outside OUT.

    a_secret     holds a secret in its source, its memory and files (workdir, /tmp, /dev/shm, /run/lock,
                 /var/tmp), and leaves a Timer thread, a __del__ and an atexit handler to write more later
    b_scanner    reads its own memory (/proc/self/maps + numpy's __array_interface__, no ctypes) and every
                 file it can reach, looking for a_secret's secret; it proves its scanner works on a canary
    c_reference  looks for a reference: the probes' loss, solutions/exercises.py and digitcore/chapter.py
                 anywhere on the file system (read with torch.from_file, which no audit hook sees)
    d_guard_off  switches the audit hook off with one line, then tries fork, exec, ctypes fork, a shell,
                 ptrace-like reads of the zygote, the network and the project's files
    e_frames     writes its own 16 MB frames (and a flood of small ones) to the result pipe
    f_slow       sleeps just under the per-check limit in every check, then crashes
"""

import os
import resource
import secrets
import shutil
import time
from pathlib import Path

import pytest

from digitcore.grading import runner
from digitcore.grading.classroom import grade_reports, write_outputs
from digitcore.grading.client import isolation_mode
from digitcore.grading.sandboxed.zygote import children_of

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = (ROOT / "solutions" / "exercises.py").read_text()
TIME_LIMIT = 5.0
EXERCISE_BUDGET = 8.0
STUDENT_BUDGET = 16.0
SECRET = "SECRET-" + secrets.token_hex(8)
TOKEN = "dcleak" + secrets.token_hex(4)       # names of files the attacks try to leave behind
HOST_PLACES = ["/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/run"]

needs_bwrap = pytest.mark.skipif(not isolation_mode()["bwrap"] or os.geteuid() != 0,
                                 reason="needs bubblewrap (apt-get install bubblewrap) and root: the weaker mode "
                                        "cannot hide files or give each child its own folders")
needs_seccomp = pytest.mark.skipif(not isolation_mode()["seccomp"],
                                   reason="needs Debian's python3-seccomp for /usr/bin/python3")

SECRET_STUDENT = '''
import atexit, os, threading

SECRET_TEXT = "{secret}"   # the secret, in the source text


def _leave(name):
    for folder in (os.getcwd(), "/tmp", "/dev/shm", "/run/lock", "/var/tmp", "/run", "{out}"):
        try:
            with open(os.path.join(folder, "{token}_" + name), "w") as f:
                f.write(SECRET_TEXT)
        except OSError:
            pass


class Lingers:
    def __del__(self):
        _leave("del")


_keep = []
atexit.register(_leave, "atexit")


def mnist_loss(predictions, targets):
    _leave("now")
    held = [SECRET_TEXT + str(i) for i in range(50)]        # and in memory, many times
    _keep.append(held)
    _keep.append(Lingers())
    t = threading.Timer(0.5, _leave, args=("timer",))
    t.start()
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()
'''

SCANNER_STUDENT = '''
import os, re, sys
import numpy as np
sys.modules["digitcore.grading.sandboxed.guards"].Guard.refuse = lambda *a, **k: None   # the audit hook, off

_PATTERN = re.compile(rb"SECR" + rb"ET-[0-9a-f]{{16}}")
_verdict = []


class _Window:
    def __init__(self, address, size):
        self.__array_interface__ = {{"data": (address, True), "shape": (size,), "typestr": "|u1", "version": 3}}


def _memory():
    """Every readable anonymous region (heap, freed memory inherited through fork) of this process, read
    through numpy (no ctypes, no audited call)."""
    with open("/proc/self/maps") as f:
        maps = f.read().splitlines()
    for line in maps:
        parts = line.split()
        if len(parts) < 2 or not parts[1].startswith("r") or (len(parts) > 5 and parts[5] not in ("[heap]", "[stack]")):
            continue
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        for start in range(lo, hi, 8 << 20):
            yield np.asarray(_Window(start, min(8 << 20, hi - start))).tobytes()


def _files():
    for folder, dirs, files in os.walk("/"):
        if folder == "/dev":
            dirs[:] = ["shm"]
            continue
        if folder.startswith(("/proc", "/sys", "/usr")) or "/lib/python" in folder:
            dirs[:] = []
            continue
        for name in files:
            try:
                with open(os.path.join(folder, name), "rb") as f:
                    yield f.read(1 << 20)
            except OSError:
                pass


def mnist_loss(predictions, targets):
    if not _verdict:
        _verdict.append(_scan())
    if _verdict[0]:
        raise RuntimeError(_verdict[0])
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


def _scan():
    canary = ("SECR" + "ET-" + "c0ffee" * 2 + "c0ffee"[:4]).encode() * 3   # my own: the scanner must see it
    seen_canary, found = False, set()
    for chunk in _memory():
        for hit in _PATTERN.findall(chunk):
            if hit.startswith(b"SECRET-c0ffee"):
                seen_canary = True
            else:
                found.add(hit.decode())
    for chunk in _files():
        found.update(h.decode() for h in _PATTERN.findall(chunk) if not h.startswith(b"SECRET-c0ffee"))
    del canary
    if found:
        return "FOUND " + " ".join(sorted(found))
    if not seen_canary:
        return "the memory scanner does not work"
    return ""
'''

REFERENCE_STUDENT = '''
import os, sys
sys.modules["digitcore.grading.sandboxed.guards"].Guard.refuse = lambda *a, **k: None   # the audit hook, off

_found = []


def _candidates():
    for name, module in list(sys.modules.items()):            # (a) the probes' own loss, or anything like it
        for attr, value in list(vars(module).items()) if name.startswith("digitcore") else []:
            if callable(value) and "loss" in attr.lower():
                yield ("module", value)
    for folder, dirs, files in os.walk("/"):                  # (b, c) another checkout anywhere on the machine
        if folder.startswith(("/proc", "/sys", "/dev", "/usr/lib")):
            dirs[:] = []
            continue
        if folder.endswith("-packages"):                       # an installed copy, not torch's 10,000 files
            dirs[:] = [d for d in dirs if d in ("digitcore", "solutions")]
        for name in files:
            path = os.path.join(folder, name)
            if (name == "exercises.py" and folder.endswith("solutions")) or (
                    name == "chapter.py" and folder.endswith("digitcore")):
                yield ("file", path)


def _load(path):
    n = os.path.getsize(path)
    raw = torch.from_file(path, shared=False, size=n, dtype=torch.uint8)     # no audit event
    ns = {{"__name__": "stolen"}}
    exec(compile(bytes(raw.tolist()).decode(), "stolen.py", "exec"), ns)
    return ns["mnist_loss"]


def _is_reference(fn):
    value = fn(torch.tensor([0.0, 100.0]), torch.tensor([1.0, 1.0]))    # mnist_loss gives (0.5 + 0) / 2
    return type(value) is torch.Tensor and value.dim() == 0 and abs(float(value) - 0.25) < 1e-4


def mnist_loss(predictions, targets):
    if not _found:
        tried = []
        for kind, what in _candidates():
            try:
                fn = _load(what) if kind == "file" else what
                if _is_reference(fn):
                    _found.append(fn)                                # a reference: would score full marks
                    break
                tried.append(kind)
            except Exception as e:
                tried.append(type(e).__name__)
        else:
            _found.append(f"no reference found ({{len(tried)}} candidates)")
    if callable(_found[0]):
        return _found[0](predictions, targets)
    raise RuntimeError(_found[0])
'''

GUARD_OFF_STUDENT = '''
import os, socket, sys
sys.modules["digitcore.grading.sandboxed.guards"].Guard.refuse = lambda *a, **k: None   # the audit hook, off


def _escapes():
    got = []
    def attempt(name, fn):
        try:
            fn()
            got.append(name)
        except BaseException:
            pass
    def fork():
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    attempt("fork", fork)
    attempt("exec", lambda: os.execv("/usr/bin/python3", ["python3", "-c", "pass"]))
    attempt("shell", lambda: os.system("true") == 0 or (_ for _ in ()).throw(OSError()))
    def ctypes_fork():
        import ctypes
        pid = ctypes.CDLL(None).fork()
        if pid == 0:
            os._exit(0)
        if pid < 0:
            raise OSError("fork refused")
        os.waitpid(pid, 0)
    attempt("ctypes fork", ctypes_fork)
    def ctypes_unshare():
        import ctypes
        if ctypes.CDLL(None).unshare(0x10000000) != 0:   # a new user namespace
            raise OSError("refused")
    attempt("unshare", ctypes_unshare)
    attempt("network", lambda: socket.create_connection(("1.1.1.1", 53), timeout=1).close())
    attempt("read the project", lambda: open("{project}/solutions/exercises.py").read())
    attempt("read the grader", lambda: open("{project}/digitcore/chapter.py").read())
    def other_process():
        for pid in os.listdir("/proc"):
            if pid.isdigit() and int(pid) != os.getpid():
                with open(f"/proc/{{pid}}/mem", "rb") as f:
                    f.read(1)
                return
        raise OSError("no other process")
    attempt("another process's memory", other_process)
    attempt("write outside", lambda: open("/tmp/{token}_guard_off", "w").write("x"))
    return got


def mnist_loss(predictions, targets):
    got = _escapes()
    if got:
        raise RuntimeError("ESCAPED: " + ", ".join(got))
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()
'''

FRAMES_STUDENT = '''
import os, stat, struct


def mnist_loss(predictions, targets):
    for fd in range(3, 64):
        try:
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                continue
        except OSError:
            continue
        for _ in range(3):                                           # three 16 MB frames
            try:
                os.write(fd, struct.pack(">I", 16 << 20) + b"[" + b"1," * (8 << 20))
            except OSError:
                pass
        try:
            for _ in range(100_000):                                    # and a flood of small ones
                os.write(fd, struct.pack(">I", 2) + b"{{}}")
        except OSError:
            pass
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()
'''

SLOW_STUDENT = '''
import time


def _slow(*args):
    time.sleep({nap})
    raise RuntimeError("slow, then wrong")


mnist_loss = apply_step = train_epoch = mnist_distance = batch_accuracy = _slow
'''

# student -> {exercise: exact score}; the others score full marks
EXPECTED = {
    "a_secret": {"mnist_loss": 0.0},     # its writes outside its folder are refused (the audit hook says so)
    "b_scanner": {},
    "c_reference": {"mnist_loss": 0.0},
    "d_guard_off": {},
    "e_frames": {"mnist_loss": 0.0},
    "f_slow": {"mnist_loss": 0.0, "apply_step": 0.0, "train_epoch": 0.0, "mnist_distance": 0.0,
               "batch_accuracy": 0.0},
}


def leftovers() -> list[str]:
    found = []
    for place in HOST_PLACES:
        try:
            found += [os.path.join(place, n) for n in os.listdir(place) if TOKEN in n]
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory, monkeypatch_module):
    base = tmp_path_factory.mktemp("isolation class")
    subs, out = base / "submissions", base / "grades.out"
    subs.mkdir()
    fill = {"secret": SECRET, "token": TOKEN, "out": str(out), "project": str(ROOT), "nap": TIME_LIMIT * 0.9}
    texts = {"a_secret": SECRET_STUDENT, "b_scanner": SCANNER_STUDENT, "c_reference": REFERENCE_STUDENT,
             "d_guard_off": GUARD_OFF_STUDENT, "e_frames": FRAMES_STUDENT}
    for name, text in texts.items():
        (subs / f"{name}.py").write_text(SOLUTION + text.format(**fill))
    (subs / "f_slow.py").write_text(SOLUTION + SLOW_STUDENT.format(**fill))
    monkeypatch_module.setattr(runner, "EXERCISE_BUDGET", EXERCISE_BUDGET)
    monkeypatch_module.setattr(runner, "STUDENT_BUDGET", STUDENT_BUDGET)
    before = set(children_of(os.getpid()))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    registry, reports, stats = grade_reports(subs, include_hidden=False, jobs=1, time_limit=TIME_LIMIT,
                                             memory_mb=512)
    seconds = time.monotonic() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.mkdir()
    write_outputs(out, registry, reports)
    time.sleep(1.0)   # past a_secret's 0.5 s Timer: it must not have written anything anywhere
    yield {"reports": {r.student: r for r in reports}, "out": out, "subs": subs, "stats": stats,
           "children_before": before, "rss_growth_kb": rss1 - rss0, "seconds": seconds}
    for path in leftovers():
        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.unlink(path)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def failures(report, exercise):
    return [f"{c.name}: {v.message}" for c, v in report.exercises[exercise].checks if not v.passed]


@needs_bwrap
@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_exact_grade(graded, student):
    report = graded["reports"][student]
    assert not report.engine_errors
    assert report.fatal is None
    for exercise, ex in report.exercises.items():
        want = EXPECTED[student].get(exercise, ex.max_score)
        assert ex.score == want, (student, exercise, failures(report, exercise))


@needs_bwrap
@needs_seccomp
def test_full_isolation_is_reported(graded):
    for report in graded["reports"].values():
        for layer in ("bwrap", "pidns", "netns", "private-tmpfs", "setuid(nobody)", "no_new_privs", "seccomp"):
            assert layer in report.isolation, (report.student, report.isolation)
        assert "weaker" not in report.isolation


@needs_bwrap
def test_item1_no_student_sees_another_students_code(graded):
    """The scanner is forked right after the secret student by the same zygote, reads every readable
    byte of its own memory and every file it can reach, and finds nothing; its canary proves it looked."""
    scanner = graded["reports"]["b_scanner"]
    assert scanner.exercises["mnist_loss"].score == scanner.exercises["mnist_loss"].max_score, failures(
        scanner, "mnist_loss")
    for path in graded["out"].rglob("*"):
        if path.is_file() and "a_secret" not in path.parts:
            assert SECRET not in path.read_text(), path


@needs_bwrap
def test_item2_no_reference_in_reach(graded):
    messages = failures(graded["reports"]["c_reference"], "mnist_loss")
    assert messages and all("no reference found" in m for m in messages), messages


def test_item2_probes_hold_no_graded_reference():
    """Every function the worker loads (the probes module) differs from the reference mnist_loss."""
    import torch

    from digitcore import chapter
    from digitcore.exercises import probes

    preds, targets = torch.tensor([0.3, -1.2, 2.0, 0.1]), torch.tensor([1.0, 0.0, 1.0, 0.0])
    want = chapter.mnist_loss(preds, targets)
    for name, fn in vars(probes).items():
        if callable(fn) and getattr(fn, "__module__", None) == probes.__name__ and not name.startswith("probe_"):
            try:
                got = fn(preds, targets)
            except Exception:  # noqa: BLE001, S112 - not a two-argument loss
                continue
            assert not (isinstance(got, torch.Tensor) and got.shape == want.shape
                        and torch.allclose(got, want)), name


@needs_bwrap
@needs_seccomp
def test_item3_switching_the_audit_hook_off_gains_nothing(graded):
    report = graded["reports"]["d_guard_off"]
    assert report.exercises["mnist_loss"].score == report.exercises["mnist_loss"].max_score, failures(
        report, "mnist_loss")


@needs_bwrap
def test_item4_own_frames_cost_only_the_attacker(graded):
    messages = failures(graded["reports"]["e_frames"], "mnist_loss")
    assert messages and all("could not be read back" in m for m in messages), messages
    assert graded["rss_growth_kb"] < 200 * 1024, graded["rss_growth_kb"]   # not 16 MB frames parsed three times


@needs_bwrap
def test_item5_nothing_outlives_the_sandbox_or_lands_outside_out(graded):
    assert leftovers() == []
    assert set(children_of(os.getpid())) <= graded["children_before"]
    names = {p.relative_to(graded["out"]).as_posix() for p in graded["out"].rglob("*")}
    allowed = {"gradebook.csv", "grades.json"} | {f"{s}{f}" for s in EXPECTED for f in ("", "/results.json",
                                                                                      "/feedback.md")}
    assert names <= allowed, names - allowed
    assert sorted(p.name for p in graded["subs"].iterdir()) == sorted(f"{s}.py" for s in EXPECTED)


@needs_bwrap
def test_item9_a_slow_student_costs_the_class_its_budget_and_no_more(graded):
    report = graded["reports"]["f_slow"]
    assert report.seconds < STUDENT_BUDGET + 2 * TIME_LIMIT + 5, report.seconds   # budget, plus one load, plus slack
    cut = [ex for ex in report.exercises.values() if "Time budget used up" in ex.note]
    assert cut, [ex.note for ex in report.exercises.values()]
    from digitcore.grading.report import feedback_markdown
    assert "Time budget used up" in feedback_markdown(report)


def test_item4_frame_size_is_checked_before_the_body_is_read():
    """A frame that announces 16 MB is refused on its 4-byte header, at once: nothing of it is read, so the
    grader does not wait for (or hold) the body; a frame under the cap still comes through."""
    import struct

    from digitcore.grading.sandboxed.frames import FrameError, FrameTooBig, read_frame, write_frame

    r, w = os.pipe()
    try:
        os.write(w, struct.pack(">I", 16 << 20) + b"[1,")
        with pytest.raises(FrameError, match="over the 1024-byte cap"):
            read_frame(r, cap=1024, deadline=time.monotonic() + 60)
        write_frame(w, {"kind": "done"}, cap=1024)
        with pytest.raises(FrameTooBig):
            write_frame(w, {"kind": "x" * 2000}, cap=1024)   # the sender refuses too
    finally:
        os.close(w)
    try:
        assert os.read(r, 3) == b"[1,"    # the body was never read by the refusing reader
        assert read_frame(r, cap=1024, deadline=time.monotonic() + 5) == {"kind": "done"}
    finally:
        os.close(r)
