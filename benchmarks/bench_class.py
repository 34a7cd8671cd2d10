"""How many students can one machine hold? `digitcore class` under N simultaneous students, for sizing a machine.

For each number of students N (and each number of marimo workers asked for), this starts `digitcore class` on
loopback, opens N Chromium pages at the same moment (each with its own cookies, so each is a new student) and
measures, on each page's own clock:
- first render: navigation to every cell idle (the lab's curves drawn);
- live on the server: from the moment the students arrive to the end of their kernels' first run, as the workers
  record it; where the browsers share the server's cores this comes before the page has drawn it;
- slider latency: every student drags the learning rate at the same moment, release to the end of the run it starts
  (new curves), MOVES times; each student goes to a different rate where the slider has enough of them, so the
  shared training cache does not hide the work (it would in a class told "everyone, try 0.1");
- memory: resident memory of the workers and HAProxy after the moves (the browser's own memory not counted);
- CPU seconds the servers spent per student's first render and per slider move, counted from a class that has
  settled after its start: what sizes a machine, and (unlike the latencies) hardly changed by other programs
  sharing the cores;
- CPU seconds Chromium spent per first render (this benchmark's own browser processes): on a machine that runs
  the browsers too, server and browser CPU together over the cores is the floor under the render times.

    python benchmarks/bench_class.py                         # 1, 2, 4, 8, 16 students, workers as the command plans
    python benchmarks/bench_class.py --students 8 --workers 1,2,4   # processes per core, side by side
    python benchmarks/bench_class.py --students 8 --nice-browser    # the browsers' CPU last, as on students' laptops
    python benchmarks/bench_class.py --students 8 --wire            # no browsers: the server has the cores

Chromium runs on the same machine and takes CPU of its own, more with more pages: on a small machine the figures
are an upper bound on what students on their own laptops would see. With --wire each student is a wire student
(tests/browser/wire_student.py): the page, its scripts, the kernel's websocket and the slider moves, as marimo's
frontend sends them, and nothing drawn; the server's cost is the same, and this machine's cores are the server's,
as in a room where every student brings a laptop. Then "render" is the time to the end of the first run as the
student receives it, and the last column is this benchmark's own CPU per student.
"""

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from marimo_driver import LessonPage, launch_chromium, serve_class  # noqa: E402 (found through sys.path above)
from wire_student import WireStudent  # noqa: E402

from digitcore.class_server import plan_workers  # noqa: E402

LR = "learning rate"


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(0.95 * len(xs)) - 1))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pids, waited_children: bool = False) -> float:
    """User + system CPU seconds the processes have used so far; with `waited_children`, also those of the
    children they have waited for (workers start none; Chromium's pages come and go). A process that has ended
    since its pid was read counts nothing."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15 if waited_children else 13]) / os.sysconf("SC_CLK_TCK")
    return total


def settle(pids, idle_share: float = 0.05, most: float = 60.0) -> None:
    """Wait until the class is idle (its processes together use under `idle_share` of a core over a second): a
    worker's last start-up work (its first run of the lesson, warming HAProxy's cache) is not an arriving student's."""
    deadline = time.monotonic() + most
    while time.monotonic() < deadline:
        before = cpu_seconds(pids)
        time.sleep(1.0)
        if cpu_seconds(pids) - before < idle_share:
            return


def browser_pids() -> list[int]:
    """This benchmark's Chromium processes: descendants of this process named chrom* or headless*."""
    parent, name = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        pid = int(stat.parent.name)
        name[pid] = text[text.index("(") + 1:text.rindex(")")]
        parent[pid] = int(text.rsplit(")", 1)[1].split()[1])
    pids = []
    for pid in parent:
        ancestor = parent[pid]
        while ancestor not in (0, 1, os.getpid()):
            ancestor = parent.get(ancestor, 0)
        if ancestor == os.getpid() and name[pid].startswith(("chrom", "headless")):
            pids.append(pid)
    return pids


