"""Drive a marimo notebook in Debian's Chromium: serve it, open it, wait for the kernel, move sliders, read results.

Used by the browser tests (tests/browser) and by benchmarks/bench_lesson_latency.py. Three pieces:
- `serve(notebook)`: `marimo run` (or `marimo edit`) on a free loopback port; killed with its whole process group.
- `launch_chromium(playwright)`: /usr/bin/chromium, headless; never a downloaded browser.
- `LessonPage`: a page with a small recorder injected before marimo loads: it listens to marimo's websocket
  (cell status, outputs, errors, end of each run) and to pointer releases, with the page's own clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py"))
SCREENSHOTS = ROOT / "screenshots"  # gitignored: the tests' pictures of each lesson
CHROMIUM = Path(os.environ.get("DIGITCORE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
SPAWNED: list[int] = []  # process groups of every server started here (each server leads its own group)
NOT_ERRORS = {"ancestor-stopped"}  # what mo.stop leaves in the cells below it: intended, not a failure


# ------------------------------------------------------------------------------------------------------------
# the server


@dataclass
class Server:
    notebook: Path
    url: str
    proc: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's whole process group (the kernel too), SIGKILL to whatever lingers."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()  # reap the leader
            if proc.returncode is not None and not group_alive(proc.pid):
                return
            time.sleep(0.1)


def group_alive(pgid: int) -> bool:
    """True while any process of the process group still exists (zombies count as gone)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


@contextlib.contextmanager
def serve(notebook: Path, *, mode: str = "run", env: dict | None = None, cwd: Path = ROOT,
          timeout: float = 120.0, plain: bool = False, port: int | None = None):
    """Serve `notebook` on a free 127.0.0.1 port (or on `port`, to serve it again at the same address) the way
    students do, with `digitcore lesson` (`marimo run` or, with mode="edit", `marimo edit`, in the same process);
    plain=True runs bare `marimo run` instead. Yields a Server once /health answers; always stops the process group
    afterwards, even when the body raised."""
    port = port or free_port()
    fd, log_name = tempfile.mkstemp(prefix=f"marimo-{Path(notebook).stem}-", suffix=".log")
    flags = ["--headless", "--host", "127.0.0.1", "--port", str(port), "--no-token", "--no-sandbox",
             "--no-skew-protection"]
    if mode == "run":
        flags.append("--show-tracebacks")  # otherwise a cell that raised is silently hidden in app view
    if plain:
        cmd = [sys.executable, "-m", "marimo", mode, *flags, str(notebook)]
    else:
        cmd = [sys.executable, "-m", "digitcore", "lesson", str(notebook), *(["--edit"] if mode == "edit" else []),
               *flags]
    with os.fdopen(fd, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    SPAWNED.append(proc.pid)
    server = Server(Path(notebook), f"http://127.0.0.1:{port}", proc, Path(log_name))
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(server.url):
            if proc.poll() is not None:
                raise RuntimeError(f"marimo {mode} exited with {proc.returncode}:\n{server.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"marimo {mode} not healthy after {timeout:.0f} s:\n{server.log()[-3000:]}")
            time.sleep(0.2)
        yield server
    finally:
        stop(proc)
        Path(log_name).unlink(missing_ok=True)
        assert not group_alive(proc.pid), f"marimo server group {proc.pid} survived SIGKILL"


@dataclass
class ClassRun:
    """A running `digitcore class`: its URL, its run folder (HAProxy's config, stats socket, workers' logs)."""

    url: str
    proc: subprocess.Popen
    run_dir: Path

    def info(self) -> dict:
        return json.loads((self.run_dir / "class.json").read_text())

    def stats(self) -> dict[str, dict]:
        """HAProxy's counters per worker (w1, w2, ...): scur = open connections now, stot = all so far."""
        from digitcore.class_server import haproxy_stats

        return {r["svname"]: r for r in haproxy_stats(self.run_dir / "haproxy.sock") if r["pxname"] == "workers"
                and r["svname"] not in ("BACKEND", "FRONTEND")}

    def status(self) -> dict | None:
        """The instructor's room now (status.json, written every --status-every seconds), or None before the first."""
        try:
            return json.loads((self.run_dir / "status.json").read_text())
        except (OSError, ValueError):
            return None

    def log(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.run_dir.glob("*.log")))


@contextlib.contextmanager
def serve_class(notebook: Path, workers: int, *, students: int = 8, extra: tuple = (), timeout: float = 300.0,
                host: str = "127.0.0.1"):
    """`digitcore class` on a free port of `host` (a loopback address) with `workers` marimo workers; yields a
    ClassRun once it prints its address; always stops it (SIGTERM, as Ctrl-C would) and checks that HAProxy and
    every worker are gone."""
    port = free_port()
    run_dir = Path(tempfile.mkdtemp(prefix="digitcore-class-test-"))
    cmd = [sys.executable, "-m", "digitcore", "class", str(notebook), "--students", str(students), "--workers",
           str(workers), "--host", host, "--port", str(port), "--run-dir", str(run_dir), "--show-tracebacks",
           *extra]
    out = run_dir / "class.out"
    with open(out, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    SPAWNED.append(proc.pid)
    run = ClassRun(f"http://{host}:{port}/", proc, run_dir)
    pids: list[int] = []
    try:
        deadline = time.monotonic() + timeout
        while "is on http" not in out.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"digitcore class did not start:\n{out.read_text(errors='replace')}\n{run.log()}")
            time.sleep(0.3)
        pids = list(run.info()["pids"].values())
        SPAWNED.extend(pids)  # each worker and HAProxy leads its own process group
        yield run
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)  # what Ctrl-C does: the command stops HAProxy, then the workers
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            stop(proc)
        left = [pid for pid in pids if group_alive(pid)]  # the command must have stopped them itself
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        assert not left, f"digitcore class left processes running after SIGTERM: {left}"


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


