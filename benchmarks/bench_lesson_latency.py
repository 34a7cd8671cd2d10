"""How fast the main lesson feels in a browser: first full render of 05_sgd.py, and slider release -> new curve.

    .venv/bin/python benchmarks/bench_lesson_latency.py [--moves 12] [--renders 3] [--screenshot docs/img/05_sgd.png]

Serves lessons/05_sgd.py as `./dev.sh lesson` does (`digitcore lesson`: marimo run, warmed up), opens it in Debian's
Chromium (tests/browser/marimo_driver.py does the driving; every page a fresh browser profile, nothing cached) and
measures, on the page's own clock:
- first screen (issue 10): navigation start -> the lesson's title and first prose on screen ("title": the lesson's
  title page while marimo loads, digitcore/snapshots.py; "drawn by marimo": when marimo's own drawing of it took
  over), -> the training lab's curves on screen ("lab shown": the saved first screen, lessons/__marimo__/session, or the kernel's
  own, whichever comes first), and -> the lab live (the kernel has run every cell, so the sliders answer), under
  plain `marimo run` (what students type; skip with --skip-bare) and under `digitcore lesson`; beside them, the same
  page load of a one-cell marimo notebook holding only the title ("marimo's floor": what marimo's own page costs
  before any lesson code). Targets on a quiet machine: title < 2 s, lab < 4 s;
- per learning-rate drag at the lab's defaults: release -> the lab cell starts running -> its last output leaves
  the kernel -> the new curves are drawn. Since the lab trains every slider learning rate in one batched run
  (digitcore/sweep.py), a learning-rate drag trains nothing: it draws the chosen run's curves, the lr chart, the
  update-by-update curve and the weights (target: median < 0.5 s with these views on);
- a few batch-size drags, which do retrain (all 17 learning rates at once), reported apart;
Then it times the sweep directly (no browser) at the lab's defaults, beside one run of training.fit.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from marimo_driver import LessonPage, launch_chromium, serve  # noqa: E402 (found through sys.path above)

LESSON = ROOT / "lessons" / "05_sgd.py"
LESSON_PATH = [LESSON]  # --lesson: time a variant of the lesson (a copy elsewhere) instead
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

# the time (ms since navigation) once the lesson's title and its first prose are on screen
TITLE_JS = """() => { const t = __text(); return t.includes('05 · Stochastic gradient descent')
                                             && t.includes('Lesson 02 told 3s from 7s') ? performance.now() : false; }"""

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


# the time once the lab cell's chart has pixels on screen, saved or live
SHOWN_JS = """() => {
  const id = (""" + LAB_CELL_JS + """)(), cell = id && document.getElementById('cell-' + id);
  const canvas = cell && __deep('.vega-embed canvas', cell)[0];
  return canvas && canvas.width ? performance.now() : false;
}"""

FLOOR_NOTEBOOK = '''import marimo

app = marimo.App(width="medium")


@app.cell(hide_code=True)
def _():
    import marimo as mo
    mo.md("# 05 · Stochastic gradient descent\\n\\nLesson 02 told 3s from 7s, and nothing else: marimo's floor.")
    return


if __name__ == "__main__":
    app.run()
'''


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


def bs_moves(page: LessonPage, n: int) -> list[int]:
    """Batch-size slider positions to visit: neighbours of the default and back (each retrains the sweep)."""
    home = page.slider_index("batch size")
    return [i for i in (home + 1, home + 2, home) if 0 <= i < len(page.slider_steps("batch size"))][:n]


def move_bs(page: LessonPage, cell_id: str, index: int) -> dict:
    """One drag of the batch-size slider: the whole sweep retrains, then the view is drawn."""
    page.page.evaluate(SNAPSHOT_JS, cell_id)
    runs = page.runs()
    released = page.drag_slider("batch size", index)
    drawn = wait_drawn(page, cell_id, runs)
    out = {"lr": page.slider_steps("batch size")[index], "total": drawn - released}
    print(f"  batch size {out['lr']}: {out['total'] / 1000:.2f} s", file=sys.stderr, flush=True)
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


def sweep_vs_one_run(repeat: int = 3) -> tuple[float, float]:
    """Median seconds of the lab's sweep (17 lrs) and of one training.fit run, at the lab's defaults, taking turns."""
    from digitcore import sweep, training
    from digitcore.data import load_sample

    data = load_sample()
    tensors = (*data.train_xy(), *data.valid_xy())
    ones, alls = [], []
    for i in range(repeat):
        t0 = time.perf_counter()
        training.fit(data, 1.0, LAB_BS, LAB_EPOCHS, seed=100 + i, budget_s=None)  # a new seed: never a cache hit
        ones.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        sweep.sweep(tensors, sweep.LAB_LRS, LAB_BS, LAB_EPOCHS, seed=100 + i)
        alls.append(time.perf_counter() - t0)
    return statistics.median(alls), statistics.median(ones)


def row(name: str, values_ms: list[float]) -> str:
    return (f"| {name:<34} | {len(values_ms):>2} | {statistics.median(values_ms) / 1000:>8.2f} | "
            f"{max(values_ms) / 1000:>8.2f} |")


def floor_title(browser, notebook: Path) -> dict:
    """marimo's floor: serve a one-cell notebook with bare `marimo run`, time navigation -> its title on screen."""
    with serve(notebook, plain=True) as server:
        page = LessonPage(browser, server.url)
        page.page.goto(server.url, wait_until="commit")
        title = page.page.wait_for_function(TITLE_JS, polling="raf", timeout=300_000).json_value()
        page.page.close()
    print(f"first render (marimo's floor, one cell): title {title / 1000:.2f} s", file=sys.stderr, flush=True)
    return {"title": title}


