"""The lessons' first screens, saved and shipped in the repo: marimo session snapshots (lessons/__marimo__/session/)
and the title page shown while marimo's own page loads (lessons/__marimo__/first_screen/).

    python -m digitcore.snapshots            rebuild every lesson's snapshot (about 10 s a lesson)
    python -m digitcore.snapshots --check    list the lessons whose snapshot marimo would not use (exit 1 if any)

Why: a student's first `marimo run lessons/05_sgd.py` starts a fresh server, and the first tab's kernel must import
torch and train before the training lab can draw (about 8 s on a 2-core laptop). With `serve_cached_sessions_in_apps`
(pyproject.toml, [tool.marimo.runtime]), marimo shows a lesson's saved outputs the moment the page connects, while
the kernel runs the lesson again underneath and replaces each output as its cell finishes.

Before even that, marimo's page itself takes about 2 s to load and connect on such a laptop (a one-cell notebook
shows its title no sooner; see benchmarks/bench_lesson_latency.py). Each lesson's `html_head_file` puts its title
and opening prose, as marimo rendered them into the snapshot, on screen while marimo's scripts load, over the
empty page; it goes as soon as marimo has drawn the lesson's own title (or anything else; after 15 s at most).

A snapshot is the lesson as it runs on the data shipped in the package (DIGITCORE_DATA=embedded), so with nothing
configured what the kernel computes is what the snapshot already showed. The data notice is left out of every
snapshot: it names the data in use, which only the running kernel knows.

marimo uses a snapshot only when it matches the lesson exactly (every cell's code, and marimo's version); otherwise
it ignores it and the lesson starts as if there were none. So after changing a lesson, rebuild its snapshot;
tests/test_snapshots.py fails until you do.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LESSONS = Path(__file__).resolve().parents[1] / "lessons"
LEFT_OUT = ("data_notice(",)  # cells whose code has one of these show nothing until the kernel has run them


# The title page: marimo's own rendering of the lesson's first cell (with marimo's stylesheets, which load before
# anything is drawn), over the page until marimo has drawn a cell with anything in it (normally that same title;
# an error would do too), or for 15 s at most. Aligned with marimo's "medium" width.
FIRST_SCREEN = """<script>
/* digitcore: the lesson's title while marimo loads; written by `python -m digitcore.snapshots`, do not edit */
(() => {
  const html = %s;
  const show = () => {
    const root = document.getElementById("root");
    if (!root || document.getElementById("digitcore-first-screen")) return;
    const page = document.createElement("div");
    page.id = "digitcore-first-screen";
    page.style.cssText = "position: fixed; inset: 0; z-index: 1000; overflow: hidden; pointer-events: none; "
      + "background: var(--background, #fff);";
    page.innerHTML = '<div style="width: min(1080px, calc(100%% - 2rem)); margin: 0 auto; padding-top: 2rem;">'
      + html + "<\\/div>";
    document.body.appendChild(page);
    const done = () => { page.remove(); drawn.disconnect(); };
    const drawn = new MutationObserver(() => {  // marimo has drawn a cell with something in it: the title, or an error
      if ([...root.querySelectorAll(".marimo-cell")].some((cell) => cell.textContent.trim())) done();
    });
    drawn.observe(root, {childList: true, subtree: true});
    setTimeout(done, 15000);
  };
  document.addEventListener("readystatechange", () => { if (document.readyState === "interactive") show(); });
})();
</script>
"""


def lessons(folder: Path = LESSONS) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]_*.py"))


def snapshot_path(lesson: Path) -> Path:
    return lesson.parent / "__marimo__" / "session" / f"{lesson.name}.json"


def first_screen_path(lesson: Path) -> Path:
    """The lesson's title page; its App(html_head_file=...) names this file, relative to the lesson."""
    return lesson.parent / "__marimo__" / "first_screen" / f"{lesson.stem}.html"


def copy_first_screen(lesson: Path, to: Path) -> list[Path]:
    """Copy the lesson's snapshot and title page beside `to`, a copy of the lesson elsewhere; returns what it wrote."""
    copied = []
    for where in (snapshot_path, first_screen_path):
        if where(lesson).is_file():
            where(to).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(where(lesson), where(to))
            copied.append(where(to))
    return copied


def first_screen(snapshot: dict) -> str:
    """The title page for a snapshot: its first output with an h1 (the lesson's title cell)."""
    for cell in snapshot["cells"]:
        for out in cell["outputs"]:
            html = out.get("data", {}).get("text/markdown") or out.get("data", {}).get("text/html") or ""
            if "<h1" in html:
                return FIRST_SCREEN % json.dumps(html).replace("</", "<\\/")
    raise ValueError("no cell of the lesson shows an h1 title")