# ------------------------------------------------------------------------------------------------------------
# the page

# Runs before marimo's own scripts: records what the kernel says over the websocket, with the page's clock.
RECORDER_JS = r"""
(() => {
  const st = window.__mo = {status: {}, errors: {}, outputs: {}, runs: [], releases: [], lastMsg: 0,
                            firstRunning: {}, lastOutput: {}, idleAt: {}, progress: 0, ws: []};
  // the kernel websocket's life, on the wall clock (Date.now(), comparable with the server's): each try to
  // connect, open, close, and the session's kernel-ready; a page whose worker died shows close, then a new try
  const wsEvent = (ev, extra) => st.ws.push({ev, wall: Date.now(), t: performance.now(), ...(extra || {})});
  const handle = (m) => {
    const d = m.data || m, op = m.op || d.op, t = performance.now();
    st.lastMsg = t;
    if (op === 'cell-op') {
      const id = d.cell_id;
      if (d.status) {
        st.status[id] = d.status;
        if (d.status === 'running') st.firstRunning[id] = t;
        if (d.status === 'idle') st.idleAt[id] = t;
      }
      const out = d.output;
      if (out) {
        st.lastOutput[id] = t;
        st.outputs[id] = (st.outputs[id] || 0) + 1;
        if (out.channel === 'marimo-error') {
          const items = Array.isArray(out.data) ? out.data : [out.data];
          st.errors[id] = items.map(e => ({type: e && e.type, msg: String((e && (e.msg || e.exception_string ||
                                           e.exception_type)) || JSON.stringify(e)).slice(0, 300)}));
        } else {
          delete st.errors[id];
        }
        if (typeof out.data === 'string' && out.data.includes('marimo-progress')) {
          st.progress += 1;
          st.progressCell = id;
        }
      }
    } else if (op === 'kernel-ready') {
      wsEvent('kernel-ready');
    } else if (op === 'completed-run') {
      st.runs.push({t, wall: Date.now(), outcome: d.outcome, error: d.error});
    }
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      const kernel = String(args[0]).includes('/ws?');   // not marimo's other sockets (ws_sync, lsp)
      if (kernel) {
        wsEvent('connect');
        this.addEventListener('open', () => wsEvent('open'));
        this.addEventListener('close', (e) => wsEvent('close', {code: e.code}));
      }
      this.addEventListener('message', (ev) => {
        if (typeof ev.data !== 'string') return;
        try { handle(JSON.parse(ev.data)); } catch (e) {}
      });
    }
  };
  window.addEventListener('pointerup', () => st.releases.push(performance.now()), true);
  // the lesson's title page (digitcore/snapshots.py): when it came, its title, and when it went
  st.firstScreen = {shown: null, title: null, gone: null, rootTitleWhenGone: null, cellsWithTextWhenGone: 0};
  new MutationObserver((changes) => {
    for (const c of changes) {
      c.addedNodes.forEach(n => { if (n.id === 'digitcore-first-screen') {
        st.firstScreen.shown = performance.now();
        st.firstScreen.title = (n.querySelector('h1') || {}).textContent || null;
      } });
      c.removedNodes.forEach(n => { if (n.id === 'digitcore-first-screen') {
        st.firstScreen.gone = performance.now();
        const h1 = document.querySelector('#root h1');
        st.firstScreen.rootTitleWhenGone = h1 ? h1.textContent : null;
        st.firstScreen.cellsWithTextWhenGone = [...document.querySelectorAll('#root .marimo-cell')]
          .filter(c => c.textContent.trim()).length;
      } });
    }
  }).observe(document, {childList: true, subtree: true});
})();
"""