def first_render(browser, plain: bool, keep: bool = False) -> dict:
    """Serve the lesson (with `digitcore lesson`, or bare `marimo run` when plain), open it in a fresh page and
    time navigation -> title, lab shown, every cell idle with the lab's curves drawn. keep=True leaves server and
    page open."""
    t0 = time.perf_counter()
    server_cm = serve(LESSON_PATH[0], plain=plain)
    server = server_cm.__enter__()
    try:
        started = time.perf_counter() - t0
        page = LessonPage(browser, server.url)
        t_nav = time.perf_counter()
        page.page.goto(server.url, wait_until="commit")
        title = page.page.wait_for_function(TITLE_JS, polling="raf", timeout=300_000).json_value()
        shown = page.page.wait_for_function(SHOWN_JS, polling="raf", timeout=300_000).json_value()
        cell_id = page.page.evaluate(LAB_CELL_JS)
        page.page.evaluate("() => { window.__before = ''; }")
        drawn = wait_drawn(page, cell_id, 0, timeout_s=300)  # ms since navigation start
        page.wait_idle()
        assert not page.errors(), page.describe_errors()
        st = page.state()
        slow_cells = sorted(((st["idleAt"][c] - t, page.cell_text(c)[:70] or f"(cell {c}, no output)")
                             for c, t in st["firstRunning"].items() if c in st["idleAt"]), reverse=True)[:6]
        gone = st["firstScreen"]["gone"]  # the title page made way for marimo's own drawing of the title
        out = {"first_render": drawn, "title": title, "shown": shown, "marimo_title": gone or title,
               "started": started, "total": t_nav - t0 + drawn / 1000,
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
    ap.add_argument("--cached", type=int, default=3, help="batch-size drags (each retrains all 17 lrs)")
    ap.add_argument("--renders", type=int, default=3, help="first renders to time, each way (median and worst)")
    ap.add_argument("--skip-bare", action="store_true", help="skip the first render under bare `marimo run`")
    ap.add_argument("--lesson", type=Path, default=LESSON, help="the lesson file to serve (default lessons/05_sgd.py)")
    ap.add_argument("--first-screen-only", action="store_true", help="time the first screen only, no slider drags")
    ap.add_argument("--screenshot", type=Path, help="write a picture of the training lab here (for the README)")
    args = ap.parse_args()
    LESSON_PATH[0] = args.lesson.resolve()
    from playwright.sync_api import sync_playwright

    load = os.getloadavg()
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        bare, floor = [], []
        with tempfile.TemporaryDirectory() as tmp:
            floor_nb = Path(tmp) / "floor.py"
            floor_nb.write_text(FLOOR_NOTEBOOK, encoding="utf-8")
            for _ in range(args.renders):  # taking turns, so that both see the same machine
                if not args.skip_bare:
                    bare.append(first_render(browser, plain=True))
                floor.append(floor_title(browser, floor_nb))
        if args.first_screen_only:
            browser.close()
            print(f"\n{LESSON_PATH[0].name} under plain marimo run, {len(bare)} first screens (fresh browser profile "
                  f"each), load average before {load[0]:.1f} / after {os.getloadavg()[0]:.1f}:")
            for key, name, runs in (("title", "title and first prose", bare),
                                    ("marimo_title", "  drawn by marimo", bare), ("shown", "lab shown", bare),
                                    ("first_render", "lab live", bare), ("title", "marimo's floor (title)", floor)):
                vals = [r[key] / 1000 for r in runs]
                print(f"  {name:<24} median {statistics.median(vals):.2f} s, worst {max(vals):.2f} s "
                      f"({', '.join(f'{v:.2f}' for v in vals)})")
            return
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
        cached = [move_bs(page, cell_id, i) for i in bs_moves(page, args.cached)]
        assert not page.errors(), page.describe_errors()
        first["server"].__exit__(None, None, None)
        browser.close()

    together, one = sweep_vs_one_run()
    print(f"\n05_sgd.py in Chromium, DIGITCORE_DATA={os.environ.get('DIGITCORE_DATA', '(unset: the default data)')}, "
          f"{os.cpu_count()} cores, load average before {load[0]:.1f} / after {os.getloadavg()[0]:.1f}")
    print(f"first screen (fresh browser profile each time), {len(warm)} times each; targets on a quiet machine: "
          "title < 2 s, lab < 4 s (plain marimo run)")
    print("| served by                  | title median s (worst) | drawn by marimo (worst) | lab shown median s (worst) "
          "| lab live median s (worst) |")
    print("|----------------------------|------------------------|-------------------------|----------------------------"
          "|---------------------------|")

    def cell(runs, key):
        vals = [r[key] / 1000 for r in runs if key in r]
        return f"{statistics.median(vals):.2f} ({max(vals):.2f})" if vals else "-"

    for name, runs in (("plain marimo run", bare), ("digitcore lesson (warm-up)", warm),
                       ("marimo's floor: one cell", floor)):
        if runs:
            print(f"| {name:<26} | {cell(runs, 'title'):>22} | {cell(runs, 'marimo_title'):>23} | {cell(runs, 'shown'):>26} | "
                  f"{cell(runs, 'first_render'):>25} |")
    print(f"last digitcore render: navigation -> first cell running (page load, kernel start): "
          f"{first['kernel_first'] / 1000:.2f} s")
    print("  slowest cells of the first run (running -> idle):")
    for ms, text in first["slow_cells"]:
        print(f"    {ms / 1000:6.2f} s  {text}")
    print()
    print("| stage                                   |  n | median s |  worst s |")
    print("|-----------------------------------------|----|----------|----------|")
    print(row("lr drag: release -> new curve drawn", [m["total"] for m in moves]))
    print(row("  release -> lab cell running", [m["queue"] for m in moves]))
    print(row("  running -> last output (kernel)", [m["kernel"] for m in moves]))
    print(row("  last output -> drawn (browser)", [m["render"] for m in moves]))
    if cached:
        print(row("batch-size drag (retrains 17 lrs)", [m["total"] for m in cached]))
    print(f"\nsweep of the 17 slider lrs, no browser: {together:.2f} s; one training.fit run: {one:.2f} s "
          f"({together / one:.1f}x; median of 3, taking turns)")
    print("per lr drag (s): " + ", ".join(f"lr {m['lr']:g}: {m['total'] / 1000:.2f}" for m in moves))
    stages = {"kernel (charts)": statistics.median(m["kernel"] for m in moves),
              "browser render": statistics.median(m["render"] for m in moves),
              "queue + transport": statistics.median(m["queue"] for m in moves)}
    print(f"dominated by: {max(stages, key=stages.get)} "
          f"({', '.join(f'{k} {v / 1000:.2f} s' for k, v in stages.items())}). Target: median < 0.5 s.")


if __name__ == "__main__":
    main()
