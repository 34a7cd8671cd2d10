"""A whole class, compressed: does `digitcore class` hold for 90 minutes of students arriving, moving sliders,
reloading and leaving, and when a worker is killed in the middle of it?

Starts `digitcore class` on loopback and plays SESSIONS students over MINUTES: each arrives at a random moment,
waits for the lesson, moves the learning rate a few times with a pause to read between moves, sometimes reloads, and
leaves (closes the tab). Chromium drives all of them from one thread, each student a small state machine, so many
are on the lesson at once. Halfway through (--kill-at), one worker is killed with SIGKILL, as the kernel's OOM killer
would. It prints, and writes as CSV and a picture (--plot, needs matplotlib):

- every 5 s: students connected and resident memory of each worker (from the class's own status.json);
- every slider move: release to new curves, on the page's own clock;
- every session: errors (cells that raised, runs that failed);
- the killed worker's students: seconds from the kill until their page ran the lesson again on another worker, with
  nobody pressing reload.

    python benchmarks/bench_soak.py                                   # 400 sessions over 20 minutes on 4 workers
    python benchmarks/bench_soak.py --sessions 60 --minutes 4 --workers 2 --plot docs/img/soak.png

What it reports against: memory at the end (after the last student left and the closed sessions were freed) within
10% of its level after the first wave of students; no session errors; slider p95 under 1 s in every minute.
"""

import argparse
import csv
import os
import random
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from marimo_driver import IDLE_JS, LessonPage, launch_chromium, serve_class  # noqa: E402

LR = "learning rate"
SESSION_TTL = 10


@dataclass
class Session:
    """One student's visit, stepped by `advance` until it is done."""

    arrive: float
    moves_left: int
    reload_once: bool
    page: LessonPage | None = None
    state: str = "waiting"   # waiting, rendering, reading, moving, done
    wake: float = 0.0
    runs_before: int = 0
    worker: str | None = None
    latencies: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    render_s: float | None = None


def p95(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(0.95 * len(xs)) - 1))] if xs else None


