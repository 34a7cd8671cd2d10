# ruff: noqa: BLE001, S102, S110  (this file runs student code: it must catch everything and exec their files)
"""The worker: inside the sandboxed child, load the student's files and run one exercise's probes.

It locks down, then reads the job (a memfd) and reports on the result pipe, one frame at a time, each under its
byte cap: ready (the isolation layers), loaded (or fatal), one result per probe, done. Every student call is
wrapped in `except BaseException`: sys.exit, KeyboardInterrupt or pytest.skip become a failed check with the
student's own line number, never a traceback.
"""

import importlib.abc
import importlib.util
import inspect
import io
import json
import keyword
import linecache
import os
import sys
import time
import types

from . import guards, plain, sandbox
from .frames import SMALL_FRAME, write_frame

MESSAGE_CHARS = 300
JOB_CAP = 256 << 20


class SubmissionFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the submission's own files as modules from memory (the files themselves are hidden)."""

    def __init__(self, sources: dict[str, str]):
        self.by_name = {os.path.splitext(os.path.basename(f))[0]: f for f in sources}
        self.sources = sources

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self, origin=self.by_name[name]) if name in self.by_name else None

    def exec_module(self, module, filename=None):
        module.__file__ = filename = filename or self.by_name[module.__name__]
        exec(compile(self.sources[filename], filename, "exec", dont_inherit=True), module.__dict__)


def describe(exc: BaseException, files) -> dict:
    """Type, one-line message and the student's own line: never the checker's traceback."""
    try:
        kind = type(exc).__name__
        if isinstance(exc, SyntaxError) and exc.filename in files:
            return {"type": kind, "message": _short(exc.msg), "file": os.path.basename(exc.filename),
                    "line": exc.lineno, "code": _short(exc.text or "")}
        message, where = _short(str(exc)), {}   # (the wording of a SystemExit is the grader's: wording.py)
        tb = exc.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename in files:
                where = {"file": os.path.basename(code.co_filename), "line": tb.tb_lineno,
                         "code": _short(linecache.getline(code.co_filename, tb.tb_lineno))}
            tb = tb.tb_next
        return {"type": kind, "message": message, **where}
    except BaseException:
        return {"type": "Exception", "message": "(the exception could not be described)"}


def _short(text) -> str:
    text = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS] + "..."


def load_submission(sources: dict[str, str]) -> dict[str, types.ModuleType]:
    """Import every file of the submission (in memory, by file name) and return them by file."""
    linecache.cache.update({f: (len(text), None, text.splitlines(True), f) for f, text in sources.items()})
    finder = SubmissionFinder(sources)
    sys.meta_path.insert(0, finder)
    modules = {}
    for filename in sorted(sources):
        name = os.path.splitext(os.path.basename(filename))[0]
        if not name.isidentifier() or keyword.iskeyword(name) or (name in sys.modules and sys.modules[name].__spec__ is not None
                                     and sys.modules[name].__spec__.loader is not finder):
            # a stem Python cannot import by name (`jane.doe` would be the package `jane`; `1st-try`, `class`),
            # or one that shadows a real module (torch.py): load it privately, under a name no file takes
            name = f"_submission_{len(modules)}"
            while name in sys.modules or name in finder.by_name:
                name += "_"
            sys.modules[name] = types.ModuleType(name)
            finder.exec_module(sys.modules[name], filename)
        modules[filename] = sys.modules[name] if name in sys.modules else importlib.import_module(name)
    return modules


def find_exercise(name: str, modules: dict, files, guard: guards.Guard) -> tuple[object, dict]:
    """The student's object for an exercise, and what we know about it (found, reference, signature)."""
    for filename, module in modules.items():
        obj = vars(module).get(name, None)
        if obj is None:
            continue
        if type(obj) is guards.Poison:
            return None, {"status": "reference", "what": obj._name}
        if not callable(obj):
            return None, {"status": "not_callable", "type": type(obj).__name__}
        code = getattr(obj, "__code__", None)
        if isinstance(code, types.CodeType) and code.co_filename not in files and guard.is_hidden(os.path.realpath(code.co_filename)):
            return None, {"status": "reference", "what": f"{name} from {os.path.basename(code.co_filename)}"}
        info = {"status": "found", "file": os.path.basename(filename)}
        try:
            info["signature"] = f"{name}{inspect.signature(obj)}"
        except BaseException:
            pass
        return obj, info
    return None, {"status": "missing"}