def nice_browser() -> None:
    """Give every thread of this benchmark's Chromium the lowest CPU priority (pages opened later are forked from
    them and inherit it), so the server's work goes first, as if the students' browsers ran on their own laptops."""
    for pid in browser_pids():
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                os.setpriority(os.PRIO_PROCESS, int(task.name), 19)
            except OSError:
                pass


def server_live(run_dir: Path, since: float) -> list[float]:
    """Seconds from `since` to the end of each kernel's first run (every cell run: the lab live on the server),
    from the workers' own records (digitcore/class_metrics.py)."""
    ends = [float(line.split()[0]) - since for runs in Path(run_dir).glob("*.runs")
            for line in runs.read_text().splitlines() if line.endswith(" first")]
    return [t for t in ends if t >= 0]


def one_class(browser, lesson: Path, students: int, workers: int, moves: int) -> dict:
    with serve_class(lesson, workers, students=students) as run:
        pages = [LessonPage(browser, run.url) for _ in range(students)]
        pids = run.info()["pids"]
        settle(pids.values())
        try:
            cpu, browser_cpu = [cpu_seconds(pids.values())], cpu_seconds(browser_pids(), waited_children=True)
            arrived = time.time()
            for page in pages:  # everyone at once: the next page starts before this one has loaded
                page.page.goto(run.url, wait_until="commit")
            renders = []
            for page in pages:  # the page's clock starts with its navigation; idleAt: when each cell went idle
                page.wait_idle(timeout=900)
                renders.append(page.page.evaluate("() => Math.max(...Object.values(window.__mo.idleAt)) / 1000"))
            cpu.append(cpu_seconds(pids.values()))
            browser_cpu = cpu_seconds(browser_pids(), waited_children=True) - browser_cpu
            live = server_live(run.run_dir, arrived)
            steps = len(pages[0].slider_steps(LR))
            usable = list(range(0, steps - 4))  # the top rates diverge at once: not a fair training run
            latencies = []
            for m in range(moves):
                runs = [page.runs() for page in pages]
                for i, page in enumerate(pages):
                    target = usable[(i + m * students + 1) % len(usable)]
                    if target == page.slider_index(LR):
                        target = usable[(i + m * students + 2) % len(usable)]
                    page.drag_slider(LR, target)
                for page, before in zip(pages, runs):
                    page.wait_idle(after_runs=before, timeout=900)
                    state = page.state()
                    latencies.append((state["runs"][-1]["t"] - state["releases"][-1]) / 1000)
            errors = [page.describe_errors() for page in pages if page.errors() or page.failed_runs()]
            for e in errors[:2]:
                print(f"  a page had errors: {e[:1500]}", file=sys.stderr, flush=True)
            row = figures(students, workers, moves, pids, cpu, browser_cpu, render=renders, slider=latencies,
                          errors=errors, live=live)
        finally:
            for page in pages:
                page.close()
    return row


def figures(students: int, workers: int, moves: int, pids: dict, cpu: list, client_cpu: float, **measured) -> dict:
    """One class's row, at the end of its moves: `cpu`, the servers' CPU-seconds at the arrival and after the first
    renders (now is the third); `client_cpu`, the students' side (Chromium, or the wire students) over the renders;
    the servers' memory now."""
    cpu = [*cpu, cpu_seconds(pids.values())]
    return {"students": students, "workers": workers, "cpu_render": (cpu[1] - cpu[0]) / students,
            "memory_mb": {name: rss_mb(pid) for name, pid in pids.items()},
            "browser_cpu_render": client_cpu / students, "cpu_move": (cpu[2] - cpu[1]) / (students * moves),
            **measured}


