"""The lessons' saved first screens (digitcore/snapshots.py): marimo uses every one of them, and none says more
than the running lesson would."""

import json
from pathlib import Path

import pytest

from digitcore import snapshots

ROOT = Path(__file__).resolve().parents[1]
LESSONS = snapshots.lessons()


def test_the_checks_below_see_every_lesson():
    assert [p.stem[:2] for p in LESSONS] == [f"{n:02d}" for n in range(1, 11)]


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_marimo_would_use_the_snapshot(lesson):
    why = snapshots.stale_reason(lesson)
    assert why is None, (f"marimo run would ignore {lesson.name}'s saved first screen ({why}), and the lesson would "
                         f"start slow: run `python -m digitcore.snapshots lessons/{lesson.name}`")


def test_stale_reason_sees_a_changed_lesson(tmp_path):
    """The check above can fail: one changed character in a cell, and marimo would not use the snapshot."""
    lesson = tmp_path / "lessons" / "05_sgd.py"
    snap, head = snapshots.snapshot_path(lesson), snapshots.first_screen_path(lesson)
    assert snapshots.copy_first_screen(ROOT / "lessons" / "05_sgd.py", lesson) == [snap, head]
    source = (ROOT / "lessons" / "05_sgd.py").read_text(encoding="utf-8")
    lesson.write_text(source, encoding="utf-8")
    assert snapshots.stale_reason(lesson) is None
    lesson.write_text(source.replace("BATCH_SIZES = [1, 8,", "BATCH_SIZES = [1, 4,"), encoding="utf-8")
    assert snapshots.stale_reason(lesson) == "the lesson's code has changed since the snapshot was built"
    lesson.write_text(source.replace('html_head_file="', 'css_file="'), encoding="utf-8")
    assert "does not say html_head_file" in snapshots.stale_reason(lesson)
    head.write_text(head.read_text(encoding="utf-8").replace("Stochastic", "Stochastik"), encoding="utf-8")
    assert "not the one the snapshot makes" in snapshots.stale_reason(lesson)
    snap.unlink()
    assert snapshots.stale_reason(lesson) == "no snapshot"


def test_marimo_run_is_configured_to_serve_them():
    """The setting that makes `marimo run` show them, as marimo resolves it for a lesson (pyproject.toml)."""
    from marimo._config.manager import get_default_config_manager

    config = get_default_config_manager(current_path=str(ROOT / "lessons" / "05_sgd.py")).get_config()
    assert config["runtime"].get("serve_cached_sessions_in_apps") is True


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_a_title_page_is_one_script_that_html_cannot_break_out_of(lesson):
    head = snapshots.first_screen_path(lesson).read_text(encoding="utf-8")
    assert head.startswith("<script>") and head.rstrip().endswith("</script>")
    assert head.count("</") == 1, "a '</' inside the script would end it early"
    assert "<h1" in head


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_a_snapshot_shows_no_error_no_data_notice_and_nothing_of_the_build_machine(lesson):
    text = snapshots.snapshot_path(lesson).read_text(encoding="utf-8")
    snap = json.loads(text)
    assert not [c["id"] for c in snap["cells"] for o in c["outputs"] if o.get("type") == "error"]
    assert not [c["id"] for c in snap["cells"] if c["console"]]
    # the data notice names the data in use, which only the running kernel knows
    assert "Data:" not in text  # data_notice's callout starts with a bold "Data:"
    for leak in (str(ROOT), "/tmp/", str(Path.home()) + "/", "digitcore-snapshot-"):
        assert leak not in text, f"{lesson.name}'s snapshot mentions {leak!r}"
