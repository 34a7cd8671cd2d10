"""A whole class, compressed: does `digitcore class` hold for 90 minutes of students arriving, moving sliders,
reloading and leaving, and when a worker is killed in the middle of it?

Starts `digitcore class` on loopback and plays SESSIONS students over MINUTES: each arrives at a random moment,
waits for the lesson, moves the learning rate a few times with a pause to read between moves, sometimes reloads, and
leaves (closes the tab). Chromium drives all of them from one thread, each student a small state machine, so many
are on the lesson at once (with --wire, each student is a thread of its own). Halfway through (--kill-at), one
worker is killed with SIGKILL, as the kernel's OOM killer would. It prints, and writes as CSV and a picture (--plot, needs matplotlib):

- every 5 s: students connected and resident memory of each worker (from the class's own status.json);
- every slider move: release to new curves, on the page's own clock;
- every session: errors (cells that raised, runs that failed);
- the killed worker's students: seconds from the kill until their page ran the lesson again on another worker, with
  nobody pressing reload (back), and until a slider move ran after that (live); the way back in phases (websocket
  closed, next try to connect, open, kernel ready), and when HAProxy marked the worker down and up again;
- the other students: any whose websocket closed (they would have noticed).

The students themselves (arrivals, moves, reloads, leaving, the kill) are tests/browser/class_students.py, which
tests/browser/test_class_soak.py (Chromium) and tests/test_class_over_a_lesson.py (wire students) play too, shorter.

    python benchmarks/bench_soak.py --wire                            # 400 sessions over 20 minutes on 4 workers
    python benchmarks/bench_soak.py --wire --plot docs/img/soak-wire.png   # docs/class.md's run, and its picture
    python benchmarks/bench_soak.py --sessions 80 --minutes 12 --plot docs/img/soak.png   # the same in Chromium

Chromium runs here too and needs 5 to 7 CPU-seconds per page: on a 2-core machine 400 sessions in 20 minutes are
more than the browsers alone can draw (docs/class.md, "Over a whole lesson"); 80 in 12 minutes is what one such
machine can both serve and drive. With --wire each student is a wire student (tests/browser/wire_student.py): the
same requests, websocket and slider moves as a page, nothing drawn, about 0.1 CPU-second each, so the machine's
cores serve the class as they would with the browsers on the students' laptops.

What it reports against: memory at the end (after the last student left and the closed sessions were freed) within
10% of its level after the first wave of students; no session errors; slider p95 under 1 s in every minute.
"""

import argparse
import contextlib
import csv
import os
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from class_students import plan, play  # noqa: E402
from marimo_driver import launch_chromium, serve_class  # noqa: E402

SESSION_TTL = 10


