"""The snapshot player: play, one step, back to the start, and a slider, over n snapshots of a run.

    get_pos, set_pos = mo.state(10_000)                                   # one cell: where the player is
    play, one_step, to_start = lesson_kit.player_buttons(n, set_pos)       # one cell: its three controls
    lesson_kit.follow_play(play, n, set_pos)                               # one cell: re-run on each tick of play
    watch_at = lesson_kit.snapshot_slider(n, get_pos(), set_pos)           # one cell: the slider, moved by all three

marimo re-runs a cell when a state it reads is set or a control it names moves, so the player stays four cells;
the logic of each lives here, so a lesson's cells read as one line each.
"""

from __future__ import annotations

import marimo as mo

PLAY_TICKS = 60  # play crosses a whole run in about this many ticks


def step_after(pos: int, n: int) -> int:
    """One step on from `pos` among n snapshots; after the last, back to the first."""
    return min(pos, n - 1) + 1 if pos < n - 1 else 0


def played_to(pos: int, n: int) -> int:
    """Where one tick of play takes `pos`: about a PLAY_TICKS-th of the run further, stopping at the last."""
    return min(min(pos, n - 1) + max(1, n // PLAY_TICKS), n - 1)


def player_buttons(n: int, set_pos) -> tuple:
    """play (a refresh control: off, every 0.3 s, every 1 s), one step, and back to the start, over n snapshots."""
    play = mo.ui.refresh(options=["0.3s", "1s"], label="play")
    one_step = mo.ui.button(value=0, on_click=lambda v: v + 1, label="one step",
                            on_change=lambda _: set_pos(lambda p: step_after(p, n)))
    to_start = mo.ui.button(value=0, on_click=lambda v: v + 1, label="back to the start",
                            on_change=lambda _: set_pos(0))
    return play, one_step, to_start


def follow_play(play, n: int, set_pos) -> None:
    """Called in a cell that names `play`, so it runs on every tick: move the player on while play is not off."""
    if play.value:
        set_pos(lambda p: played_to(p, n))


def snapshot_slider(n: int, pos: int, set_pos) -> mo.ui.slider:
    """The slider over n snapshots at `pos`; dragging it moves the player too."""
    return mo.ui.slider(0, n - 1, value=min(pos, n - 1), on_change=set_pos, full_width=True,
                        label="snapshot (0 = untrained)")
