"""How fast does class grading go, and where does the time go?

    python benchmarks/bench_grading.py [--n 200] [--jobs 2] [--baseline 6] [--slow 3 --student-budget 20]

Generates N correct submissions (copies of solutions/exercises.py with small renames), grades them
with the sandboxed class grader (warm zygotes that fork per exercise), and compares with a baseline
that starts one fresh Python process per student (each imports torch and runs the checks in
process, no sandbox), measured on a few students and extrapolated to N. With --slow K it adds K students
who sleep just under the per-check limit in every check and then crash, and compares the class's time
with what the wall budgets promise: the honest class's time plus K student budgets (over the workers).
Prints figures, asserts none.
"""

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "exercises.py"

BASELINE = """
import runpy, sys
from digitcore.exercises import CHECKS, check
ns = runpy.run_path(sys.argv[1])
print(sum(check(ex, ns.get(ex)).score for ex in CHECKS))
"""


def cpu_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def make_submissions(folder: Path, n: int) -> None:
    text = SOLUTION.read_text()
    for i in range(n):
        renamed = re.sub(r"\bpreds\b", f"preds_{i}", text)
        renamed = re.sub(r"\bcorrect\b", f"hits_{i}", renamed)
        (folder / f"student_{i:03d}.py").write_text(f"# student {i}\n" + renamed)


SLOW = """
import time


def _slow(*args):
    time.sleep({nap})
    raise RuntimeError("slow, then wrong")


mnist_loss = apply_step = train_epoch = mnist_distance = batch_accuracy = _slow
"""


def baseline(folder: Path, n: int, jobs: int) -> float:
    """Seconds for n students, one fresh `python` per student, `jobs` at a time."""
    files = sorted(folder.glob("*.py"))[:n]

    def one(path):
        subprocess.run([sys.executable, "-c", BASELINE, str(path)], check=True, capture_output=True, cwd=ROOT)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, files))
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--baseline", type=int, default=6, help="students for the fresh-process baseline (0: skip)")
    parser.add_argument("--slow", type=int, default=0, help="add this many deliberately slow students")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per check")
    parser.add_argument("--student-budget", type=float, default=None, help="wall seconds per student")
    parser.add_argument("--exercise-budget", type=float, default=None, help="wall seconds per exercise")
    args = parser.parse_args()

    from digitcore.grading import runner
    from digitcore.grading.classroom import grade_reports, write_outputs

    runner.STUDENT_BUDGET = args.student_budget or runner.STUDENT_BUDGET
    runner.EXERCISE_BUDGET = args.exercise_budget or runner.EXERCISE_BUDGET

    with tempfile.TemporaryDirectory() as tmp:
        subs, out = Path(tmp) / "subs", Path(tmp) / "grades"
        subs.mkdir()
        make_submissions(subs, args.n)
        for i in range(args.slow):
            (subs / f"zz_slow_{i}.py").write_text(SOLUTION.read_text() + SLOW.format(nap=args.time_limit * 0.95))
        t0, cpu0 = time.perf_counter(), cpu_seconds()
        registry, reports, stats = grade_reports(subs, jobs=args.jobs, time_limit=args.time_limit)
        t_grade = time.perf_counter() - t0
        write_outputs(out, registry, reports)
        t_total = time.perf_counter() - t0
        cpu = cpu_seconds() - cpu0   # this process, and what bwrap hands back of the workers (not all of it)
        full = sum(r.total == r.max_total for r in reports)
        base = baseline(subs, args.baseline, args.jobs) if args.baseline else None

    slow = [r for r in reports if r.student.startswith("zz_slow_")]
    reports = [r for r in reports if not r.student.startswith("zz_slow_")]
    exercises = [e for r in reports for e in r.exercises.values()]
    per_student = [r.seconds for r in reports]
    print(f"sandboxed class grading: {args.n} correct submissions, {args.jobs} workers")
    print(f"  total {t_total:.1f} s ({t_grade:.1f} s grading + {t_total - t_grade:.2f} s writing files), "
          f"{args.n / t_total * 60:.0f} students/min; {full}/{args.n} got full marks (target: 200 in < 180 s)")
    print(f"  sandbox: {reports[0].isolation}")
    print(f"  CPU time counted here (user+sys): {cpu:.1f} s; the workers run in bwrap's PID namespace, whose CPU "
          f"time is only partly handed back, so this is a floor (load average now {os.getloadavg()[0]:.1f})")
    print("where the time goes:")
    print(f"  worker start-up (imports torch once per worker): {', '.join(f'{s:.1f} s' for s in stats['zygote_startup_seconds'])}"
          f" (in parallel; {stats['warm_up_seconds']:.1f} s before the first student)")
    print(f"  per student (one worker): mean {statistics.mean(per_student):.2f} s, "
          f"median {statistics.median(per_student):.2f} s, max {max(per_student):.2f} s")
    print(f"  per exercise round trip: mean {statistics.mean(e.seconds for e in exercises) * 1000:.0f} ms, of which")
    for key, label in (("load", "loading the student's file"), ("probes", "running the checks' probes")):
        print(f"    {label}: {statistics.mean(e.timing.get(key, 0) for e in exercises) * 1000:.0f} ms")
    fork = statistics.mean(e.timing.get("total", 0) - e.timing.get("load", 0) - e.timing.get("probes", 0)
                           for e in exercises)
    print(f"    fork + sandbox set-up + reporting: {fork * 1000:.0f} ms")
    rest = statistics.mean(e.seconds - e.timing.get("total", 0) for e in exercises)
    print(f"    trusted side (inputs, judges, pipes): {rest * 1000:.0f} ms")
    print("  per exercise, mean round trip:")
    for ex in registry:
        times = [r.exercises[ex].seconds for r in reports]
        print(f"    {ex:<16} {statistics.mean(times) * 1000:6.0f} ms")
    if slow:
        honest = stats["warm_up_seconds"] + sum(r.seconds for r in reports) / args.jobs   # the normal time
        print(f"slow students: {len(slow)}, each sleeping {args.time_limit * 0.95:g} s in every check; budgets "
              f"{runner.EXERCISE_BUDGET:g} s per exercise, {runner.STUDENT_BUDGET:g} s per student")
        print(f"  each took {', '.join(f'{r.seconds:.1f} s' for r in slow)} and scored "
              f"{', '.join(f'{r.total:g}' for r in slow)}; the class took {t_grade:.1f} s against a promise of "
              f"{honest:.1f} s (start-up, then the honest students over {args.jobs} workers) + {len(slow)} x "
              f"{runner.STUDENT_BUDGET:g} s = {honest + len(slow) * runner.STUDENT_BUDGET:.1f} s")
    if base is not None:
        per = base / args.baseline
        print(f"baseline, one fresh python per student ({args.jobs} at a time, no sandbox): {base:.1f} s for "
              f"{args.baseline} students = {per:.2f} s each; extrapolated to {args.n}: {per * args.n:.0f} s "
              f"(vs {t_total:.0f} s sandboxed: {per * args.n / t_total:.1f}x)")


if __name__ == "__main__":
    main()