def p95(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(0.95 * len(xs)) - 1))] if xs else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=400)
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--lesson", default=str(ROOT / "lessons" / "05_sgd.py"))
    ap.add_argument("--kill-at", type=float, default=0.5, help="fraction of the run at which one worker is killed")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--csv", default=None, help="write the samples here (default: beside the plot, or none)")
    ap.add_argument("--plot", default=None, help="a PNG of memory, students and slider times over time")
    ap.add_argument("--wire", action="store_true", help="wire students (tests/browser/wire_student.py), no browser")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    span = args.minutes * 60
    students = plan(args.sessions, span, rng)
    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as stack:
        browser = None if args.wire else launch_chromium(stack.enter_context(sync_playwright()))
        if browser is not None:
            stack.callback(browser.close)
        with serve_class(Path(args.lesson), args.workers, students=args.sessions,
                         extra=("--session-ttl", str(SESSION_TTL), "--status-every", "5")) as run:
            played = play(browser, run, students, span, rng, kill_at=args.kill_at, session_ttl=SESSION_TTL)

    samples, end = played.samples, played.end_status
    moves = [(t - played.t0, lat) for s in students for t, lat in s.latencies]
    errors = [e for s in students for e in s.errors]
    renders = [s.render_s for s in students if s.render_s is not None]
    first = next((x for x in samples if x["t"] >= span * 0.15), samples[0] if samples else {})
    mem = lambda row: sum(v for k, v in row.items() if k.endswith("_gb") and v is not None)
    print(f"{args.sessions} sessions over {args.minutes:g} min on {args.workers} workers, {os.cpu_count()} cores, "
          f"{'wire students' if args.wire else 'Chromium pages'}; "
          f"load at the end {os.getloadavg()[0]:.1f}")
    print(f"first render: median {statistics.median(renders):.1f} s, p95 {p95(renders):.1f} s ({len(renders)} renders)")
    if moves:
        print(f"slider moves: {len(moves)}, median {statistics.median([x for _, x in moves]):.2f} s, "
              f"p95 {p95([x for _, x in moves]):.2f} s")
    for minute in range(int(span // 60) + 1):
        in_minute = [x for t, x in moves if minute * 60 <= t < (minute + 1) * 60]
        if in_minute:
            print(f"  minute {minute:>2}: {len(in_minute):>3} moves, p95 {p95(in_minute):.2f} s")
    end_gb = sum(v["memory_gb"] for v in end["workers"].values()) if end else float("nan")
    print(f"workers' memory: {mem(first):.2f} GB after the first students, {end_gb:.2f} GB at the end "
          f"({100 * (end_gb / mem(first) - 1):+.0f}%)" if first else "no memory samples")
    print(f"session errors: {len(errors)}" + "".join(f"\n  {e}" for e in errors[:5]))
    if played.killed:
        victims = played.victims
        back = sorted(s.back_s for s in victims if s.back_s is not None)
        live = sorted(s.live_s for s in victims if s.live_s is not None)
        print(f"killed {played.killed} at {played.kill_t:.0f} s with {len(victims)} students on it: "
              f"{len(back)} back on the lesson after {', '.join(f'{x:.1f}' for x in back) or '-'} s, "
              f"{len(live)} live (a slider move ran) after {', '.join(f'{x:.1f}' for x in live) or '-'} s")
        for s in victims:
            print(f"  way back: websocket {s.phases}, lesson ran again at {s.back_s}, move ran at {s.live_s}")
        print("  HAProxy, seconds after the kill: " + "; ".join(
            f"{t:.1f} {' '.join(f'{w} {st}' for w, st in sts.items() if w != 'BACKEND')}" for t, sts in played.haproxy))
        noticed = [s for s in students if s.noticed and not (s.victim or s.interrupted)]
        interrupted = sum(s.interrupted for s in students)
        print(f"  students still loading on it (their page loaded again elsewhere): {interrupted}; "
              f"other students whose websocket closed: {len(noticed)}")
    out_csv = args.csv or (str(Path(args.plot).with_suffix(".csv")) if args.plot else None)
    if out_csv:
        keys = sorted({k for row in samples for k in row}, key=lambda k: (k != "t", k))
        with open(out_csv, "w", newline="") as f:
            writer = csv.DictWriter(f, keys)
            writer.writeheader()
            writer.writerows(samples)
    if args.plot:
        _plot(args.plot, samples, moves, played.kill_t, args)
    return 0


def _plot(path: str, samples: list, moves: list, kill_t, args) -> None:
    try:
        import matplotlib
    except ImportError:
        print("no plot: pip install matplotlib", file=sys.stderr)
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, mid, low) = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    t = [row["t"] / 60 for row in samples]
    workers = sorted({k[:-3] for row in samples for k in row if k.endswith("_gb")})
    for w in workers:
        top.plot(t, [row.get(f"{w}_gb") for row in samples], label=w)
        mid.plot(t, [row.get(f"{w}_students") for row in samples], label=w)
    top.set_ylabel("worker memory (GB)")
    mid.set_ylabel("students connected")
    low.scatter([m / 60 for m, _ in moves], [x for _, x in moves], s=6)
    low.axhline(1.0, linestyle="--", linewidth=1)
    low.set_ylabel("slider move (s)")
    low.set_xlabel("minutes")
    for ax in (top, mid, low):
        if kill_t is not None:
            ax.axvline(kill_t / 60, color="red", linewidth=1)
    top.legend(loc="upper left", ncol=len(workers))
    fig.suptitle(f"digitcore class: {args.sessions} students over {args.minutes:g} min on {args.workers} workers"
                 f"{', wire students' if args.wire else ''} (red: one worker killed)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    sys.exit(main())
