"""grade_submission: one student's file (or folder), every exercise, every check, judged here.

For each exercise the trusted side makes the inputs, sends them as plain data to a zygote (which
forks a sandboxed worker), gets plain observations back, rebuilds them and runs each check's judge
in this process. Whatever goes wrong on the student's side becomes a failed check with a kind,
specific message; nothing of the checker's own traceback is shown.
"""

import functools
import os
import re
import signal
import sys
import time
from pathlib import Path

from .client import ZygoteClient
from .guards import hidden_entry
from .plain import GarbledError, from_plain, to_plain
from .registry import PROBES_FILE, checks_for, probe_files
from .report import ExerciseReport, SubmissionReport, untrusted
from .sources import SubmissionError, read_submission, student_name

PROJECT = Path(__file__).resolve().parent.parent.parent


@functools.lru_cache(maxsize=1)
def project_paths() -> tuple[str, ...]:
    """The project's own files, for the worker's audit hook (a diagnostic; in the bwrap root they do not
    exist at all): the package, and in a checkout every entry of it but the one holding Python (.venv)."""
    found = [str(PROJECT / "digitcore")]
    if (PROJECT / "pyproject.toml").exists():
        keep = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
        keep |= {Path(p).resolve() for p in sys.path if p and "-packages" in p}
        for entry in sorted(PROJECT.iterdir()):
            real = entry.resolve()
            if not any(k == real or real in k.parents for k in keep):
                found.append(str(entry))
    return tuple(sorted(set(found)))

OUTPUT_CAP = 1 << 20
MEMORY_MB = 1024
EXERCISE_BUDGET = 30.0      # wall seconds per exercise of one student, loading included
STUDENT_BUDGET = 90.0       # wall seconds for all of one student's exercises


def _verdict_class():
    from digitcore.exercises import Verdict
    return Verdict


def _s(x, n: int = 300) -> str:
    """A string from the worker, flattened and quoted for a report (report.untrusted)."""
    return untrusted(x, n)


def _where(err: dict) -> str:
    if not isinstance(err, dict) or not err.get("line"):
        return ""
    line = err["line"] if type(err["line"]) is int else _s(err["line"], 10)
    code = f": {_s(err.get('code'), 120)}" if err.get("code") else ""
    return f" (line {line} of {_s(err.get('file'), 80)}{code})"


# What a signal that ended the worker means, in words (the name comes from Python's own table, never
# from the worker's text).
SIGNALS = {
    "SIGSEGV": "crashed in native code (SIGSEGV, a segmentation fault: memory was used where it must not "
               "be, for example through ctypes or a C extension given bad data)",
    "SIGBUS": "crashed in native code (SIGBUS: a bad memory access)",
    "SIGILL": "crashed in native code (SIGILL: an illegal instruction)",
    "SIGFPE": "crashed in native code (SIGFPE: an arithmetic fault)",
    "SIGABRT": "crashed in native code (SIGABRT: a C library aborted the process)",
    "SIGSYS": "was stopped by the sandbox (SIGSYS: a system call that grading does not allow, such as "
              "starting a process)",
    "SIGKILL": "ended the grading process (killed by SIGKILL): did it use more memory than grading allows, "
               "or call exit() or os._exit()?",
    "SIGXCPU": "used up the CPU time that grading allows (SIGXCPU)",
    "SIGXFSZ": "wrote a file larger than grading allows (SIGXFSZ)",
}


def ended(rec) -> str:
    """How the worker process ended, for "your function ..." / "your file ...": the real signal, named."""
    rec = rec if isinstance(rec, dict) else {}
    sig, code = rec.get("signal"), rec.get("exit_code")
    how = rec.get("how") if type(rec.get("how")) is str else ""
    match = re.search(r"\bkilled by (SIG[A-Z0-9]+)|\bsignal (\d+)", how)
    if sig is None and match:
        sig = match.group(1) or int(match.group(2))
    name = _signal_name(sig)
    if name:
        return SIGNALS.get(name, f"was stopped by {name}: did it send a signal to itself?")
    match = re.search(r"\bexit status (-?\d+)", how)
    if type(code) is not int and match:
        code = int(match.group(1))
    if type(code) is int:
        return (f"ended the grading process (exit status {code}): did it call exit(), sys.exit() or "
                "os._exit()?")
    return "ended the grading process unexpectedly"


