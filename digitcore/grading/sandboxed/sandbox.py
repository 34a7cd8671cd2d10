"""Operating-system isolation for student code, enforced by the kernel (docs/isolation.md says what holds where).

The trusted side (client.py) starts each zygote in bubblewrap with an allow-list root (`bwrap_command`) and asks
libseccomp for a BPF filter (`seccomp_program`); the sandboxed child (worker.py), before any student code, locks
itself down (`lock_down`). Where a layer is missing the grader runs with what remains, never as root, and the
report lists the layers in force.
"""

import contextlib
import ctypes
import ctypes.util
import os
import platform
import resource
import signal
import struct
import subprocess
import sys
import sysconfig
from pathlib import PurePosixPath

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 22, 36, 38
SECCOMP_MODE_FILTER = 2
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(platform.machine())
NOBODY = 65534
CHILD_UID_BASE = 1 << 20                # without a mount namespace per child: a uid of its own (zygote pid, count)
CHILD_UIDS_PER_ZYGOTE = 512
BWRAP = "/usr/bin/bwrap"
SYSTEM_PYTHON = "/usr/bin/python3"   # where Debian's python3-seccomp lives
GRADER_DIR = "/grader"                # the private copy of the worker's files, inside the sandbox
WORK_DIR = "/sandbox-work"            # each child's private tmpfs, inside the sandbox (a name no host path uses)

# Refused for student code (errno EPERM), by the kernel: new processes and programs, looking into or
# changing other processes, new namespaces and mounts, kernel facilities a worker never needs.
REFUSED_SYSCALLS = (
    "fork", "vfork", "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    "pidfd_open", "kcmp", "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "mount_setattr",
    "fsopen", "fsmount", "fsconfig", "move_mount", "open_tree", "bpf", "perf_event_open", "userfaultfd",
    "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "reboot", "swapon", "swapoff", "acct", "name_to_handle_at", "open_by_handle_at",
    "io_uring_setup",
    # memory that RLIMIT_AS does not count: SysV shared memory, semaphores and queues, and memory files
    "shmget", "shmat", "msgget", "semget", "memfd_create", "memfd_secret",
)  # rlimits are set as hard limits, which the user nobody cannot raise
CLONE_THREAD = 0x00010000

SECCOMP_GENERATOR = f"""
import errno, sys, seccomp
f = seccomp.SyscallFilter(seccomp.ALLOW)
for name in {REFUSED_SYSCALLS!r}:
    try:
        f.add_rule(seccomp.ERRNO(errno.EPERM), name)
    except (RuntimeError, ValueError, OSError):
        pass
f.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, {CLONE_THREAD}, 0))
f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")   # glibc then falls back to clone, filtered above
f.export_bpf(sys.stdout)
"""

try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
except OSError:  # not Linux/glibc: no namespaces, no prctl
    _libc = None


def libc_call(name: str, *args) -> bool:
    fn = getattr(_libc, name, None) if _libc is not None else None
    return fn is not None and fn(*args) == 0


def prctl(option: int, value: int) -> bool:
    return libc_call("prctl", option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


def _mount(source, target, fstype, flags, data=None) -> bool:
    enc = lambda s: None if s is None else s.encode()
    return libc_call("mount", enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))


def under(path: str, roots) -> bool:
    """Is `path` one of `roots` or inside one of them?"""
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


# --- the trusted side: which mode, the bwrap command, the seccomp program ---------------------------------


def sandbox_setting() -> str:
    """DIGITCORE_SANDBOX: "full" (unset) uses every layer that can be had; "weak" grades as if no namespace could
    be made (a container); "none" also goes without seccomp and Landlock (as on macOS). None of them ever runs
    student code as root."""
    setting = os.environ.get("DIGITCORE_SANDBOX", "")
    return setting if setting in ("weak", "none") else "full"


