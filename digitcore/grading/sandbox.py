"""Operating-system isolation for one worker process (runs in the forked child, before student code).

Layers, each tried and recorded when it works: a new PID namespace (done by the parent, see
zygote.py), no network (net namespace), a private mount namespace where the project's files, the
other students' files and the grades are covered by empty read-only mounts and /tmp is private,
resource limits (address space, CPU, file size, processes, open files, no core dumps), the user
nobody, no-new-privileges and death with the parent. Where a layer is not available (not root,
not Linux) the worker runs with what remains, and the report says so.
"""

import ctypes
import ctypes.util
import os
import resource
import signal
import sys
import tempfile

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 36, 38
NOBODY = 65534
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")

try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
except OSError:  # not Linux/glibc: no namespaces, no prctl
    _libc = None


def _call(name: str, *args) -> bool:
    fn = getattr(_libc, name, None) if _libc is not None else None
    return fn is not None and fn(*args) == 0


def unshare(flags: int) -> bool:
    return _call("unshare", flags)


def prctl(option: int, value: int) -> bool:
    return _call("prctl", option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


def _mount(source, target, fstype, flags, data=None) -> bool:
    enc = lambda s: None if s is None else s.encode()
    return _call("mount", enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))


def _under(path: str, roots) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def hide_mounts(hidden: list[str], keep: list[str] = ()) -> bool:
    """In a fresh mount namespace: private /tmp, empty read-only mounts over every hidden path.
    `keep`: folders (Python's own) that must stay visible even when they live under /tmp, as a project
    checked out in /tmp with its .venv does; one that is or holds a hidden path is never kept."""
    if not _mount(None, "/", None, MS_REC | MS_PRIVATE):
        return False
    keep = _topmost(p for p in keep if _under(p, PRIVATE_TMP) and not _under(p, hidden)
                    and not any(_under(h, [p]) for h in hidden))
    kept = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in keep]  # opened before /tmp is covered
    ok = True
    for path in hidden:
        if _under(path, PRIVATE_TMP) or not os.path.lexists(path):
            continue  # under /tmp: the private /tmp below covers it
        if os.path.isdir(path):
            ok &= _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=555")
        else:
            ok &= _mount("/dev/null", path, None, MS_BIND)
    for path in PRIVATE_TMP:
        if os.path.isdir(path):
            ok &= _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    for p, fd in kept:
        os.makedirs(p, mode=0o755, exist_ok=True)
        ok &= _mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
        os.close(fd)
    return ok


def privileged() -> bool:
    """Root can use namespaces and the user nobody. DIGITCORE_SANDBOX=weak turns that off (tests of the
    fallback that students' laptops get)."""
    return os.geteuid() == 0 and os.environ.get("DIGITCORE_SANDBOX") != "weak"


def python_paths() -> list[str]:
    """The folders Python itself needs to import anything (stdlib, extensions, site-packages)."""
    paths = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix, *sys.path)
             if p and os.path.isabs(p) and os.path.isdir(p) and os.path.realpath(p) != os.sep}
    return _topmost(paths)


def _topmost(paths) -> list[str]:
    """The paths that are not inside another one of them."""
    return sorted(p for p in paths if not any(q != p and _under(p, [q]) for q in paths))


def _closed_ancestor(path: str) -> str | None:
    """The first folder on the way to `path` that other users cannot enter (e.g. /root), or None."""
    parts = os.path.normpath(path).split(os.sep)
    for i in range(2, len(parts) + 1):
        d = os.sep.join(parts[:i])
        try:
            if not os.stat(d).st_mode & 0o001:
                return d
        except OSError:
            return d
    return None


def expose_python(paths: list[str]) -> bool:
    """In the mount namespace: where Python lives under a closed folder (a pyenv in /root), cover that
    folder with an empty one and bind only Python's own folders back, so that nobody can import."""
    closed: dict[str, list[str]] = {}
    for p in paths:
        a = _closed_ancestor(p)
        if a:
            closed.setdefault(a, []).append(p)
    ok = True
    for ancestor, needed in closed.items():
        try:
            fds = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in needed]
        except OSError:
            ok = False
            continue
        if not _mount("tmpfs", ancestor, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755"):
            ok = False
        else:
            for p, fd in fds:
                os.makedirs(p, mode=0o755, exist_ok=True)
                ok &= _mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
        for _, fd in fds:
            os.close(fd)
    return ok


def reachable(paths: list[str]) -> bool:
    return all(_closed_ancestor(p) is None for p in paths)


def lock_down(*, hidden: list[str], memory_mb: int, cpu_seconds: int, output_cap: int,
              in_pid_namespace: bool, keep_fd: int, scratch: str | None = None) -> tuple[list[str], str]:
    """Isolate this (freshly forked, single-threaded) process. Returns (layers that worked, workdir)."""
    layers = ["fork", "setsid"] + (["pidns"] if in_pid_namespace else [])
    root = privileged()
    if root and unshare(CLONE_NEWNET):
        layers.append("netns")
    pypaths = python_paths()
    if root and unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS):
        needed = {os.path.realpath(p) for p in (sys.prefix, sys.exec_prefix, *sys.path)  # Python's own, not cwd
                  if p and os.path.isdir(p) and (p in (sys.prefix, sys.exec_prefix) or "-packages" in p)}
        if hide_mounts(hidden, keep=needed) and expose_python(pypaths):
            layers.append("mountns")
        if in_pid_namespace and _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC):
            layers.append("procfs")
    private_tmp = "mountns" in layers
    workdir = tempfile.mkdtemp(prefix="grading-", dir="/tmp" if private_tmp else scratch)

    out = os.open(os.path.join(workdir, ".output"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    for fd in (out, null):
        if fd > 2 and fd != keep_fd:
            os.close(fd)
    os.closerange(3, keep_fd)
    os.closerange(keep_fd + 1, 1 << 16)

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    vm = _vm_bytes()
    limits = {
        resource.RLIMIT_AS: vm + (memory_mb << 20) if vm else None,
        resource.RLIMIT_CPU: cpu_seconds,
        resource.RLIMIT_FSIZE: output_cap,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_NOFILE: 256,
        resource.RLIMIT_NPROC: 512 if root else None,
    }
    ok = True
    for which, value in limits.items():
        if value is None:
            continue
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            ok = False
    layers.append("rlimits" if ok else "some-rlimits")

    if root and reachable(pypaths):  # else nobody could not even import the standard library
        os.chown(workdir, NOBODY, NOBODY)
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            layers.append("setuid(nobody)")
        except OSError:
            pass
    if prctl(PR_SET_NO_NEW_PRIVS, 1):
        layers.append("no_new_privs")
    parent = os.getppid()
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid: a credential change clears it
    if os.getppid() != parent:
        os._exit(70)
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update({"HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                       "OMP_NUM_THREADS": "1"})
    sys.path[:] = [p for p in sys.path if p and os.path.isabs(p) and not _under(os.path.realpath(p), hidden)]
    return layers, workdir


def _vm_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
