"""Does a class worker give back the memory of students who left? One worker of `digitcore class`, waves of
students: each wave opens the lesson in K tabs at once, waits until every kernel has run, moves the learning rate
once in each tab, closes them all and waits until their sessions are freed; then the worker's resident memory.

    python benchmarks/bench_worker_memory.py                      # 8 waves of 3, as `digitcore class` sets it
    python benchmarks/bench_worker_memory.py --arenas 16          # the same with glibc's many malloc arenas

`--arenas N` sets MALLOC_ARENA_MAX for the class (an instructor's own setting wins over the 2 that
`digitcore class` gives its workers), so the two runs side by side show what that setting does.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_class import rss_mb  # noqa: E402
from marimo_driver import LessonPage, launch_chromium, serve_class  # noqa: E402

SESSION_TTL = 5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lesson", default=str(ROOT / "lessons" / "05_sgd.py"))
    ap.add_argument("--waves", type=int, default=8)
    ap.add_argument("--students", type=int, default=3, help="tabs per wave")
    ap.add_argument("--arenas", type=int, default=None, help="MALLOC_ARENA_MAX for the class (default: its own)")
    args = ap.parse_args()
    if args.arenas is not None:
        os.environ["MALLOC_ARENA_MAX"] = str(args.arenas)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        with serve_class(Path(args.lesson), 1, students=args.students,
                         extra=("--session-ttl", str(SESSION_TTL), "--status-every", "0")) as run:
            pid = run.info()["pids"]["w1"]
            print(f"MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX', '2 (digitcore class)')}; "
                  f"worker before any student: {rss_mb(pid):.0f} MB")
            after = []
            for wave in range(1, args.waves + 1):
                pages = [LessonPage(browser, run.url) for _ in range(args.students)]
                for page in pages:
                    page.page.goto(run.url, wait_until="domcontentloaded")
                for page in pages:
                    page.wait_idle(timeout=300)
                with_them = rss_mb(pid)
                for i, page in enumerate(pages):
                    page.drag_slider("learning rate", 2 + (wave + i) % 5)
                time.sleep(3)
                for page in pages:
                    page.close()
                time.sleep(SESSION_TTL + 7)  # marimo frees a closed tab's session after the TTL
                after.append(rss_mb(pid))
                print(f"wave {wave}: {with_them:.0f} MB with {args.students} students, {after[-1]:.0f} MB after "
                      f"they left", flush=True)
        browser.close()
    print(f"after the last wave: {after[-1]:.0f} MB, {100 * (after[-1] / after[0] - 1):+.0f}% against the first")
    return 0


if __name__ == "__main__":
    sys.exit(main())