def bwrap_usable() -> bool:
    """bwrap is installed and can make its namespaces here (as root, or with unprivileged user namespaces)."""
    if sandbox_setting() != "full" or not os.access(BWRAP, os.X_OK):
        return False
    try:
        return subprocess.run([BWRAP, "--unshare-all", "--ro-bind", "/", "/", "--", "/bin/true"],
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def seccomp_program() -> bytes | None:
    """The BPF filter (REFUSED_SYSCALLS) from libseccomp, or None where python3-seccomp is missing."""
    if sandbox_setting() == "none" or not os.access(SYSTEM_PYTHON, os.X_OK):
        return None
    try:
        done = subprocess.run([SYSTEM_PYTHON, "-I", "-c", SECCOMP_GENERATOR], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 and done.stdout and len(done.stdout) % 8 == 0 else None


def python_binds(project: str) -> list[str]:
    """The folders (and the executable) Python needs: its prefixes and site-packages, never the project's
    checkout (a .venv inside it is fine)."""
    paths = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix) if p}
    paths -= {"/", "/usr", "/usr/local"}
    paths |= {os.path.realpath(p) for key in ("stdlib", "platstdlib", "purelib", "platlib")
              if (p := sysconfig.get_paths().get(key)) and os.path.isdir(p)}
    paths |= {os.path.realpath(p) for p in sys.path if p and os.path.isabs(p) and os.path.isdir(p)
              and p.rstrip(os.sep).endswith(("-packages", "lib-dynload"))}
    paths.add(os.path.realpath(sys.executable))
    project = os.path.realpath(project)
    # inside the checkout, only a virtual environment's folders (below a pyvenv.cfg), whichever Python runs the
    # grader (the checkout's .venv, or a Debian venv that borrows its packages)
    in_venv = lambda p: any(os.path.isfile(os.path.join(d, "pyvenv.cfg"))
                            for d in (p, *map(str, PurePosixPath(p).parents)) if under(d, [project]) and d != project)
    safe = [p for p in paths if not under(project, [p]) and (not under(p, [project]) or in_venv(p))]
    return sorted(p for p in safe if not any(q != p and under(p, [q]) for q in safe))


def bwrap_command(grader_dir: str, project: str, argv: list[str], *, root: bool, env: dict) -> list[str]:
    """bwrap ... -- argv: a new root holding only Python's folders and `grader_dir` (at /grader), read-only."""
    cmd = [BWRAP, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--clearenv"]
    # as root the zygote keeps root's capabilities inside its namespaces to give each child its own namespaces and
    # the user nobody (every child drops them before student code); without root a user namespace makes them possible
    cmd += ["--cap-add", "ALL"] if root else ["--unshare-user"]
    cmd += ["--perms", "0755", "--tmpfs", "/tmp"]  # first: Python's folders may live under /tmp, bound below
    tops = [top for top in ("/usr/lib", "/usr/lib64", "/usr/lib32") if os.path.isdir(top) and not os.path.islink(top)]
    mounts = [("--ro-bind", top, top) for top in tops]   # (option, source, destination), in order
    for link in ("/lib", "/lib64", "/lib32", "/bin"):
        if os.path.islink(link):
            mounts.append(("--symlink", os.readlink(link), link))
        elif os.path.isdir(link) and link != "/bin":
            mounts.append(("--ro-bind", link, link))
    mounts += [("--ro-bind", etc, etc) for etc in ("/etc/ld.so.cache", "/etc/localtime") if os.path.exists(etc)]
    binds = python_binds(project)
    mounts += [("--ro-bind", p, p) for p in binds if not under(p, tops)]
    # the links from sys.executable to the real Python (a Debian venv: .venv/bin/python -> /usr/bin/python3 -> ...)
    link, hops = sys.executable, 0
    while os.path.islink(link) and hops < 40:
        target, hops = os.readlink(link), hops + 1
        if not under(link, binds + tops):
            mounts.append(("--symlink", target, link))
        link = os.path.normpath(os.path.join(os.path.dirname(link), target))
    made = {"/", "/tmp"}
    for option, source, dest in mounts:   # each parent folder made once, readable by the user nobody
        new = [str(d) for d in reversed(PurePosixPath(dest).parents) if str(d) not in made]
        made.update(new)
        cmd += [*(x for d in new for x in ("--perms", "0755", "--dir", d)), option, source, dest]
    # copies of the project installed inside Python's folders (a non-editable `pip install`): covered
    sites = {os.path.realpath(p) for p in sys.path if p and p.rstrip(os.sep).endswith("-packages")}
    masked = {c for b in (*binds, *(p for p in sites if under(p, binds))) for sub in ("digitcore", "solutions", "checks")
              if os.path.isdir(c := os.path.join(b, sub))}
    cmd += [x for p in sorted(masked) for x in ("--perms", "0555", "--tmpfs", p)]
    cmd += ["--ro-bind", grader_dir, GRADER_DIR,
            "--perms", "0755", "--dir", WORK_DIR,
            "--dev", "/dev", "--proc", "/proc", "--chdir", "/"]
    return cmd + [x for k, v in env.items() for x in ("--setenv", k, v)] + ["--", *argv]


# --- the sandboxed child, before student code ----------------------------------------------------------


def load_seccomp(bpf: bytes) -> bool:
    """Install the filter in this (single-threaded) process: every later thread inherits it."""
    if not bpf or _libc is None:
        return False
    buf = ctypes.create_string_buffer(bpf, len(bpf))
    prog = struct.pack("HP", len(bpf) // 8, ctypes.addressof(buf))   # struct sock_fprog, laid out as C lays it out
    return _libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.c_char_p(prog),
                       ctypes.c_ulong(0), ctypes.c_ulong(0)) == 0


def private_folders(owner: int) -> bool:
    """A mount namespace of its own: a fresh tmpfs work folder and /dev/shm, owned by `owner`, that only this
    child sees; and an IPC namespace of its own, with no SysV shared memory, queues or semaphores at all (memory
    that RLIMIT_AS does not count; seccomp refuses the calls too, where it is in force)."""
    if not libc_call("unshare", CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS):
        return False
    with contextlib.suppress(OSError):   # needs root
        for name, value in (("shmall", "0"), ("shmmni", "0"), ("msgmni", "0"), ("sem", "0 0 0 0")):
            with open(f"/proc/sys/kernel/{name}", "w") as f:
                f.write(value)
    ok = _mount(None, "/", None, MS_REC | MS_PRIVATE)
    opts = f"size=64m,mode=700,uid={owner},gid={owner}"
    ok = ok and _mount("tmpfs", WORK_DIR, "tmpfs", MS_NOSUID | MS_NODEV, opts)
    if os.path.isdir("/dev/shm"):
        ok = ok and _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts)
    return ok


