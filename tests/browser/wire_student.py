"""A student's browser reduced to what it says to the server: the page and the files it links over HTTP, the
kernel's websocket, and slider moves sent as marimo's frontend sends them (POST /api/kernel/set_ui_element_value).

Why: Chromium needs 5 to 7 CPU-seconds to draw one lesson page, more than the server spends on that student. On a
machine that both serves a class and plays its browsers, the browsers take the cores and the figures measure them.
In a classroom each student's browser runs on the student's own laptop; a wire student asks of the server what a
real page asks (a session, its kernel's runs, their outputs, the page's files) and costs this machine almost
nothing, so the server has the cores to itself, as it would in the room.

What it does not do: draw anything, run marimo's frontend or its widgets' scripts, or fetch the files those
scripts load in turn (Chromium asks for some 330 files per page, of which the page links 190; HAProxy keeps them
all). After a worker dies it reconnects its websocket with the same session id at once, then every RETRY_S
seconds, as marimo's frontend does, though that first waits 3 s; the way back after a killed worker is therefore
also measured with Chromium (tests/browser/class_students.py). bench_class.py and bench_soak.py take `--wire`.

    with WireStudent(run.url) as s:
        s.open()                      # the page, its files, the websocket; returns once the first run has ended
        s.move(s.lr_steps - 5)        # the learning rate's index, as the slider sends it; returns seconds
"""

from __future__ import annotations

import contextlib
import http.cookies
import json
import re
import time
import urllib.error
import urllib.request
import uuid

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import connect

from digitcore.class_server import ASSET_LINKS  # the page's links to marimo's files, as digitcore class reads them

RETRY_S = 1.0
LR_LABEL = "learning rate"
NOT_ERRORS = {"ancestor-stopped"}   # what mo.stop leaves in the cells below it (as in marimo_driver)
SLIDER = re.compile(r"object-id='([^']+)'[^>]*><marimo-slider ([^>]*)>")


class WireStudent:
    """One student's tab. `errors` holds what the page would show as errors now (cell id: message), `failed` the
    runs that did not succeed, `closes` the times its websocket closed without being asked to."""

    def __init__(self, url: str, timeout: float = 300.0):
        self.url = url if url.endswith("/") else url + "/"
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.session = ""
        self.ws = None
        self._sockets = contextlib.ExitStack()   # the websocket of each session, closed with the tab
        self.lr_id: str | None = None
        self.lr_steps = 0
        self.errors: dict[str, str] = {}
        self.failed: list[dict] = []
        self.closes: list[float] = []        # time.time() of each close not asked for
        self.runs: list[float] = []          # time.time() at the end of each kernel run
        self.assets_cached = False           # the browser's cache: a reload does not fetch the scripts again

    # -- HTTP, with the class's sticky cookie -------------------------------------------------------------------
    def _keep_cookies(self, headers) -> None:
        for value in headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(value).items():
                self.cookies[name] = morsel.value

    def _cookie_header(self) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def _http(self, path: str, body: dict | None = None, headers: dict | None = None) -> bytes:
        request = urllib.request.Request(self.url + path.lstrip("./"),
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={**self._cookie_header(), **(headers or {})},
                                         method="GET" if body is None else "POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            self._keep_cookies(response.headers)
            return response.read()

    @property
    def worker(self) -> str | None:
        return self.cookies.get("digitcore_worker")

    # -- the page -------------------------------------------------------------------------------------------------
    def open(self) -> float:
        """Load the page (and, the first time, its scripts), open a new session's websocket and wait for the
        kernel's first run to end; returns the seconds it took. Also what a reload does."""
        t0 = time.monotonic()
        self.close()
        html = self._http("").decode()
        if not self.assets_cached:
            for asset in dict.fromkeys(ASSET_LINKS.findall(html)):
                self._http(asset)
            self.assets_cached = True
        self.session = "s_" + uuid.uuid4().hex[:6]
        self._connect(self.timeout)
        self.wait_run()
        return time.monotonic() - t0

    def _connect(self, within: float) -> None:
        """The kernel's websocket for this session (a worker that no longer has it starts it anew)."""
        url = self.url.replace("http", "ws", 1) + f"ws?session_id={self.session}"
        deadline = time.monotonic() + within
        while True:
            try:
                self.ws = self._sockets.enter_context(
                    connect(url, additional_headers=self._cookie_header(), max_size=None, open_timeout=30))
                self._keep_cookies(self.ws.response.headers)
                return
            except (OSError, InvalidHandshake, InvalidStatus):
                if time.monotonic() > deadline:
                    raise
                time.sleep(RETRY_S)

    def wait_run(self) -> None:
        """Read the kernel's messages until the end of a run (TimeoutError after `timeout`)."""
        if not self._pump(time.monotonic() + self.timeout, until_run=True):
            raise TimeoutError(f"no run ended within {self.timeout:.0f} s")

    def idle(self, seconds: float) -> None:
        """A student reading: the tab stays open and listens, as a page does, for `seconds`."""
        self._pump(time.monotonic() + seconds, until_run=False)

    def _pump(self, until: float, until_run: bool) -> bool:
        """Read the kernel's messages until `until` (monotonic), or with `until_run` until the end of a run first;
        True if a run ended. A websocket that closes is reconnected as marimo's frontend does it (the same session
        id; if its worker died, another one starts the session anew and runs the lesson), and that run is waited
        for even past `until`."""
        while True:
            try:
                message = json.loads(self.ws.recv(timeout=max(0.0, until - time.monotonic())))
            except TimeoutError:
                return False
            except ConnectionClosed:
                self.closes.append(time.time())
                self._connect(self.timeout)
                self.wait_run()
                if until_run:
                    return True
                continue
            data = message.get("data", message)
            op = message.get("op") or data.get("op")
            if op == "cell-op" and data.get("output"):
                self._read_output(data["cell_id"], data["output"])
            elif op == "completed-run":
                self.runs.append(time.time())
                if data.get("outcome") != "succeeded":
                    self.failed.append(data)
                if until_run:
                    return True

    def _read_output(self, cell: str, output: dict) -> None:
        if output.get("channel") == "marimo-error":
            items = output["data"] if isinstance(output["data"], list) else [output["data"]]
            shown = [e for e in items if not (isinstance(e, dict) and e.get("type") in NOT_ERRORS)]
            if shown:
                self.errors[cell] = json.dumps(shown)[:300]
            return
        self.errors.pop(cell, None)
        html = output.get("data")
        if isinstance(html, str) and LR_LABEL in html:
            for object_id, attributes in SLIDER.findall(html):
                if LR_LABEL in attributes:
                    self.lr_id = object_id
                    self.lr_steps = len(json.loads(re.search(r"data-steps='([^']*)'", attributes).group(1)))

    def move(self, index: int) -> float | None:
        """Release the learning-rate slider at step `index`; returns seconds until the run it started ended, or
        None if the websocket closed meanwhile (the run that ended was the lesson's, anew, not the move's)."""
        t0, closes = time.monotonic(), len(self.closes)
        try:
            self._http("api/kernel/set_ui_element_value", {"objectIds": [self.lr_id], "values": [index]},
                       {"Content-Type": "application/json", "Marimo-Session-Id": self.session})
        except urllib.error.URLError:   # the worker died under it: the websocket closes next
            self.wait_run()
            return None
        self.wait_run()
        return time.monotonic() - t0 if len(self.closes) == closes else None

    def close(self) -> None:
        """Close the tab (its session ends when the server's session TTL has passed)."""
        self._sockets.close()
        self.ws = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
