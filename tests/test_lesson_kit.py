"""digitcore.lesson_kit: the snapshot player's moves, and results computed once per process for every tab."""

from digitcore import lesson_kit


def test_one_step_walks_the_snapshots_and_wraps_to_the_start():
    n = 5
    assert [lesson_kit.step_after(p, n) for p in range(n)] == [1, 2, 3, 4, 0]
    assert lesson_kit.step_after(10_000, n) == 0  # the player's first position: past the end, so the last shown


def test_play_moves_by_a_sixtieth_of_the_run_and_stops_at_the_last():
    assert lesson_kit.played_to(0, 600) == 10 and lesson_kit.played_to(595, 600) == 599
    assert lesson_kit.played_to(0, 30) == 1  # a short run still moves
    assert lesson_kit.played_to(10_000, 30) == 29


def test_once_per_process_keys_by_source_and_arguments():
    calls = []

    def a_tabs_copy():  # marimo gives each tab its own function object, compiled from the same source
        def train(data, epochs):
            calls.append((data, epochs))
            return [epochs]

        return train

    data = object()
    first = lesson_kit.once_per_process(a_tabs_copy(), data, 3)
    assert lesson_kit.once_per_process(a_tabs_copy(), data, 3) is first and len(calls) == 1
    lesson_kit.once_per_process(a_tabs_copy(), data, 4)
    lesson_kit.once_per_process(a_tabs_copy(), object(), 3)
    assert len(calls) == 3  # another argument, another sample: trained again