def _signal_name(sig) -> str | None:
    try:
        if type(sig) is int:
            return signal.Signals(sig).name
        if type(sig) is str and sig in signal.Signals.__members__:
            return sig
    except ValueError:
        pass
    return None


def fatal_message(fatal: dict, time_limit: float) -> str:
    kind = fatal.get("kind") if isinstance(fatal, dict) else None
    if kind == "timeout":
        return (f"your file did not finish loading within {time_limit:g} s: is there an endless loop, or "
                "training, at the top level? Put it inside a function or under `if __name__ == \"__main__\":`.")
    if kind == "budget":
        return ("your file used up its time budget while loading, so it was stopped: is there training, or a "
                "long loop, at the top level? Put it inside a function or under `if __name__ == \"__main__\":`.")
    if kind == "crashed":
        how = ended(fatal)
        return f"while loading, your file {how}" + ("" if how.endswith("?") else ".")
    err = fatal.get("error") if isinstance(fatal, dict) else None
    err = err if isinstance(err, dict) else {}
    kind, message = err.get("type"), err.get("message")
    if kind in ("SyntaxError", "IndentationError", "TabError"):
        return f"Python could not read your file: {kind} {_s(message)}{_where(err)}."
    if kind == "SystemExit":
        return f"your file called sys.exit() while loading{_where(err)}: remove it, or move it into a function."
    return f"your file raised {_s(_error_text(kind, message))} while loading{_where(err)}."


def _error_text(kind, message) -> str:
    kind = kind if type(kind) is str else "an exception"
    return f"{kind}: {message}" if type(message) is str and message.strip() else kind


def error_message(err: dict, info: dict) -> str:
    err = err if isinstance(err, dict) else {}
    kind, message = err.get("type"), err.get("message")
    where = _where(err)
    if kind == "ReferenceUseError":
        return f"your code called the project's own implementation ({_s(message)}): this check scores zero"
    if kind == "SandboxRefusal":
        return f"your code tried something grading does not allow: {_s(message)}{where}"
    if kind == "NotImplementedError":
        return "not started yet: replace `raise NotImplementedError` with your code"
    if kind == "SystemExit":
        return f"your function called sys.exit(){where}: a function should return its result instead"
    if kind in ("KeyboardInterrupt", "GeneratorExit", "Skipped", "Exit", "Failed", "XFailed"):
        return f"your function raised {kind}{where}: a check cannot be interrupted or skipped, so it fails"
    text = f"your function raised {_s(_error_text(kind, message))}{where}"
    if (kind == "TypeError" and isinstance(info, dict) and info.get("signature") and type(message) is str
            and "argument" in message):
        text += f". Your function is {_s(info['signature'], 120)}: check its parameters against the exercise"
    return text


def refusal_message(reference, refused, when: str) -> str | None:
    """Why a check scores zero because of something the guards stopped or saw `when` ("while being
    checked", "while your file loaded"), or None. Calling the project's own code (a dotted name) is named
    as such; any other refusal (reading a hidden folder, writing outside, starting a process) is named
    for what it was."""
    reference = [x for x in reference if type(x) is str] if isinstance(reference, list) else []
    refused = [x for x in refused if type(x) is str] if isinstance(refused, list) else []
    called = [x for x in reference if re.fullmatch(r"[\w.()]+", x)]
    if called:
        return (f"{when}, your code called the project's own implementation ({_s(called[0], 120)}), not "
                "your own: this check scores zero")
    tried = [x for x in reference if x not in called] + refused
    if tried:
        more = f" (and {len(tried) - 1} more)" if len(tried) > 1 else ""
        return (f"{when}, your code tried something grading does not allow: {_s(tried[0], 160)}{more}; "
                "so this check scores zero")
    return None


