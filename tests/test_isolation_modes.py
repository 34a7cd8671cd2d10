"""The grader in every place an instructor grades, and its isolation line telling the truth there.

Each row grades a small class in a fresh process: two probe students and an honest classmate. A probe reports
its uid and capabilities and tries the red team's attacks: read the classmate's file, /etc/shadow; write into the
checkout's checks/hidden/ and the grades folder; hold 512 MB of SysV shared memory, make a memory file; leave a
file for the next student (and look for the one the first probe left); signal or read the memory of any other
process (the zygote, its own parent). The test compares what it got with the report's isolation line.

Rows, as CI (root, bubblewrap, seccomp) can build them for real:
    ci          the grader as CI runs it
    debian      the same with a venv made by /usr/bin/python3 -m venv (links to Debian's Python)
    container   root, but no namespace can be made: the grader runs under a seccomp filter that refuses them
                (as Docker's default profile does), so bubblewrap and unshare fail for real
    laptop      not root (the user nobody), bubblewrap with unprivileged user namespaces
    nothing     DIGITCORE_SANDBOX=none: no namespaces, no seccomp, no Landlock (as on macOS)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from linked_venv import make_system_python_venv

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = (ROOT / "solutions" / "exercises.py").read_text()
SYSTEM_PYTHON = "/usr/bin/python3"
NOBODY = 65534
TOKEN = "dcmodes" + os.urandom(4).hex()
VICTIM_SECRET = "VICTIM-" + os.urandom(6).hex()
ATTACKS = {"classmate", "shadow", "hidden", "grades", "shmget", "memfd", "tmp", "devshm", "earlier", "signal", "mem"}

PROBE = '''
import ctypes, json, os, sys
sys.modules["digitcore.grading.sandboxed.guards"].Guard.refuse = lambda *a, **k: None   # the audit hook, off: the kernel decides


def _probe():
    got = []
    def attempt(name, fn):
        try:
            if fn() is not False:
                got.append(name)
        except BaseException:
            pass
    attempt("classmate", lambda: "{secret}" in open("{klass}/zz_victim.py").read())
    attempt("shadow", lambda: open("/etc/shadow").read(1))
    attempt("hidden", lambda: open("{hidden}/test_{token}.py", "w").write("x"))
    attempt("grades", lambda: open("{grades}/{token}.json", "w").write("x"))
    def shm():
        libc = ctypes.CDLL(None, use_errno=True)
        shmid = libc.shmget(0, ctypes.c_size_t(512 << 20), 0o1000 | 0o600)
        if shmid < 0:
            return False
        libc.shmctl(shmid, 0, None)
    attempt("shmget", shm)
    attempt("memfd", lambda: os.close(os.memfd_create("hold")))
    places = {{"tmp": "/tmp", "devshm": "/dev/shm"}}
    def earlier():
        for folder in (*places.values(), "/var/tmp", os.path.dirname(os.getcwd())):
            if any(n.startswith("{token}") for n in os.listdir(folder)):
                return True
        return False
    attempt("earlier", earlier)
    for name, folder in places.items():
        attempt(name, lambda folder=folder: open(os.path.join(folder, "{token}_left"), "w").write("x"))
    open("{token}_workdir", "w").write("x")
    others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
    attempt("signal", lambda: any(_try(os.kill, p, 0) for p in others) or False)
    attempt("mem", lambda: any(_try(lambda p: open(f"/proc/{{p}}/mem", "rb").close(), p) for p in others) or False)
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    return {{"uid": os.getuid(), "caps": int(status["CapEff"].strip(), 16), "got": got}}


def _try(fn, *args):
    try:
        fn(*args)
        return True
    except OSError:
        return False


def mnist_loss(predictions, targets):
    raise RuntimeError("PROBE" + json.dumps(_probe(), separators=(",", ":")) + "END")
'''

GRADE = """
import json, sys
from digitcore.grading.classroom import grade_reports
from digitcore.grading.client import GraderError
try:
    _, reports, _ = grade_reports(sys.argv[1], jobs=1, time_limit=20.0, include_hidden=False,
                                  unsafe_no_isolation=sys.argv[2] == "unsafe")
except GraderError as e:
    print(json.dumps({"refused": str(e)}))
    raise SystemExit(0)
