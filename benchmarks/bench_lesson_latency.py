"""How fast the main lesson feels in a browser: first full render of 05_sgd.py, and slider release -> new curve.

    DIGITCORE_DATA=/work/shared/data .venv/bin/python benchmarks/bench_lesson_latency.py [--moves 12]
        [--screenshot docs/img/05_sgd.png]

Serves lessons/05_sgd.py as `./dev.sh lesson` does (`digitcore lesson`: marimo run, warmed up), opens it in Debian's
Chromium (tests/browser/marimo_driver.py does the driving; every page a fresh browser profile, nothing cached) and
measures, on the page's own clock:
- first render: navigation start -> every cell idle and the training lab's curves drawn (kernel start included),
  once under bare `marimo run` for comparison (skip with --skip-bare) and once under `digitcore lesson`;
- per learning-rate drag at the lesson's defaults (never a setting seen before, so never a cache hit):
  release -> the lab cell starts running -> its last output leaves the kernel -> the new curves are drawn;
- a few drags back to settings already trained (cache hits), reported apart.
Then it times the same training calls directly (digitcore.live.fit, no browser) to say what dominated.
Targets (from the issue): first render < 8 s, slider-to-curve median < 1 s.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from marimo_driver import LessonPage, launch_chromium, serve  # noqa: E402 (found through sys.path above)

LESSON = ROOT / "lessons" / "05_sgd.py"
LR = "learning rate"
LAB_BS, LAB_EPOCHS = 256, 5  # the training lab's default batch size and epochs in lessons/05_sgd.py

# the lab's cell: the one whose chart is plots.training_curves (loss per set by epoch)
LAB_CELL_JS = """() => {
  for (const c of document.querySelectorAll('.marimo-cell')) {
    for (const m of __deep('marimo-mime-renderer[data-mime*="vega"]', c)) {
      const d = m.getAttribute('data-data') || '';
      if (d.includes('valid') && d.includes('set') && d.includes('epoch')) return c.getAttribute('data-cell-id');
    }
  }
  return null;
}"""

# The lab cell's chart as pixels: the curve on screen, whichever element holds it.
SNAPSHOT_JS = """(id) => {
  const cell = document.getElementById('cell-' + id);
  const canvas = cell && __deep('.vega-embed canvas', cell)[0];
  window.__before = canvas ? canvas.toDataURL() : '';
}"""

# true (the time) once the run after `runs` ended, nothing is queued or running, the lab cell has no progress bar
# and its chart shows other pixels than before the drag
DRAWN_JS = """([id, runs]) => {
  const st = window.__mo, cell = document.getElementById('cell-' + id);
  if (!cell || st.runs.length <= runs) return false;
  if (Object.values(st.status).some(s => s === 'queued' || s === 'running')) return false;
  if (__deep('marimo-progress', cell).length) return false;
  const canvas = __deep('.vega-embed canvas', cell)[0];
  if (!canvas || !canvas.width) return false;
  return canvas.toDataURL() !== window.__before ? performance.now() : false;
}"""


def wait_drawn(page: LessonPage, cell_id: str, runs: int, timeout_s: float = 180) -> float:
    handle = page.page.wait_for_function(DRAWN_JS, arg=[cell_id, runs], polling="raf", timeout=timeout_s * 1000)
    return handle.json_value()


def move(page: LessonPage, cell_id: str, index: int) -> dict:
    """One drag of the learning-rate slider; the times of its stages in ms after the release."""
    page.page.evaluate(SNAPSHOT_JS, cell_id)
    runs = page.runs()
    released = page.drag_slider(LR, index)
    drawn = wait_drawn(page, cell_id, runs)
    st = page.state()
    started, last_out = st["firstRunning"].get(cell_id, released), st["lastOutput"].get(cell_id, drawn)
    out = {"lr": page.slider_steps(LR)[index], "total": drawn - released, "queue": started - released,
           "kernel": last_out - started, "render": drawn - last_out}
    print(f"  lr {out['lr']:g}: {out['total'] / 1000:.2f} s", file=sys.stderr, flush=True)
    return out


def screenshot_lab(page: LessonPage, path: Path) -> None:
    """A viewport-sized picture of the training lab: the heading, the sliders and the curves."""
    page.page.evaluate("""() => {
      const thumb = __deep('marimo-slider[data-label*="learning rate"]')[0];
      const cell = thumb.closest('.marimo-cell');
      const heading = cell.previousElementSibling || cell;
      heading.scrollIntoView({block: 'start'});
    }""")
    page.page.wait_for_timeout(500)
    page.screenshot(path)


def direct_fit_seconds(lrs: list[float]) -> list[float]:
    """The same training calls without marimo or a browser, at the lab's defaults (batch size 256, 5 epochs)."""
    from digitcore import live
    from digitcore.data import load_sample

    data = load_sample()
    out = []
    for lr in lrs:
        t0 = time.perf_counter()
        live.fit(data, lr, LAB_BS, LAB_EPOCHS)
        out.append(time.perf_counter() - t0)
    return out


def row(name: str, values_ms: list[float]) -> str:
    return (f"| {name:<34} | {len(values_ms):>2} | {statistics.median(values_ms) / 1000:>8.2f} | "
            f"{max(values_ms) / 1000:>8.2f} |")