def own_user_namespace() -> bool:
    """Not root (bubblewrap with unprivileged user namespaces): a user namespace of this child's own, its own uid
    mapped to itself, in which it may make its own mount and IPC namespaces. Once in it, it must leave it
    (leave_user_namespace): a map it cannot write is an error, not a quiet fallback."""
    uid, gid = os.getuid(), os.getgid()
    if not libc_call("unshare", CLONE_NEWUSER):
        return False
    prctl(PR_SET_DUMPABLE, 1)   # a process that is not dumpable may not write its own maps; lock_down clears it
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    return True


def leave_user_namespace() -> bool:
    """Give up the capabilities own_user_namespace gave: enter a new user namespace that maps nobody and owns
    nothing, and clear every capability there too (capset)."""
    if SYS_CAPSET is None or not libc_call("unshare", CLONE_NEWUSER):
        return False
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)   # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()
    return _libc.syscall(ctypes.c_long(SYS_CAPSET), ctypes.byref(header), ctypes.byref(data)) == 0


def lock_down(*, sandboxed: bool, memory_mb: int, cpu_seconds: int, output_cap: int, keep_fds: tuple,
              in_pid_namespace: bool, folder: str, seccomp_bpf: bytes | None, child_uid: int) -> tuple[list[str], str]:
    """Isolate this (freshly forked, single-threaded) child: (layers in force, its work folder). `sandboxed`: in
    the bwrap root (the allow-list). `folder`: an empty folder the zygote made for this child, its work folder when
    it has no tmpfs of its own; `child_uid`: the user it becomes then, as root (a container)."""
    layers = (["bwrap"] if sandboxed else []) + ["fork", "setsid"] + (["pidns"] if in_pid_namespace else [])
    root = os.geteuid() == 0
    if root and sandbox_setting() == "full" and libc_call("unshare", CLONE_NEWNET):
        layers.append("netns")
    own_userns = sandboxed and not root and own_user_namespace()
    private = sandboxed and (private_folders(NOBODY) if root else own_userns and private_folders(os.getuid()))
    if private:
        layers.append("private-tmpfs")
        workdir = WORK_DIR
        if in_pid_namespace and _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC):
            layers.append("procfs")
    else:  # no mount namespace of its own: the zygote's fresh folder, removed by the zygote after the child
        workdir = folder

    out = os.open(os.path.join(workdir, ".output"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for fd, target in ((os.open(os.devnull, os.O_RDONLY), 0), (out, 1), (out, 2)):
        os.dup2(fd, target)
    bounds = [2, *sorted(set(keep_fds)), 1 << 16]   # every descriptor but 0-2 and keep_fds (out and null too)
    for low, high in zip(bounds, bounds[1:]):
        os.closerange(low + 1, high)

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:   # the address space now (VmSize), which RLIMIT_AS counts from; not capped where it is not known
        with open("/proc/self/statm") as f:
            vm = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        vm = 0
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
        if value is not None:
            try:
                resource.setrlimit(which, (value, value))
            except (ValueError, OSError):
                ok = False
    layers.append("rlimits" if ok else "some-rlimits")

    if root:   # student code never runs as root: leave it for good (and give the user its work folder), or stop
        uid = NOBODY if private else child_uid
        os.chown(workdir, uid, uid)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if os.getresuid() != (uid, uid, uid) or 0 in os.getresgid():
            raise PermissionError("could not leave root; student code never runs as root")
        layers.append("setuid(nobody)" if private else "setuid(own-uid)")
    elif own_userns:
        if not leave_user_namespace():
            raise PermissionError("could not give up the capabilities of its own user namespace")
        layers.append("userns")
    if prctl(PR_SET_NO_NEW_PRIVS, 1):
        layers.append("no_new_privs")
    if not (root and private) and sandbox_setting() != "none" and landlock(workdir):
        layers.append("landlock")
    prctl(PR_SET_DUMPABLE, 0)   # no /proc/PID/mem of this process for anyone else
    parent = os.getppid()
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid: a credential change clears it
    if os.getppid() != parent:
        os._exit(70)
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update({"HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                       "OMP_NUM_THREADS": "1"})
    if load_seccomp(seccomp_bpf):
        layers.append("seccomp")
    return layers, workdir


# --- Landlock: what a child without a mount namespace of its own may read and write -----------------------

LANDLOCK_CREATE_RULESET, LANDLOCK_ADD_RULE, LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_RULE_PATH_BENEATH = 1
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1, 2, 4, 8
FS_TRUNCATE, FS_IOCTL_DEV = 1 << 14, 1 << 15
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2
LANDLOCK_READABLE = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc/ld.so.cache", "/etc/localtime", "/proc",
                     "/sys", "/dev/urandom", "/dev/random", "/dev/zero")


def landlock_abi() -> int:
    """The kernel's Landlock version (0: none)."""
    if _libc is None or not sys.platform.startswith("linux"):
        return 0
    return max(_libc.syscall(ctypes.c_long(LANDLOCK_CREATE_RULESET), None, ctypes.c_size_t(0), ctypes.c_uint32(1)), 0)


def landlock(workdir: str) -> bool:
    """Restrict this process (and its threads) for good: read Python's folders and a few system files; read and
    write only its own work folder and /dev/null; no signals or abstract sockets to processes outside."""
    abi = landlock_abi()
    if abi < 1:
        return False
    handled = (1 << 13) - 1 | (1 << 13 if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0) | (
        FS_IOCTL_DEV if abi >= 5 else 0)
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = (ctypes.c_uint64 * 3)(handled, 0, scoped)
    ruleset = _libc.syscall(ctypes.c_long(LANDLOCK_CREATE_RULESET), ctypes.byref(attr),
                            ctypes.c_size_t(24 if abi >= 6 else 16 if abi >= 4 else 8), ctypes.c_uint32(0))
    if ruleset < 0:
        return False
    try:
        file_rights = FS_READ_FILE | FS_WRITE_FILE | (handled & (FS_TRUNCATE | FS_IOCTL_DEV))
        grader_copy = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))   # <copy>/digitcore/grading/sandboxed
        ok = all(_landlock_allow(ruleset, path, FS_READ_FILE | FS_READ_DIR)
                 for path in (*LANDLOCK_READABLE, *python_binds("/nonexistent"), grader_copy) if os.path.exists(path))
        ok = ok and _landlock_allow(ruleset, "/dev/null", file_rights)
        ok = ok and _landlock_allow(ruleset, workdir, handled & ~FS_EXECUTE)
        return ok and _libc.syscall(ctypes.c_long(LANDLOCK_RESTRICT_SELF), ctypes.c_int(ruleset), ctypes.c_uint32(0)) == 0
    finally:
        os.close(ruleset)


def _landlock_allow(ruleset: int, path: str, rights: int) -> bool:
    if not os.path.isdir(path):
        rights &= FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        rule = struct.pack("=Qi", rights, fd)
        return _libc.syscall(ctypes.c_long(LANDLOCK_ADD_RULE), ctypes.c_int(ruleset), ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH),
                             ctypes.c_char_p(rule), ctypes.c_uint32(0)) == 0
    finally:
        os.close(fd)


def children_of(ppid: int) -> list[int]:
    kids = []
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{name}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:   # the field after the name (which may hold ")")
                    kids.append(int(name))
    return kids