def run(job_fd: int, result_fd: int, limits: dict, probes: dict, *, in_pid_namespace: bool, sandboxed: bool,
        folder: str, seccomp_bpf: bytes | None) -> None:
    """The child's whole life: lock down, read the job, load, probe, report. Always ends with os._exit."""
    try:
        layers, workdir = sandbox.lock_down(
            sandboxed=sandboxed, keep_fds=(job_fd, result_fd), in_pid_namespace=in_pid_namespace, folder=folder,
            seccomp_bpf=seccomp_bpf, **{k: int(limits[k]) for k in ("memory_mb", "output_cap", "cpu_seconds", "child_uid")})
        # the job the grader put in a memfd: read here, in the locked-down child, never by the zygote
        if (size := os.fstat(job_fd).st_size) > JOB_CAP:
            raise ValueError(f"job of {size} bytes is over the cap")
        with open(job_fd, "rb") as f:   # the grader wrote it: its offset is at the end
            f.seek(0)
            req = json.loads(f.read(JOB_CAP))
        import torch
        torch.set_num_threads(1)
        guard = guards.install(req.get("hide", []), workdir, req["all_exercises"])
        capped = CappedText(req["output_cap"])
        sys.stdout = sys.stderr = capped
        layers.append("audit-hook")
        write_frame(result_fd, {"kind": "ready", "layers": layers}, cap=SMALL_FRAME)
    except BaseException as e:
        _safe_frame(result_fd, {"kind": "broken", "message": f"{type(e).__name__}: {e}"})
        os._exit(71)

    files = set(req["sources"])
    try:
        modules = load_submission(req["sources"])
    except BaseException as e:
        _safe_frame(result_fd, {"kind": "fatal", "error": describe(e, files)})
        os._exit(0)
    try:
        obj, info = find_exercise(req["exercise"], modules, files, guard)
    except BaseException as e:
        obj, info = None, {"status": "broken", "error": describe(e, files)}
    # what the guards noticed while the file loaded (diagnostics: the kernel is what confines it)
    _safe_frame(result_fd, {"kind": "loaded", "info": info, "refused": guard.refused[:5],
                            "reference": guard.reference[:5]})
    if obj is None:
        os._exit(0)

    for spec in req["probes"]:
        record = {"kind": "result", "check": spec["check"]}
        guard.reset()
        capped.reset()
        size_before = _fd_size(1)
        start = time.perf_counter()
        try:
            value = plain.from_plain(spec["input"])
            probe = probes[spec["probe"]]
            guard.checking = True
            observation = probe(obj, value)
            guard.checking = False
            record.update(status="ok", obs=plain.to_plain(observation))
        except BaseException as e:
            guard.checking = False
            record.update(status="error", error=describe(e, files))
        record.update(seconds=round(time.perf_counter() - start, 4), refused=guard.refused[:5],
                      reference=guard.reference[:5], overflow=capped.overflow or (_fd_size(1) >= req["output_cap"] > size_before))
        try:
            write_frame(result_fd, record, cap=int(spec["cap"]))
        except BaseException as e:
            _safe_frame(result_fd, {"kind": "result", "check": spec["check"], "status": "garbled",
                                    "why": f"the result could not be sent ({type(e).__name__})"})
    _safe_frame(result_fd, {"kind": "done"})
    os._exit(0)


def _safe_frame(fd, obj):
    try:
        write_frame(fd, obj, cap=SMALL_FRAME)
    except BaseException:
        pass


def _fd_size(fd) -> int:
    try:
        return os.fstat(fd).st_size
    except OSError:
        return 0


class CappedText(io.TextIOBase):
    """sys.stdout for student code: keeps the first `cap` characters in the output file, drops the rest."""

    def __init__(self, cap: int):
        self.cap, self.written, self.overflow = cap, 0, False

    def reset(self):
        self.written, self.overflow = 0, False

    def write(self, text) -> int:
        text = str(text)
        room = self.cap // 2 - self.written
        if len(text) > room:
            self.overflow = True
            text = text[:max(room, 0)]
        if text:
            self.written += len(text)
            try:
                os.write(1, text.encode("utf-8", "replace"))
            except OSError:
                self.overflow = True
        return len(text)

    def fileno(self):
        return 1
