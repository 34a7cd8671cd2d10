"""The grader's own words: what a student (or the instructor) is told when something went wrong.

Everything here is built from plain data (a record's status, a signal number, an exit code); any string that
came from the student's process is quoted through report.untrusted before it enters a sentence.
"""

import re
import signal
from pathlib import Path

from .report import untrusted

NOT_STARTED = ("not started yet: replace `raise NotImplementedError` with your code "
               "(and `return` the result where the exercise asks for one)")

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


def signal_name(sig) -> str | None:
    """A signal's name from its number or name (plain data), or None when it is not one."""
    names = {s.value: s.name for s in signal.Signals}
    if type(sig) is int:
        return names.get(sig)
    return sig if type(sig) is str and sig in names.values() else None


def ended(rec) -> str:
    """How the worker process ended, for "your function ..." / "your file ...": from the record's "signal"
    or "exit_code" (the client's data, never text)."""
    rec = rec if isinstance(rec, dict) else {}
    name = signal_name(rec.get("signal"))
    if name:
        return SIGNALS.get(name, f"was stopped by {name}: did it send a signal to itself?")
    code = rec.get("exit_code")
    if type(code) is int:
        return (f"ended the grading process (exit status {code}): did it call exit(), sys.exit() or "
                "os._exit()?")
    return "ended the grading process unexpectedly"


def exit_description(ending: dict) -> str:
    """How a child ended ({"signal": N} or {"exit_code": N}, client's ZygoteClient._end), in a few words for the instructor."""
    name, code = signal_name(ending.get("signal")), ending.get("exit_code")
    return f"killed by {name}" if name else f"exit status {code}" if type(code) is int else "it ended"


def _where(err: dict) -> str:
    if not isinstance(err, dict) or not err.get("line"):
        return ""
    line = err["line"] if type(err["line"]) is int else untrusted(err["line"], 10)
    code = f": {untrusted(err.get('code'), 120)}" if err.get("code") else ""
    return f" (line {line} of {untrusted(err.get('file'), 80)}{code})"


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
        return f"Python could not read your file: {kind} {untrusted(message, 300)}{_where(err)}."
    if kind == "SystemExit":
        return f"your file called sys.exit() while loading{_where(err)}: remove it, or move it into a function."
    return f"your file raised {untrusted(_error_text(kind, message), 300)} while loading{_where(err)}."


def _error_text(kind, message) -> str:
    kind = kind if type(kind) is str else "an exception"
    return f"{kind}: {message}" if type(message) is str and message.strip() else kind


def error_message(err: dict, info: dict) -> str:
    err = err if isinstance(err, dict) else {}
    kind, message = err.get("type"), err.get("message")
    where = _where(err)
    if kind == "ReferenceUseError":
        return f"your code called the project's own implementation ({untrusted(message, 300)}): this check scores zero"
    if kind == "SandboxRefusal":
        return f"your code tried something grading does not allow: {untrusted(message, 300)}{where}"
    if kind == "NotImplementedError":
        return "not started yet: replace `raise NotImplementedError` with your code"
    if kind == "SystemExit":
        return f"your function called sys.exit(){where}: a function should return its result instead"
    if kind in ("KeyboardInterrupt", "GeneratorExit", "Skipped", "Exit", "Failed", "XFailed"):
        return f"your function raised {kind}{where}: a check cannot be interrupted or skipped, so it fails"
    text = f"your function raised {untrusted(_error_text(kind, message), 300)}{where}"
    if (kind == "TypeError" and isinstance(info, dict) and info.get("signature") and type(message) is str
            and "argument" in message):
        text += f". Your function is {untrusted(info['signature'], 120)}: check its parameters against the exercise"
    return text