def advance(s: Session, browser, url: str, now: float, rng: random.Random) -> None:
    """One step of a student's visit; never blocks for long (the page is polled, not waited on)."""
    if s.state == "waiting" and now >= s.arrive:
        s.page = LessonPage(browser, url)
        s.page.page.goto(url, wait_until="commit")
        s.state, s.wake = "rendering", now
    elif s.state in ("rendering", "moving") and s.page.page.evaluate(IDLE_JS, 400):
        if s.state == "moving" and s.page.runs() > s.runs_before:
            st = s.page.state()
            s.latencies.append((time.monotonic(), (st["runs"][-1]["t"] - st["releases"][-1]) / 1000))
        elif s.state == "rendering" and s.render_s is None:
            s.render_s = now - s.wake
        elif s.state == "moving":
            return   # idle, but the move's run has not come yet
        cookies = {c["name"]: c["value"] for c in s.page.page.context.cookies()}
        s.worker = cookies.get("digitcore_worker", s.worker)
        s.state, s.wake = "reading", now + rng.uniform(3, 12)
    elif s.state == "reading" and now >= s.wake:
        if s.page.errors() or s.page.failed_runs():
            s.errors.append(s.page.describe_errors()[:300])
        if s.moves_left > 0:
            steps, at = len(s.page.slider_steps(LR)), s.page.slider_index(LR)
            target = rng.choice([i for i in range(0, steps - 4) if i != at])
            s.runs_before = s.page.runs()
            s.page.drag_slider(LR, target)
            s.moves_left -= 1
            s.state = "moving"
        elif s.reload_once:
            s.reload_once, s.moves_left = False, 1
            s.page.page.reload(wait_until="commit")
            s.state, s.wake = "rendering", now
        else:
            s.page.close()
            s.state = "done"


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
    args = ap.parse_args()
    rng = random.Random(args.seed)
    span = args.minutes * 60
    sessions = sorted((Session(arrive=rng.uniform(0, span * 0.9), moves_left=rng.randint(1, 4),
                               reload_once=rng.random() < 0.3) for _ in range(args.sessions)), key=lambda s: s.arrive)
    from playwright.sync_api import sync_playwright

    samples, killed, kill_t, back = [], None, None, {}
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        with serve_class(Path(args.lesson), args.workers, students=args.sessions,
                         extra=("--session-ttl", str(SESSION_TTL), "--status-every", "5")) as run:
            t0 = time.monotonic()
            next_sample = 0.0
            while True:
                now = time.monotonic() - t0
                for s in sessions:
                    if s.state != "done":
                        try:
                            advance(s, browser, run.url, now, rng)
                        except Exception as e:  # noqa: BLE001 - a page that broke is a session error, not the end
                            s.errors.append(f"{type(e).__name__}: {str(e)[:200]}")
                            s.state = "done"
                if killed is None and now >= span * args.kill_at:
                    on = {s.worker for s in sessions if s.state in ("reading", "moving") and s.worker}
                    killed = sorted(on)[0] if on else "w1"
                    victims = [s for s in sessions if s.worker == killed and s.state in ("reading", "moving")]
                    os.killpg(run.info()["pids"][killed], signal.SIGKILL)
                    kill_t = now
                    watch = {id(s): (s, s.page.runs()) for s in victims}
                for key, (s, runs) in list(watch.items()) if killed else []:
                    if s.state == "done" or s.page.page.is_closed():
                        watch.pop(key)
                    elif s.page.runs() > runs and s.page.page.evaluate(IDLE_JS, 400):
                        back[key] = now - kill_t
                        watch.pop(key)
                if now >= next_sample:
                    status = _status(run.run_dir)
                    if status:
                        samples.append({"t": round(now, 1), **{f"{w}_gb": v["memory_gb"] for w, v in status["workers"].items()},
                                        **{f"{w}_students": v["students"] for w, v in status["workers"].items()}})
                    next_sample = now + 5
                if all(s.state == "done" for s in sessions) and now > span:
                    break
                time.sleep(0.05)
            time.sleep(SESSION_TTL + 10)   # closed tabs' sessions are freed
            end = _status(run.run_dir)
        browser.close()

    moves = [(t - t0, lat) for s in sessions for t, lat in s.latencies]
    errors = [e for s in sessions for e in s.errors]
    renders = [s.render_s for s in sessions if s.render_s is not None]
    first = next((x for x in samples if x["t"] >= span * 0.15), samples[0] if samples else {})
    mem = lambda row: sum(v for k, v in row.items() if k.endswith("_gb") and v is not None)
    print(f"{args.sessions} sessions over {args.minutes:g} min on {args.workers} workers, {os.cpu_count()} cores; "
          f"load at the end {os.getloadavg()[0]:.1f}")
    print(f"first render: median {statistics.median(renders):.1f} s, p95 {p95(renders):.1f} s ({len(renders)} renders)")
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
    if killed:
        print(f"killed {killed} at {kill_t:.0f} s: {len(back)} of its students back on a live lesson, after "
              + (", ".join(f"{x:.1f}" for x in sorted(back.values())) + " s" if back else "none"))
    out_csv = args.csv or (str(Path(args.plot).with_suffix(".csv")) if args.plot else None)
    if out_csv:
        keys = sorted({k for row in samples for k in row}, key=lambda k: (k != "t", k))
        with open(out_csv, "w", newline="") as f:
            writer = csv.DictWriter(f, keys)
            writer.writeheader()
            writer.writerows(samples)
    if args.plot:
        _plot(args.plot, samples, moves, kill_t, args)
    return 0


def _status(run_dir: Path) -> dict | None:
    import json
    try:
        return json.loads((run_dir / "status.json").read_text())
    except (OSError, ValueError):
        return None


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
    fig.suptitle(f"digitcore class: {args.sessions} students over {args.minutes:g} min on {args.workers} workers "
                 "(red: one worker killed)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    sys.exit(main())
