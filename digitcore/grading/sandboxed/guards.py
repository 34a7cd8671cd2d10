"""Python-level guards in the worker: an audit hook and an import blocker. Diagnostics, not the confinement
(the kernel's, sandbox.py): they name what a student tried (the project's files, writing outside, processes,
sockets, ctypes, gc) so the feedback can say so. The project's own modules import as inert "poison": harmless
while the file loads, but calling one while a check runs raises ReferenceUseError and the check scores zero.
"""

import os
import sys
import types
from importlib.machinery import ModuleSpec

from .sandbox import under

REFUSED_EVENTS = {
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "subprocess.Popen",
    "pty.spawn", "os.killpg", "signal.pthread_kill", "gc.get_objects", "gc.get_referrers",
    "gc.get_referents", "resource.setrlimit", "resource.prlimit", "sys._current_frames", "os.startfile",
    "mmap.__new__",
}
REFUSED_PREFIXES = ("ctypes.", "socket.", "_posixsubprocess", "winreg.")
PATH_WRITE_EVENTS = {
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.truncate", "os.chmod",
    "os.chown", "os.utime", "os.chflags", "os.mkfifo", "os.mknod", "shutil.rmtree", "shutil.copyfile",
    "shutil.move", "shutil.copytree", "os.setxattr", "os.removexattr",
}
PATH_READ_EVENTS = {"os.listdir", "os.scandir", "glob.glob", "os.getxattr", "os.listxattr"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
BLOCKED_TOP_MODULES = ("solutions", "checks", "conftest", "tests")
# Folder names that mark another copy of this project anywhere on the machine (a second checkout, an
# installed digitcore): the hidden paths cover only the copy that runs the grader.
PROJECT_FOLDERS = {"digitcore", "solutions", "checks", "tests"}
PACKAGE_FOLDERS = {"digitcore", "solutions"}  # the same inside Python's own folders (site-packages)
PROJECT_FILES = "the project's own files"   # what a refusal calls them (the grader names the class and grades folders)


class SandboxRefusal(PermissionError):
    """Raised inside student code for an action the grader does not allow."""


class ReferenceUseError(Exception):
    """Raised when student code calls the project's own implementation while being checked."""


class Guard:
    """What the worker's guards saw: refused actions and uses of the project's implementation."""

    def __init__(self, hidden: list, workdir: str, exercise_names: list[str]):
        # [path, what it is] that may not be read, the most specific first: a class folder inside a checkout is
        # the class folder, so that a refusal says what was looked into
        self.hidden = sorted(((os.path.realpath(p), what) for p, what in hidden), key=lambda e: len(e[0]), reverse=True)
        own = (sys.prefix, sys.base_prefix, sys.exec_prefix)
        self.python = sorted({os.path.realpath(p) for p in (*own, *sys.path)
                              if p and os.path.isabs(p) and (p in own or "-packages" in p)}, key=len, reverse=True)
        self.workdir = os.path.realpath(workdir)
        self.exercise_names = list(exercise_names)
        self.checking = False      # False while the file loads, True while a probe runs
        self.reset()

    def reset(self):
        self.refused: list[str] = []
        self.reference: list[str] = []

    def _real(self, path) -> str | None:
        if isinstance(path, int):
            return None
        try:
            path = os.fsdecode(path)
        except TypeError:
            return "<unreadable path>"
        return os.path.realpath(os.path.join(self.workdir, path))

    def is_hidden(self, real: str) -> str | None:
        """What the path is, when it is one the student may not read (else None)."""
        for h, what in self.hidden:
            if under(real, [h]):
                return what
        root = next((p for p in self.python if under(real, [p])), None)
        parts = real[len(root):].split(os.sep) if root else real.split(os.sep)
        found = not PROJECT_FOLDERS.isdisjoint(parts) if root is None else not PACKAGE_FOLDERS.isdisjoint(parts)
        return PROJECT_FILES if found else None

    def refuse(self, what: str, reference: bool = False):
        (self.reference if reference else self.refused).append(what)
        raise SandboxRefusal(f"the grader does not allow this: {what}")

    def audit(self, event: str, args: tuple):
        if event == "open":
            real = self._real(args[0])
            if real is None:
                return
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            mode = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
            writing = bool(flags & WRITE_FLAGS or any(c in mode for c in "wax+"))
            what = self.is_hidden(real)
            if what:
                self.refuse(f"{'writing into' if writing else 'reading'} {what} ({os.path.basename(real)})",
                            reference=True)
            if writing and not under(real, [self.workdir, os.devnull]):
                self.refuse(f"writing {real}")
        elif event in REFUSED_EVENTS or event.startswith(REFUSED_PREFIXES):
            self.refuse(event)
        elif event == "os.kill":
            if args and args[0] not in (0, os.getpid()):
                self.refuse("signalling another process")
        elif event in PATH_WRITE_EVENTS:
            for a in args:
                if isinstance(a, (str, bytes, os.PathLike)):
                    real = self._real(a)
                    if real and not under(real, [self.workdir, os.devnull]):
                        self.refuse(f"{event} on {real}")
        elif event in PATH_READ_EVENTS or event == "import":
            for a in args[:2]:
                if isinstance(a, (str, bytes, os.PathLike)) and os.sep in os.fsdecode(a):
                    real = self._real(a)
                    what = self.is_hidden(real) if real else None
                    if what:
                        self.refuse(f"looking into {what}", reference=True)


def poison(guard: Guard, name: str, attr: str) -> "Poison":
    """`name.attr` as poison; a special name (__spec__, __wrapped__, ...) is missing, as introspection expects."""
    if attr.startswith("__") and attr.endswith("__"):
        raise AttributeError(attr)
    return Poison(guard, f"{name}.{attr}")


class Poison:
    """An inert stand-in for anything taken from the project's own modules."""

    def __init__(self, guard: Guard, name: str):
        object.__setattr__(self, "_guard", guard)
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr):
        return poison(self._guard, self._name, attr)

    def __call__(self, *args, **kwargs):
        guard = self._guard
        if guard.checking:
            guard.reference.append(self._name)
            raise ReferenceUseError(f"{self._name} is the project's own implementation, not yours")
        return Poison(guard, f"{self._name}()")

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False

    def __repr__(self):
        return f"<not available in grading: {self._name}>"


class PoisonModule(types.ModuleType):
    def __getattr__(self, attr):
        guard = self.__dict__["_guard"]
        return list(guard.exercise_names) if attr == "__all__" else poison(guard, self.__name__, attr)


class ImportBlocker:
    """A meta path finder: the project's modules that the worker has not loaded become poison."""

    def __init__(self, guard: Guard):
        self.guard = guard

    def find_spec(self, name, path=None, target=None):
        return ModuleSpec(name, self, is_package=True) if name.split(".")[0] in ("digitcore", *BLOCKED_TOP_MODULES) else None

    def create_module(self, spec):
        m = PoisonModule(spec.name)
        m.__dict__["_guard"] = self.guard
        return m

    def exec_module(self, module):
        module.__path__ = []


def install(hidden: list, workdir: str, exercise_names: list[str]) -> Guard:
    """Install the import blocker and the audit hook (cannot be removed) in this process."""
    guard = Guard(hidden, workdir, exercise_names)
    sys.meta_path.insert(0, ImportBlocker(guard))
    for name in [n for n in sys.modules if n.split(".")[0] in BLOCKED_TOP_MODULES]:
        del sys.modules[name]
    sys.dont_write_bytecode = True
    sys.addaudithook(guard.audit)
    return guard
