"""Every command in the README (and in docs/exercises.md) runs as written, on a fresh copy, after the setup.

The copy is the project's files (what a clone holds) in a folder whose name has spaces and dots, with nothing
configured: no DIGITCORE_DATA, an empty cache and HOME, no folder of data beside it, no virtualenv on PATH.
Its .venv is made from this run's packages (linked_venv.py) instead of downloading PyTorch again; everything
after that happens as the README says, starting with its setup command.

Blocks fenced as ```bash or ```python are run, in order, each in a fresh shell (`bash -euo pipefail`) or
Python, from the copy's top folder; a block that is the same as one already run is not run twice. A block
is expected to exit with status 0, unless an HTML comment on the line above it says otherwise, with a reason:

    <!-- README test: skip, serves a lesson until you press Ctrl+C -->
    <!-- README test: exit 1, the exercises are not written yet on a fresh copy -->

Fences need a language, so that no command hides in an untagged block; ```text is for output.
"""

import inspect
import re
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from linked_venv import clean_env, make_linked_venv

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "docs/exercises.md")
RUN = ("bash", "python")
KNOWN = {*RUN, "text", "toml", "json", "csv", "markdown"}
MAX_SKIPPED = 3  # keep the list of commands that CI does not run short
# What the README says these commands print, checked on their output (start of the block -> strings)
PRINTS = {".venv/bin/digitcore reproduce": ["0.9168", "0.9854", "0.9511", "0.9671", "0.9823"],
          ".venv/bin/digitcore data info": ["embedded"]}

FENCE = re.compile(r"(?:^[ \t]*<!--\s*README test:\s*(?P<directive>.*?)\s*-->[ \t]*\n)?"
                   r"^(?P<indent>[ \t]*)```(?P<lang>[^\n`]*)\n(?P<code>.*?)^[ \t]*```[ \t]*$", re.M | re.S)


def blocks(path: Path) -> list[dict]:
    """Every fenced block of a markdown file: its language, code, and what is expected of it."""
    found = []
    for m in FENCE.finditer(path.read_text(encoding="utf-8")):
        directive = m["directive"]
        expect = {"skip": False, "status": 0, "why": None}
        if directive:
            d = re.fullmatch(r"(skip|exit (\d+)),\s*(\S.{9,})", directive)
            assert d, f"{path.name}: a README test comment needs 'skip, REASON' or 'exit N, REASON': {directive!r}"
            expect = {"skip": d[1] == "skip", "status": int(d[2] or 0), "why": d[3]}
        code = textwrap.dedent(m["code"])
        found.append({"file": path.name, "lang": m["lang"].strip(), "code": code, **expect})
    return found


def runnable() -> list[dict]:
    seen, out = set(), []
    for doc in DOCS:
        for b in blocks(ROOT / doc):
            if b["lang"] in RUN and not b["skip"] and b["code"] not in seen:
                seen.add(b["code"])
                out.append(b)
    return out


def test_every_block_says_what_it_is_and_few_are_left_out():
    all_blocks = [b for doc in DOCS for b in blocks(ROOT / doc)]
    assert all_blocks and [b for b in all_blocks if b["lang"] == "bash"]
    untagged = [b["code"] for b in all_blocks if b["lang"] not in KNOWN]
    assert not untagged, f"fenced blocks need a language ({', '.join(sorted(KNOWN))}): {untagged}"
    skipped = [b for b in all_blocks if b["skip"]]
    assert len(skipped) <= MAX_SKIPPED, [b["code"] for b in skipped]
    assert all(b["lang"] in RUN for b in skipped), "only commands are skipped"
    readme = [b for b in blocks(ROOT / "README.md") if b["lang"] in RUN and not b["skip"]]
    assert readme and readme[0]["code"].strip().startswith("./dev.sh setup"), "the README starts with its setup"