out = {}
for r in reports:
    loss = r.exercises["mnist_loss"]
    out[r.student] = {"total": r.total, "max": sum(ex.max_score for ex in r.exercises.values()),
                      "isolation": r.isolation, "engine": r.engine_errors,
                      "messages": [v.message for _, v in loss.checks]}
print(json.dumps(out))
"""

# A container's seccomp profile, in short: the grader itself may not make these namespaces or mount anything
NO_NAMESPACES = """
import errno, os, sys, seccomp
f = seccomp.SyscallFilter(seccomp.ALLOW)
for name in ("mount", "pivot_root"):
    f.add_rule(seccomp.ERRNO(errno.EPERM), name)
for flag in {flags}:
    for name in ("clone", "unshare"):
        f.add_rule(seccomp.ERRNO(errno.EPERM), name, seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
f.add_rule(seccomp.ERRNO(errno.EPERM), "setns")
f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
f.load()
os.execv(sys.argv[1], sys.argv[1:])
"""
CONTAINERS = {  # Docker's default refuses every new namespace; some profiles refuse only the mount namespace
    "no namespaces": (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000),
    "no mount namespaces": (0x00020000,),
}


def _has_seccomp_module() -> bool:
    return subprocess.run([SYSTEM_PYTHON, "-c", "import seccomp"], capture_output=True).returncode == 0


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or not os.access("/usr/bin/bwrap", os.X_OK) or not _has_seccomp_module(),
                       reason="the rows are built as CI builds them: root, bubblewrap and python3-seccomp"),
]


@pytest.fixture(scope="module")
def place():
    """A folder every row's instructor (root or nobody) can use: a Debian venv, the class, a checkout's
    checks/hidden/, a grades folder."""
    base = Path(tempfile.mkdtemp(prefix="digitcore-modes-"))
    base.chmod(0o755)
    python = make_system_python_venv(base / "venv")
    yield {"base": base, "debian_python": python}
    shutil.rmtree(base, ignore_errors=True)
    for folder in ("/tmp", "/dev/shm", "/var/tmp"):
        for name in os.listdir(folder):
            if name.startswith(TOKEN):
                os.unlink(os.path.join(folder, name))


def grade_row(place, row: str, python, *, prefix=(), env=None, owner=0, unsafe=False) -> dict:
    """Grade the probes' class in a fresh process; returns {student: ...} or {"refused": message}."""
    where = place["base"] / row
    klass, hidden, grades = where / "class", where / "checkout" / "checks" / "hidden", where / "grades"
    for folder in (klass, hidden, grades):
        folder.mkdir(parents=True)
    fill = {"klass": klass, "hidden": hidden, "grades": grades, "token": TOKEN, "secret": VICTIM_SECRET}
    for name in ("a_probe", "b_probe"):
        (klass / f"{name}.py").write_text(SOLUTION + PROBE.format(**fill))
    (klass / "zz_victim.py").write_text(SOLUTION + f"\nSECRET = {VICTIM_SECRET!r}\n")
    for path in (where, *where.rglob("*")):
        os.chown(path, owner, owner)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(where), "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8",
           "DIGITCORE_DATA": os.environ.get("DIGITCORE_DATA", ""), **(env or {})}
    done = subprocess.run([*prefix, str(python), "-c", GRADE, str(klass), "unsafe" if unsafe else "safe"],
                          capture_output=True, text=True, env=env, cwd=str(where), timeout=420)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    left = list(hidden.iterdir()) + list(grades.iterdir())
    result["planted"] = [str(p) for p in left]
    return result


def probe_findings(result: dict) -> dict:
    """What each probe found, from its check's message."""
    found = {}
    for name in ("a_probe", "b_probe"):
        message = result[name]["messages"][0]
        assert "PROBE" in message, (name, result[name])
        found[name] = json.loads(message.split("PROBE", 1)[1].split("END", 1)[0])
    return found


def layers(line: str) -> set:
    """The layers an isolation line names as in force (before any "(weaker isolation: ...)")."""
    return set(line.split(" ", 1)[0].split("+"))