def one_class_wire(lesson: Path, students: int, workers: int, moves: int) -> dict:
    """one_class with wire students, each on a thread of its own: all arrive at once, then all move at once."""
    from concurrent.futures import ThreadPoolExecutor

    with serve_class(lesson, workers, students=students) as run, ThreadPoolExecutor(students) as pool:
        pids = run.info()["pids"]
        wires = [WireStudent(run.url, timeout=900) for _ in range(students)]
        settle(pids.values())
        try:
            cpu, own_cpu = [cpu_seconds(pids.values())], cpu_seconds([os.getpid()])
            arrived = time.time()
            renders = list(pool.map(lambda w: w.open(), wires))
            cpu.append(cpu_seconds(pids.values()))
            own_cpu = cpu_seconds([os.getpid()]) - own_cpu
            live = server_live(run.run_dir, arrived)
            usable = list(range(0, wires[0].lr_steps - 4))  # the top rates diverge at once: not a fair training run
            latencies = []
            for m in range(moves):
                targets = [usable[(i + m * students + 1) % len(usable)] for i in range(students)]
                latencies += pool.map(lambda wt: wt[0].move(wt[1]), zip(wires, targets))
            errors = [f"{w.errors} {w.failed}" for w in wires if w.errors or w.failed]
            row = figures(students, workers, moves, pids, cpu, own_cpu, render=renders, slider=latencies,
                          errors=errors, live=live)
        finally:
            for w in wires:
                w.close()
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--students", default="1,2,4,8,16", help="numbers of simultaneous students (default 1,2,4,8,16)")
    ap.add_argument("--workers", default="auto", help="'auto' (as `digitcore class` plans) or a list, e.g. 1,2,4")
    ap.add_argument("--moves", type=int, default=2, help="slider moves per student (default 2)")
    ap.add_argument("--lesson", default=str(ROOT / "lessons" / "05_sgd.py"))
    ap.add_argument("--nice-browser", action="store_true",
                    help="run Chromium at the lowest CPU priority: the server's figures as with browsers elsewhere")
    ap.add_argument("--wire", action="store_true",
                    help="wire students instead of Chromium pages: the server's figures with the browsers elsewhere")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores; load average at start {os.getloadavg()[0]:.1f}; lesson {Path(args.lesson).name}; "
          f"{args.moves} slider moves per student; seconds on each {'student' if args.wire else 'page'}'s clock; "
          f"students: {'wire (no browser)' if args.wire else 'Chromium pages'}", flush=True)
    print(f"{'students':>8}{'workers':>8}{'live med':>9}{'render med':>11}{'p95':>7}{'slider med':>11}{'p95':>7}"
          f"{'server MB':>10}{'MB/worker':>10}{'cpu s/render':>13}{'cpu s/move':>11}"
          f"{'client s/render' if args.wire else 'browser s/render':>17}{'errors':>7}", flush=True)
    with contextlib.ExitStack() as stack:
        if args.wire:
            browser = None
        else:
            from playwright.sync_api import sync_playwright

            browser = launch_chromium(stack.enter_context(sync_playwright()))
            stack.callback(browser.close)
            if args.nice_browser:
                nice_browser()
        for n in [int(x) for x in args.students.split(",")]:
            ks = [plan_workers(n)] if args.workers == "auto" else [int(x) for x in args.workers.split(",")]
            for k in ks:
                r = (one_class_wire(Path(args.lesson), n, k, args.moves) if args.wire
                     else one_class(browser, Path(args.lesson), n, k, args.moves))
                mem = r["memory_mb"]
                worker_mb = [v for name, v in mem.items() if name != "haproxy"]
                print(f"{n:>8}{k:>8}{statistics.median(r['live']) if r['live'] else float('nan'):>9.1f}"
                      f"{statistics.median(r['render']):>11.1f}{p95(r['render']):>7.1f}"
                      f"{statistics.median(r['slider']):>11.2f}{p95(r['slider']):>7.2f}{sum(mem.values()):>10.0f}"
                      f"{statistics.mean(worker_mb):>10.0f}{r['cpu_render']:>13.2f}{r['cpu_move']:>11.2f}"
                      f"{r['browser_cpu_render']:>17.2f}{len(r['errors']):>7}",
                      flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
