"""What one arriving student costs a lesson server, in CPU-seconds: the figure that sizes a class arriving at once.

Starts `digitcore class` with one worker, lets one student open the lesson first (the worker's one-time work: its
caches, HAProxy's copy of marimo's scripts), then opens the lesson N more times, one after another, each a new
student (a fresh browser context), waits until its kernel has run every cell, and closes it. It prints the worker's
CPU-seconds (user + system, from /proc) per arrival. CPU-seconds, unlike first-render times, hardly change when
other programs share the cores, so runs on a busy machine still compare; put this beside benchmarks/bench_class.py,
which has a whole class arrive at the same moment.

    python benchmarks/bench_arrival.py                 # lesson 05, 5 arrivals
    python benchmarks/bench_arrival.py --lesson lessons/07_nonlinearity.py --arrivals 3

To see where the time goes, run py-spy on the worker meanwhile (`py-spy record -p PID -f raw`); its pid is in the
class's run folder (class.json).
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_class import cpu_seconds  # noqa: E402
from marimo_driver import LessonPage, launch_chromium, serve_class  # noqa: E402


def arrive(browser, url: str) -> None:
    page = LessonPage(browser, url)
    page.page.goto(url, wait_until="commit")
    page.wait_idle(timeout=600)
    page.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lesson", default=str(ROOT / "lessons" / "05_sgd.py"))
    ap.add_argument("--arrivals", type=int, default=5)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        with serve_class(Path(args.lesson), 1, students=1, extra=("--status-every", "0")) as run:
            worker = run.info()["pids"]["w1"]
            before = cpu_seconds([worker])
            arrive(browser, run.url)
            first = cpu_seconds([worker]) - before
            per = []
            for _ in range(args.arrivals):
                start = cpu_seconds([worker])
                arrive(browser, run.url)
                per.append(cpu_seconds([worker]) - start)
        browser.close()
    per.sort()
    print(f"{Path(args.lesson).name}: the first student {first:.2f} CPU-s (with the worker's one-time work); each later "
          f"one median {per[len(per) // 2]:.2f} CPU-s (min {per[0]:.2f}, max {per[-1]:.2f}, {args.arrivals} arrivals; "
          f"load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