def judge_record(check, inp, rec, info, time_limit: float, load_guard=None):
    """One check's Verdict from the worker's record for it (anything malformed fails the check).
    `load_guard`: {"refused": [...], "reference": [...]}, what the guards noticed while the file loaded (the
    response's "load_guard", from the worker's "loaded" frame); any of it fails every check of the exercise."""
    Verdict = _verdict_class()
    if not isinstance(rec, dict):
        return Verdict(False, "no result came back from your code for this check")
    status = rec.get("status")
    info = info if isinstance(info, dict) else {}
    load_guard = load_guard if isinstance(load_guard, dict) else {}
    refusal = (refusal_message(load_guard.get("reference"), load_guard.get("refused"), "while your file loaded")
               or refusal_message(rec.get("reference"), rec.get("refused") if status == "ok" else [],
                                  "while being checked"))
    if refusal:
        return Verdict(False, refusal)
    if status == "ok":
        if rec.get("overflow"):
            return Verdict(False, "your code printed more than the grader keeps (about half a megabyte) "
                                  "while being checked: remove the debugging prints")
        try:
            obs = from_plain(rec.get("obs"))
        except (GarbledError, RecursionError, TypeError, ValueError):
            return Verdict(False, "the result your code gave could not be read back (garbled)")
        try:
            verdict = check.judge(inp, obs)
        except Exception as e:  # noqa: BLE001 - a judge must not raise; if one does, the check fails without a traceback
            return Verdict(False, f"your result could not be checked ({type(e).__name__}): it is probably "
                                  "not the kind of value this exercise asks for")
        return verdict if isinstance(verdict, Verdict) else Verdict(False, "the check gave no verdict")
    if status == "error":
        return _explained(check, error_message(rec.get("error"), info))
    if status == "timeout":
        return Verdict(False, f"your function did not finish within {time_limit:g} s and was stopped: "
                              "is there an endless loop (or a loop that never reaches its end)?")
    if status == "crashed":
        return Verdict(False, f"your function {ended(rec)}")
    if status == "garbled":
        return Verdict(False, f"the result your code gave could not be read back ({_s(rec.get('why'), 120)})")
    if status == "budget":
        return Verdict(False, "not run: your submission used up its time budget (see the note on this exercise)")
    if status == "not_run":
        return Verdict(False, "not run: an earlier check of this exercise had to stop your code "
                              "(see the check that timed out)")
    return Verdict(False, "no usable result came back from your code for this check")


def _explained(check, message: str):
    """A failed check for an error in student code, with the exercise's own diagnosis when it has one."""
    from digitcore.exercises import error_diagnosis
    return error_diagnosis(check.exercise, message)


NOT_STARTED = ("not started yet: replace `raise NotImplementedError` with your code "
               "(and `return` the result where the exercise asks for one)")


def not_started(check, inp, rec) -> bool:
    """The same rule as the lessons' check(): NotImplementedError, or the exercise module's own
    `not_started(input, observation)` on the first check (e.g. it returned None and did nothing)."""
    if not isinstance(rec, dict):
        return False
    if rec.get("status") == "error":
        return isinstance(rec.get("error"), dict) and rec["error"].get("type") == "NotImplementedError"
    fn = getattr(check.judge, "func", check.judge)
    rule = getattr(sys.modules.get(getattr(fn, "__module__", None) or ""), "not_started", None)
    if rec.get("status") != "ok" or not callable(rule):
        return False
    try:
        return bool(rule(inp, from_plain(rec.get("obs"))))
    except Exception:  # noqa: BLE001 - garbage is simply "started"
        return False


def exercise_note(exercise: str, info, files: list[str]) -> str | None:
    """Why no check of this exercise could run (missing, not a function, the project's code), or None."""
    status = info.get("status") if isinstance(info, dict) else None
    if status == "found":
        return None
    if status == "missing":
        names = ", ".join(_s(Path(f).name, 80) for f in files)
        return (f"No function named `{exercise}` in {names}: define `def {exercise}(...):` at the top level "
                "(not inside another function or an ordinary notebook cell).")
    if status == "reference":
        return (f"`{exercise}` is the project's own implementation ({_s(info.get('what'), 120)}), not yours: "
                "this exercise scores zero. Write the function yourself.")
    if status == "not_callable":
        return f"`{exercise}` is a {_s(info.get('type'), 60)}, not a function: define `def {exercise}(...):`."
    return f"`{exercise}` could not be looked up in your file."