def test_the_extractor_reads_indented_blocks_and_comments(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("1. one\n\n   <!-- README test: exit 1, nothing written yet here -->\n   ```bash\n   false\n"
                   "   echo two\n   ```\n\n```text\nout\n```\n")
    got = blocks(doc)
    assert [(b["lang"], b["code"], b["status"], b["skip"]) for b in got] == [
        ("bash", "false\necho two\n", 1, False), ("text", "out\n", 0, False)]


def _copy_of_the_project(dest: Path) -> None:
    """The files a clone holds: tracked ones, and new ones not ignored (so uncommitted work is tested too)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip(f"{ROOT} is not a git checkout: there is no clone to copy ({listed.stderr.decode().strip()})")
    for name in sorted(set(listed.stdout.decode().split("\0")) - {""}):
        src = ROOT / name
        if src.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(src.read_bytes())
            target.chmod(src.stat().st_mode & 0o777)


def test_readme_commands_run_as_written_on_a_fresh_copy(tmp_path):
    clone = tmp_path / "my projects" / "digitcore v0.1"
    _copy_of_the_project(clone)
    assert not (clone / "../shared").exists()
    (tmp_path / "home").mkdir()
    env = clean_env(HOME=str(tmp_path / "home"), DIGITCORE_CACHE=str(tmp_path / "empty cache"))
    make_linked_venv(clone)  # stands in for the download that the setup command makes on a new machine
    todo = runnable()
    assert len(todo) >= 5
    for b in todo:
        start = time.perf_counter()
        cmd = ["bash", "-euo", "pipefail", "-c", b["code"]] if b["lang"] == "bash" else [".venv/bin/python", "-c",
                                                                                          b["code"]]
        out = subprocess.run(cmd, cwd=clone, env=env, capture_output=True, text=True, timeout=600)
        assert out.returncode == b["status"], (f"{b['file']} block exited {out.returncode}, expected {b['status']}:"
                                               f"\n{b['code']}\n--- stdout\n{out.stdout[-3000:]}\n--- stderr\n"
                                               f"{out.stderr[-3000:]}")
        # a grader that could not grade also exits 1: expected failures must be failures, not errors
        assert not re.search(r"\b\d+ errors?\b[^\n]* in [\d.]+s", out.stdout), f"pytest errors in:\n{b['code']}\n{out.stdout[-3000:]}"
        for start_of_block, strings in PRINTS.items():
            if b["code"].startswith(start_of_block):
                assert all(w in out.stdout for w in strings), (b["code"], strings, out.stdout)
        print(f"{time.perf_counter() - start:6.1f} s  {b['file']}: {b['code'].strip().splitlines()[0]}")


def test_links_to_files_of_the_project_lead_somewhere():
    broken = []
    for doc in DOCS:
        path = ROOT / doc
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
            if "://" not in target and not (path.parent / target).exists():
                broken.append(f"{doc}: {target}")
    assert not broken


def test_exercise_doc_lists_every_public_check_with_its_points():
    """docs/exercises.md keeps up with digitcore/exercises: each exercise's table names its public checks and
    their points, and each exercise's signature is the function's."""
    from digitcore import chapter
    from digitcore.exercises import CHECKS

    text = (ROOT / "docs" / "exercises.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"(?ms)^### `(\w+)\((.*?)(?=^### |^## |\Z)", text))
    for exercise, checks in CHECKS.items():
        assert exercise in sections, f"docs/exercises.md has no section for {exercise}"
        rows = dict(re.findall(r"(?m)^\| `(\w+)` \| ([\d.]+) \|", sections[exercise]))
        public = {c.name: c.points for c in checks if not c.hidden}
        assert {k: float(v) for k, v in rows.items()} == public, exercise
        signature = f"{exercise}({', '.join(inspect.signature(getattr(chapter, exercise)).parameters)}"
        assert f"`{signature}" in text.replace("loss_func=mnist_loss", "loss_func"), signature