def refusal_message(reference, refused, when: str) -> str | None:
    """Why a check scores zero for what the guards stopped or saw `when` ("while being checked", ...), or None:
    calling the project's own code (a dotted name) is named as such, any other refusal (reading a hidden folder,
    writing outside, starting a process) for what it was."""
    reference = [x for x in reference if type(x) is str] if isinstance(reference, list) else []
    refused = [x for x in refused if type(x) is str] if isinstance(refused, list) else []
    called = [x for x in reference if re.fullmatch(r"[\w.()]+", x)]
    if called:
        return (f"{when}, your code called the project's own implementation ({untrusted(called[0], 120)}), not "
                "your own: this check scores zero")
    tried = [x for x in reference if x not in called] + refused
    if tried:
        more = f" (and {len(tried) - 1} more)" if len(tried) > 1 else ""
        return (f"{when}, your code tried something grading does not allow: {untrusted(tried[0], 160)}{more}; "
                "so this check scores zero")
    return None


def exercise_note(exercise: str, info, files: list[str]) -> str | None:
    """Why no check of this exercise could run (missing, not a function, the project's code), or None."""
    status = info.get("status") if isinstance(info, dict) else None
    if status == "found":
        return None
    if status == "missing":
        names = ", ".join(untrusted(Path(f).name, 80) for f in files)
        return (f"No function named `{exercise}` in {names}: define `def {exercise}(...):` at the top level "
                "(not inside another function or an ordinary notebook cell).")
    if status == "reference":
        return (f"`{exercise}` is the project's own implementation ({untrusted(info.get('what'), 120)}), not yours: "
                "this exercise scores zero. Write the function yourself.")
    if status == "not_callable":
        return f"`{exercise}` is a {untrusted(info.get('type'), 60)}, not a function: define `def {exercise}(...):`."
    return f"`{exercise}` could not be looked up in your file."


def budget_note(resp, budget, spent: float) -> str | None:
    """Feedback when the wall budget (`budget`'s exercise_budget and student_budget: runner._Student) stopped
    this exercise: how much time, and what it cost."""
    if not resp.get("budget"):
        return None
    return (f"Time budget used up after {spent:.0f} s: each exercise may take at most {budget.exercise_budget:g} s and "
            f"the whole submission {budget.student_budget:g} s of grading, so the checks still to come were not run. "
            "Look for slow loops, sleeps or training at a larger size than the exercise asks for.")


# The isolation layers a worker can report (sandbox.lock_down, worker.run): the report's line is built from
# these words of the grader's own; a name it does not know is quoted as the worker's.
LAYERS = ("bwrap", "fork", "setsid", "pidns", "netns", "private-tmpfs", "procfs", "rlimits", "some-rlimits",
          "setuid(nobody)", "setuid(own-uid)", "userns", "no_new_privs", "landlock", "seccomp", "audit-hook")


def isolation_text(layers) -> str:
    """The isolation line of every report: the layers that were in force, and what is weaker, if anything."""
    layers = list(layers) if isinstance(layers, (list, tuple)) else []
    text = "+".join(x if type(x) is str and x in LAYERS else untrusted(x, 40) for x in layers)
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


# A hidden check's failure, told in the grader's words alone: its input reached the student's code, so nothing
# that code wrote or chose (a message, a value, a signal or an exit status) may come back to the student.
SEALED = {"ok": "gave a wrong value", "error": "your function raised an exception", "refused": "your code tried "
          "something grading does not allow", "crashed": "your function ended the grading process",
          "garbled": "its result could not be read back"}


def ending(status, rec: dict, time_limit: float, hidden: bool = False) -> str:
    """Why a check failed, by its status (timeout, crashed, ...), where its record holds no value to judge; for a
    hidden check (`hidden`), whatever the status, and only in the grader's words (SEALED)."""
    status = status if type(status) is str else None
    if hidden and status in SEALED:
        return f"failed (hidden check: {SEALED[status]})"
    message = {
        "timeout": f"your function did not finish within {time_limit:g} s and was stopped: "
                   "is there an endless loop (or a loop that never reaches its end)?",
        "crashed": f"your function {ended(rec)}",
        "garbled": f"the result your code gave could not be read back ({untrusted(rec.get('why'), 120)})",
        "overflow": "your code printed more than the grader keeps (about half a megabyte) while being checked: "
                    "remove the debugging prints",
        "budget": "not run: your submission used up its time budget (see the note on this exercise)",
        "not_run": "not run: an earlier check of this exercise had to stop your code (see the check that timed out)",
    }.get(status, "no usable result came back from your code for this check")
    return f"failed (hidden check: {message})" if hidden else message