def _zero(exercise, checks, message) -> ExerciseReport:
    Verdict = _verdict_class()
    return ExerciseReport(exercise, 0.0, sum(c.points for c in checks),
                          [(c, Verdict(False, message)) for c in checks], note=message)


def grade_with(zygote: ZygoteClient, path, registry: dict, *, student=None, seed=0, time_limit=10.0,
               memory_mb=MEMORY_MB, hide=(), exercise_budget=None, student_budget=None) -> SubmissionReport:
    """Grade one submission with an already started zygote (class grading shares them). No student costs
    the class more than `student_budget` wall seconds, nor one exercise more than `exercise_budget`."""
    t0 = time.monotonic()
    exercise_budget = EXERCISE_BUDGET if exercise_budget is None else exercise_budget
    student_budget = STUDENT_BUDGET if student_budget is None else student_budget
    student_end = t0 + student_budget
    path = Path(path)
    report = SubmissionReport(student=student or student_name(path), path=str(path))
    try:
        submission = read_submission(path)
        sources, report.skipped = submission.sources, submission.skipped
    except (SubmissionError, OSError) as e:
        report.fatal = str(e)
        sources = {}
    for exercise, checks in registry.items():
        if report.fatal:
            report.exercises[exercise] = _zero(exercise, checks, "not graded: " + report.fatal)
            continue
        budget = [min(time.monotonic() + exercise_budget, student_end), exercise_budget, student_budget, 0.0]
        report.exercises[exercise] = _grade_exercise(zygote, report, sources, exercise, checks, registry,
                                                     seed, time_limit, memory_mb, hide, budget)
        student_end += budget[3]   # time spent waiting for a worker to start is not the student's
    if not report.isolation:
        report.isolation = "not run (the file could not be read)" if report.fatal else "unknown"
    report.seconds = round(time.monotonic() - t0, 3)
    return report


def _grade_exercise(zygote, report, sources, exercise, checks, registry, seed, time_limit, memory_mb, hide,
                    budget):
    t0 = time.monotonic()
    deadline, exercise_budget, student_budget, _ = budget
    inputs = [c.make_input(seed) for c in checks]
    req = {"cmd": "grade", "sources": sources, "exercise": exercise, "all_exercises": list(registry),
           "probes": [{"check": c.name, "probe": c.probe.__name__, "input": to_plain(x)} for c, x in zip(checks, inputs)],
           "time_limit": float(time_limit), "memory_mb": int(memory_mb), "output_cap": OUTPUT_CAP,
           "hide": [[os.path.realpath(p), what] for p, what in map(hidden_entry, (*hide, *project_paths()))]}
    resp = zygote.grade(req, deadline=deadline)
    budget[3] = resp.get("waited") or 0.0
    if resp.get("layers") and not report.isolation:
        report.isolation = isolation_text(resp["layers"])
    if resp.get("engine"):
        report.engine_errors.append(f"{exercise}: {_s(resp['engine'])}")
        return _zero(exercise, checks, "not graded: the grader itself failed on this exercise "
                                       f"({_s(resp['engine'], 120)}); please tell your instructor")
    if resp.get("fatal"):
        report.fatal = fatal_message(resp["fatal"], time_limit)
        return _zero(exercise, checks, "not graded: " + report.fatal)
    info = resp.get("info")
    if resp.get("budget") and not isinstance(info, dict):
        return _zero(exercise, checks, budget_note(resp, exercise_budget, student_budget, time.monotonic() - t0))
    note = exercise_note(exercise, info, list(sources))
    if note:
        return _zero(exercise, checks, note)
    results = resp.get("results") if isinstance(resp.get("results"), dict) else {}
    note = budget_note(resp, exercise_budget, student_budget, time.monotonic() - t0)
    if checks and not_started(checks[0], inputs[0], results.get(checks[0].name)):
        return _zero(exercise, checks, NOT_STARTED)
    items = [(c, judge_record(c, x, results.get(c.name), info, time_limit, resp.get("load_guard")))
             for c, x in zip(checks, inputs)]
    score = sum(c.points for c, v in items if v.passed)
    return ExerciseReport(exercise, round(score, 4), sum(c.points for c in checks), items, note=note or "",
                          seconds=round(time.monotonic() - t0, 3), timing=_timing(resp))