def _cell_codes(lesson: Path) -> list[tuple[str, str]]:
    """(cell id, code) of every cell, as marimo itself reads the file."""
    from marimo._ast.load import load_app

    app = load_app(str(lesson))
    return [(cell_id, data.code) for cell_id, data in zip(app._cell_manager.cell_ids(), app._cell_manager.cell_data())]


def _code_hash(code: str) -> str | None:
    from marimo._session.state.serialize import _hash_code  # the hash marimo keys snapshots by

    return _hash_code(code)


def stale_reason(lesson: Path) -> str | None:
    """Why marimo would not use this lesson's snapshot (None: it would), decided by marimo's own test (the one its
    run mode applies when a tab connects): every cell's code, in order, and marimo's version must match."""
    import marimo
    from marimo._session.state.serialize import SessionCacheKey, SessionCacheManager
    from marimo._utils.inline_script_metadata import script_metadata_hash_from_filename

    path = snapshot_path(lesson)
    if not path.is_file():
        return "no snapshot"
    snap = json.loads(path.read_text(encoding="utf-8"))
    head = first_screen_path(lesson)
    named = head.relative_to(lesson.parent).as_posix()
    if not head.is_file() or head.read_text(encoding="utf-8") != first_screen(snap):
        return f"{named} is missing or not the one the snapshot makes"
    if f'html_head_file="{named}"' not in lesson.read_text(encoding="utf-8"):
        return f'its marimo.App(...) does not say html_head_file="{named}"'
    cells = _cell_codes(lesson)
    key = SessionCacheKey(codes=tuple(code for _, code in cells), marimo_version=marimo.__version__,
                          cell_ids=tuple(cell_id for cell_id, _ in cells),
                          script_metadata_hash=script_metadata_hash_from_filename(str(lesson)))
    if SessionCacheManager.is_cache_hit(None, snap, key):  # it reads nothing of self
        return None
    version = snap.get("metadata", {}).get("marimo_version")
    if version != marimo.__version__:
        return f"built with marimo {version}, this is marimo {marimo.__version__}"
    return "the lesson's code has changed since the snapshot was built"


def build(lesson: Path) -> Path:
    """Run the lesson headless on the shipped data and save its outputs (the data notice left out)."""
    with tempfile.TemporaryDirectory(prefix="digitcore-snapshot-") as cache:
        env = {**os.environ, "DIGITCORE_DATA": "embedded", "DIGITCORE_CACHE": cache}
        done = subprocess.run([sys.executable, "-m", "marimo", "export", "session", "--force-overwrite",
                               "--no-sandbox", "--no-continue-on-error", str(lesson)],
                              env=env, capture_output=True, text=True)
    path = snapshot_path(lesson)
    if done.returncode != 0 or not path.is_file():
        raise RuntimeError(f"marimo export session {lesson.name} failed:\n{done.stdout}\n{done.stderr}")
    snap = json.loads(path.read_text(encoding="utf-8"))
    errors = [c["id"] for c in snap["cells"] for o in c["outputs"] if o.get("type") == "error"]
    if errors:
        raise RuntimeError(f"{lesson.name}: cells {errors} raised on the shipped data; fix the lesson first")
    left_out = {_code_hash(code) for _, code in _cell_codes(lesson) if any(k in code for k in LEFT_OUT)}
    for cell in snap["cells"]:
        cell["console"] = []  # what cells printed is not part of the first screen
        if cell["code_hash"] in left_out:
            cell["outputs"] = []
    path.write_text(json.dumps(snap, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    head = first_screen_path(lesson)
    head.parent.mkdir(parents=True, exist_ok=True)
    head.write_text(first_screen(snap), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only say which snapshots marimo would not use")
    ap.add_argument("lesson", nargs="*", type=Path, help="lessons to rebuild (default: all)")
    args = ap.parse_args(argv)
    chosen = [p.resolve() for p in args.lesson] or lessons()
    if args.check:
        stale = {p.name: why for p in chosen if (why := stale_reason(p))}
        for name, why in stale.items():
            print(f"{name}: {why}")
        print(f"{len(chosen) - len(stale)} of {len(chosen)} snapshots current"
              + ("; rebuild with `python -m digitcore.snapshots`" if stale else ""))
        return 1 if stale else 0
    for lesson in chosen:
        path = build(lesson)
        print(f"{lesson.name}: {path.relative_to(lesson.parent.parent)} ({path.stat().st_size // 1024} kB)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