def escapes(seen: dict, line: str) -> set:
    """What a probe got that it must not have: writing /dev/shm is no escape where it is the child's own tmpfs."""
    return set(seen["got"]) - ({"devshm"} if "private-tmpfs" in layers(line) else set())


def assert_line_tells_the_truth(result: dict, instructor_uid: int):
    for name, seen in probe_findings(result).items():
        line = result[name]["isolation"]
        assert seen["uid"] != 0 and seen["caps"] == 0, (name, seen, line)
        assert bool(layers(line) & {"setuid(nobody)", "setuid(own-uid)"}) == (seen["uid"] != instructor_uid), (
            name, seen, line)
        if "seccomp" in layers(line):
            assert not {"shmget", "memfd"} & set(seen["got"]), (name, seen, line)
        if "NO SEPARATION" not in line:
            assert not escapes(seen, line) - {"shmget", "memfd"}, (name, seen, line)


def assert_isolated_class(result: dict, instructor_uid: int):
    """A row that must give all of A: every attack fails, the classmate is untouched, nothing planted."""
    assert_line_tells_the_truth(result, instructor_uid)
    for name, seen in probe_findings(result).items():
        assert not escapes(seen, result[name]["isolation"]), (name, seen, result[name]["isolation"])
    victim = result["zz_victim"]
    assert victim["total"] == victim["max"] and not victim["engine"], victim
    assert result["planted"] == []
    assert not [n for folder in ("/tmp", "/dev/shm", "/var/tmp") for n in os.listdir(folder) if n.startswith(TOKEN)]


def test_ci_row(place):
    result = grade_row(place, "ci", Path(sys.executable))
    assert_isolated_class(result, 0)
    assert "weaker" not in result["a_probe"]["isolation"]


def test_debian_venv_row(place):
    """B6: a venv made by Debian's /usr/bin/python3 -m venv grades, with every layer in force."""
    result = grade_row(place, "debian", place["debian_python"])
    assert_isolated_class(result, 0)
    assert "weaker" not in result["a_probe"]["isolation"]


@pytest.mark.parametrize("container", sorted(CONTAINERS))
def test_container_row(place, container):
    """B7/B8: root where bubblewrap cannot start: each child its own uid (never root), Landlock, seccomp; every
    student graded (where PID namespaces work, each worker is PID 2: no FileExistsError after the first), no
    attack succeeds."""
    wrapper = NO_NAMESPACES.format(flags=CONTAINERS[container])
    result = grade_row(place, container.replace(" ", "-"), place["debian_python"], prefix=(SYSTEM_PYTHON, "-c", wrapper))
    assert_isolated_class(result, 0)
    line = result["a_probe"]["isolation"]
    assert "bwrap" not in layers(line) and {"setuid(own-uid)", "landlock", "seccomp"} <= layers(line), line
    uids = {seen["uid"] for seen in probe_findings(result).values()}
    assert len(uids) == 2 and 0 not in uids


def test_laptop_row(place):
    """B9: not root, bubblewrap with unprivileged user namespaces: each child its own user, mount and IPC
    namespaces (a private work folder and /dev/shm), Landlock and seccomp: the same guarantees."""
    result = grade_row(place, "laptop", place["debian_python"], owner=NOBODY,
                       prefix=("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"))
    assert_isolated_class(result, NOBODY)
    line = result["a_probe"]["isolation"]
    assert {"bwrap", "userns", "private-tmpfs", "landlock", "seccomp"} <= layers(line), line


def test_nothing_row_refuses_a_class_without_the_plain_option(place):
    """B10: with nothing to keep students apart a class is refused, and the refusal names the option."""
    result = grade_row(place, "nothing-refused", place["debian_python"], env={"DIGITCORE_SANDBOX": "none"})
    assert "--unsafe-no-isolation" in result["refused"]


def test_nothing_row_with_the_option_says_what_it_gives_up(place):
    """B8/B10: even here, as root, student code does not run as root; the line names every gap the probes use."""
    result = grade_row(place, "nothing", place["debian_python"], env={"DIGITCORE_SANDBOX": "none"}, unsafe=True)
    line = result["a_probe"]["isolation"]
    assert "NO SEPARATION" in line and "no seccomp" in line and "setuid(own-uid)" in layers(line), line
    assert_line_tells_the_truth(result, 0)