def budget_note(resp, exercise_budget: float, student_budget: float, spent: float) -> str | None:
    """Feedback when the wall budget stopped this exercise: how much time, and what it cost."""
    if not resp.get("budget"):
        return None
    return (f"Time budget used up after {spent:.0f} s: each exercise may take at most {exercise_budget:g} s and "
            f"the whole submission {student_budget:g} s of grading, so the checks still to come were not run. "
            "Look for slow loops, sleeps or training at a larger size than the exercise asks for.")


def _timing(resp) -> dict:
    sec = resp.get("seconds") if isinstance(resp.get("seconds"), dict) else {}
    probes = sec.get("probes") if isinstance(sec.get("probes"), dict) else {}
    try:
        return {"forks": int(resp.get("forks") or 0), "load": float(sec.get("load") or 0),
                "probes": round(sum(float(v) for v in probes.values()), 4), "total": float(sec.get("total") or 0)}
    except (TypeError, ValueError):
        return {}


# The isolation layers a worker can report (sandbox.lock_down, worker.run): the report's line is built from
# these words of the grader's own; a name it does not know is quoted as the worker's.
LAYERS = ("bwrap", "fork", "setsid", "pidns", "netns", "private-tmpfs", "procfs", "rlimits", "some-rlimits",
          "setuid(nobody)", "setuid(own-uid)", "userns", "no_new_privs", "landlock", "seccomp", "audit-hook")


def isolation_text(layers) -> str:
    """The isolation line of every report: the layers that were in force, and what is weaker, if anything."""
    layers = list(layers) if isinstance(layers, (list, tuple)) else []
    text = "+".join(x if type(x) is str and x in LAYERS else _s(x, 40) for x in layers)
    missing = [what for needs, what in (
        (("bwrap",), "no allow-list root (bubblewrap)"),
        (("seccomp",), "no seccomp filter (python3-seccomp): processes, ptrace and SysV shared memory allowed"),
        (("setuid(nobody)", "setuid(own-uid)"), "no separate user: student code runs as the grading user"),
        (("private-tmpfs", "landlock"), "NO SEPARATION: student code can read and write whatever the grading "
                                        "user can" + (" in the sandbox (other students' work folders)" if "bwrap"
                                                      in layers else " (classmates, the checkout, the grades)")))
               if not any(layer in layers for layer in needs)]
    if missing:
        text += f" (weaker isolation: {'; '.join(missing)}; see docs/isolation.md)"
    return text


def start_zygotes(n: int, checks=None) -> list[ZygoteClient]:
    """Start n workers now (they import torch while this process loads the checks)."""
    return [ZygoteClient([str(PROBES_FILE)]).start(wait=False) for _ in range(n)] if checks is None else []


def matching_zygotes(zygotes: list[ZygoteClient], registry: dict, n: int) -> list[ZygoteClient]:
    """The started workers if they load the probes this registry needs, else fresh ones."""
    files = probe_files(registry)
    if zygotes and all(z.probe_files == files for z in zygotes):
        return zygotes
    for z in zygotes:
        z.close()
    return [ZygoteClient(files).start(wait=False) for _ in range(n)]


def grade_submission(path, *, include_hidden=False, seed=0, time_limit=10.0, hidden_dir=None, checks=None,
                     student=None, memory_mb=MEMORY_MB) -> SubmissionReport:
    """Grade one submission (a .py file, a marimo notebook, or a folder of them) in a sandbox."""
    zygotes = start_zygotes(1, checks)
    try:
        registry = checks_for(include_hidden, hidden_dir, checks)
        zygotes = matching_zygotes(zygotes, registry, 1)
        return grade_with(zygotes[0], path, registry, student=student, seed=seed, time_limit=time_limit,
                          memory_mb=memory_mb)
    finally:
        for z in zygotes:
            z.close()