def first_render(browser, plain: bool, keep: bool = False) -> dict:
    """Serve the lesson (with `digitcore lesson`, or bare `marimo run` when plain), open it in a fresh page and
    time navigation -> every cell idle with the lab's curves drawn. keep=True leaves server and page open."""
    t0 = time.perf_counter()
    server_cm = serve(LESSON, plain=plain)
    server = server_cm.__enter__()
    try:
        started = time.perf_counter() - t0
        page = LessonPage(browser, server.url)
        t_nav = time.perf_counter()
        page.page.goto(server.url, wait_until="commit")
        page.page.wait_for_function(LAB_CELL_JS, polling=100, timeout=300_000)
        cell_id = page.page.evaluate(LAB_CELL_JS)
        page.page.evaluate("() => { window.__before = ''; }")
        drawn = wait_drawn(page, cell_id, 0, timeout_s=300)  # ms since navigation start
        page.wait_idle()
        assert not page.errors(), page.describe_errors()
        st = page.state()
        slow_cells = sorted(((st["idleAt"][c] - t, page.cell_text(c)[:70] or f"(cell {c}, no output)")
                             for c, t in st["firstRunning"].items() if c in st["idleAt"]), reverse=True)[:6]
        out = {"first_render": drawn, "started": started, "total": t_nav - t0 + drawn / 1000,
               "kernel_first": min(st["firstRunning"].values()), "slow_cells": slow_cells}
        print(f"first render ({'bare marimo run' if plain else 'digitcore lesson'}): {drawn / 1000:.2f} s",
              file=sys.stderr, flush=True)
    except BaseException:
        server_cm.__exit__(None, None, None)
        raise
    if keep:
        return {**out, "page": page, "cell_id": cell_id, "server": server_cm}
    page.page.close()
    server_cm.__exit__(None, None, None)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--moves", type=int, default=12, help="uncached learning-rate drags (at least 10)")
    ap.add_argument("--cached", type=int, default=3, help="drags back to settings already trained")
    ap.add_argument("--renders", type=int, default=3, help="first renders to time, each way (median and worst)")
    ap.add_argument("--skip-bare", action="store_true", help="skip the first render under bare `marimo run`")
    ap.add_argument("--screenshot", type=Path, help="write a picture of the training lab here (for the README)")
    args = ap.parse_args()
    if not os.environ.get("DIGITCORE_DATA"):
        sys.exit("set DIGITCORE_DATA to the shared data folder (the benchmark uses the full MNIST_SAMPLE)")
    from playwright.sync_api import sync_playwright

    load = os.getloadavg()
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        bare = [] if args.skip_bare else [first_render(browser, plain=True) for _ in range(args.renders)]
        warm = [first_render(browser, plain=False) for _ in range(args.renders - 1)]
        first = first_render(browser, plain=False, keep=True)
        warm.append(first)
        page, cell_id = first["page"], first["cell_id"]
        if args.screenshot:
            screenshot_lab(page, args.screenshot)

        steps, home = page.slider_steps(LR), page.slider_index(LR)
        fresh = [i for k in range(1, len(steps)) for i in (home + k, home - k) if 0 <= i < len(steps)]
        fresh = fresh[: args.moves]
        moves = [move(page, cell_id, i) for i in fresh]
        cached = [move(page, cell_id, i) for i in ([home] + fresh)[: args.cached]]
        assert not page.errors(), page.describe_errors()
        first["server"].__exit__(None, None, None)
        browser.close()

    direct = direct_fit_seconds([m["lr"] for m in moves])
    print(f"\n05_sgd.py in Chromium, DIGITCORE_DATA={os.environ['DIGITCORE_DATA']}, {os.cpu_count()} cores, "
          f"load average before {load[0]:.1f} / after {os.getloadavg()[0]:.1f}")
    print(f"first full render (navigation -> all cells idle, lab curves drawn; fresh browser profile each time), "
          f"{len(warm)} times each (target < 8 s):")
    print("| served by                  | median s |  worst s | server start s | spawn -> drawn s |")
    print("|----------------------------|----------|----------|----------------|------------------|")
    for name, runs in (("digitcore lesson (warm-up)", warm), ("bare marimo run", bare)):
        if runs:
            print(f"| {name:<26} | {statistics.median(r['first_render'] for r in runs) / 1000:>8.2f} | "
                  f"{max(r['first_render'] for r in runs) / 1000:>8.2f} | "
                  f"{statistics.median(r['started'] for r in runs):>14.2f} | "
                  f"{statistics.median(r['total'] for r in runs):>16.2f} |")
    print(f"last digitcore render: navigation -> first cell running (page load, kernel start): "
          f"{first['kernel_first'] / 1000:.2f} s")
    print("  slowest cells of the first run (running -> idle):")
    for ms, text in first["slow_cells"]:
        print(f"    {ms / 1000:6.2f} s  {text}")
    print()
    print("| stage                              |  n | median s |  worst s |")
    print("|------------------------------------|----|----------|----------|")
    print(row("release -> new curve drawn", [m["total"] for m in moves]))
    print(row("  release -> lab cell running", [m["queue"] for m in moves]))
    print(row("  running -> last output (kernel)", [m["kernel"] for m in moves]))
    print(row("  last output -> drawn (browser)", [m["render"] for m in moves]))
    print(row("direct live.fit, no browser", [s * 1000 for s in direct]))
    if cached:
        print(row("cached setting: release -> drawn", [m["total"] for m in cached]))
    print("\nper move (s): " + ", ".join(f"lr {m['lr']:g}: {m['total'] / 1000:.2f}" for m in moves))
    stages = {"kernel (training + charts)": statistics.median(m["kernel"] for m in moves),
              "browser render": statistics.median(m["render"] for m in moves),
              "queue + transport": statistics.median(m["queue"] for m in moves)}
    print(f"dominated by: {max(stages, key=stages.get)} "
          f"({', '.join(f'{k} {v / 1000:.2f} s' for k, v in stages.items())}; median direct training "
          f"{statistics.median(direct):.2f} s). Target: median < 1 s.")


if __name__ == "__main__":
    main()
