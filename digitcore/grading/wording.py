"""The grader's own words: what a student (or the instructor) is told when something went wrong.

Everything here is built from plain data (a record's status, a signal number, an exit code); any string that
came from the student's process is quoted through report.untrusted before it enters a sentence.
"""

import signal

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
    try:
        if type(sig) is int:
            return signal.Signals(sig).name
        if type(sig) is str and sig in signal.Signals.__members__:
            return sig
    except ValueError:
        pass
    return None


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
    """How a child ended ({"signal": N} or {"exit_code": N}, client.ending), in a few words for the instructor."""
    name = signal_name(ending.get("signal"))
    if name:
        return f"killed by {name}"
    code = ending.get("exit_code")
    return f"exit status {code}" if type(code) is int else "it ended"