# Every element matching a selector, through open shadow roots; and all visible text, shadow roots included.
DEEP_JS = r"""
window.__deep = (sel, root = document) => {
  const out = [];
  const walk = (r) => {
    r.querySelectorAll(sel).forEach(e => out.push(e));
    r.querySelectorAll('*').forEach(e => { if (e.shadowRoot) walk(e.shadowRoot); });
  };
  walk(root);
  return out;
};
window.__text = (root = document.body) => {
  const parts = [];
  const walk = (node) => {
    if (node.nodeType === 3) { parts.push(node.nodeValue); return; }
    if (node.nodeType !== 1 && node.nodeType !== 11) return;
    if (node.nodeType === 1 && ['SCRIPT', 'STYLE', 'TEMPLATE'].includes(node.tagName)) return;
    if (node.shadowRoot) walk(node.shadowRoot);
    node.childNodes.forEach(walk);
  };
  walk(root);
  return parts.join(' ').replace(/\s+/g, ' ');
};
"""

IDLE_JS = """(quietMs) => {
  const st = window.__mo;
  if (!st || st.runs.length === 0) return false;
  const busy = Object.values(st.status).some(s => s === 'queued' || s === 'running');
  return !busy && performance.now() - st.lastMsg > quietMs;
}"""


class LessonPage:
    """A Playwright page on a served marimo notebook, with the recorder installed."""

    def __init__(self, browser, url: str, viewport=(1280, 900)):
        self.page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        self.page.add_init_script(RECORDER_JS + DEEP_JS)
        self.page_errors: list[str] = []
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.url = url

    def open(self, timeout: float = 180.0) -> float:
        """Navigate and wait until the kernel has run every cell; returns seconds taken."""
        t0 = time.perf_counter()
        self.page.goto(self.url, wait_until="domcontentloaded")
        self.wait_idle(timeout=timeout)
        return time.perf_counter() - t0

    # --- state -------------------------------------------------------------------------------------------
    def state(self) -> dict:
        return self.page.evaluate("() => JSON.parse(JSON.stringify(window.__mo))")

    def runs(self) -> int:
        return self.page.evaluate("() => window.__mo.runs.length")

    def wait_idle(self, after_runs: int = 0, timeout: float = 120.0, quiet_ms: int = 400) -> None:
        """Wait for a completed run beyond `after_runs`, then for no queued/running cell and a quiet socket."""
        self.page.wait_for_function("(n) => window.__mo && window.__mo.runs.length > n", arg=after_runs,
                                    timeout=timeout * 1000, polling=50)
        self.page.wait_for_function(IDLE_JS, arg=quiet_ms, timeout=timeout * 1000, polling=50)

    def errors(self) -> dict[str, list[dict]]:
        """Cells whose current output is a marimo error (mo.stop's 'ancestor-stopped' excluded)."""
        errs = self.page.evaluate("() => window.__mo.errors")
        real = {cid: [e for e in items if e.get("type") not in NOT_ERRORS] for cid, items in errs.items()}
        return {cid: items for cid, items in real.items() if items}

    def dom_errors(self) -> list[str]:
        """Text of cells that marimo's page marks as errored (needs --show-tracebacks in app view)."""
        return self.page.evaluate("""() => __deep('.marimo-cell.has-error, [data-cell-id] .has-error')
                                         .map(e => __text(e).slice(0, 300))""")

    def failed_runs(self) -> list[dict]:
        return [r for r in self.state()["runs"] if r["outcome"] != "succeeded"]

    def text(self) -> str:
        return self.page.evaluate("() => __text()")

    def cell_text(self, cell_id: str) -> str:
        return self.page.evaluate("(id) => { const c = document.getElementById('cell-' + id); "
                                  "return c ? __text(c) : ''; }", cell_id)

    def progress_visible(self) -> bool:
        return self.page.evaluate("() => __deep('marimo-progress').length > 0")

    # --- sliders -----------------------------------------------------------------------------------------
    def slider(self, label: str):
        """The thumb of the slider whose label contains `label`."""
        return self.page.locator(f'marimo-slider[data-label*="{label}"] [role="slider"]').first

    def slider_steps(self, label: str) -> list:
        raw = self.page.locator(f'marimo-slider[data-label*="{label}"]').first.get_attribute("data-steps",
                                                                                          timeout=60_000)
        return json.loads(raw or "[]")

    def slider_index(self, label: str) -> int:
        return int(self.slider(label).get_attribute("aria-valuenow"))

    def drag_slider(self, label: str, index: int, steps: int = 8) -> float:
        """Drag the slider's thumb to position `index` the way a person does: press on the thumb, move the
        mouse in a few steps along the track, release. Returns the release time on the page's clock (ms)."""
        thumb = self.slider(label)
        thumb.scroll_into_view_if_needed()
        track = self.page.locator(f'marimo-slider[data-label*="{label}"] [data-testid="track"]').first
        lo, hi = int(thumb.get_attribute("aria-valuemin")), int(thumb.get_attribute("aria-valuemax"))
        tb, kb = track.bounding_box(), thumb.bounding_box()
        x0, y = kb["x"] + kb["width"] / 2, kb["y"] + kb["height"] / 2
        x1 = tb["x"] + tb["width"] * (index - lo) / max(hi - lo, 1)  # Radix maps the pointer linearly on the track
        n_before = self.page.evaluate("() => window.__mo.releases.length")
        self.page.mouse.move(x0, y)
        self.page.mouse.down()
        for k in range(1, steps + 1):
            self.page.mouse.move(x0 + (x1 - x0) * k / steps, y)
        self.page.mouse.up()
        self.page.wait_for_function("(n) => window.__mo.releases.length > n", arg=n_before, timeout=5000)
        got = self.slider_index(label)
        if got != index:  # the pixel maths missed by a step: nudge like a person would, with the arrow keys
            key = "ArrowRight" if index > got else "ArrowLeft"
            for _ in range(abs(index - got)):
                thumb.press(key)
        return self.page.evaluate("() => window.__mo.releases.at(-1)")

    # --- charts ------------------------------------------------------------------------------------------
    def chart_specs(self) -> list[str]:
        """The Vega-Lite specs (JSON text, data included) of every chart on the page."""
        raw = self.page.evaluate("""() => __deep('marimo-mime-renderer[data-mime*="vega"], marimo-vega')
                                      .map(e => e.getAttribute('data-data') || e.getAttribute('data-spec') || '')""")
        return [json.loads(r) if r.startswith('"') else r for r in raw]  # attributes hold JSON-encoded strings

    def rendered_charts(self) -> int:
        """Charts that Vega has drawn (a canvas or an svg inside .vega-embed)."""
        return self.page.evaluate("() => __deep('.vega-embed canvas, .vega-embed svg.marks').length")

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))

    def describe_errors(self) -> str:
        """Everything that went wrong on the page, for assertion messages."""
        return (f"kernel errors: {self.errors()}\nerror cells on the page: {self.dom_errors()}\n"
                f"failed runs: {self.failed_runs()}\nbrowser exceptions: {self.page_errors}")

    def close(self) -> None:
        self.page.close()
