"""A wire student (tests/browser/wire_student.py) sees what a page would: the end of each run, the learning-rate
slider, an error a cell shows and its going away, and a websocket that closes under it. The class tests trust it
to report these; here each is provoked on a small notebook."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "browser"))
from marimo_driver import serve  # noqa: E402
from wire_student import WireStudent  # noqa: E402

NOTEBOOK = '''
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    lr = mo.ui.slider(steps=[0.1, 1.0, 10.0], value=1.0, label="learning rate")
    lr
    return (lr,)


@app.cell
def _(lr):
    1 / (lr.value - 10.0)   # a cell that raises at the top rate
    return


if __name__ == "__main__":
    app.run()
'''


def test_a_wire_student_sees_runs_errors_and_a_worker_that_died(tmp_path):
    notebook = tmp_path / "wire lesson.py"
    notebook.write_text(NOTEBOOK)
    with serve(notebook) as server:
        student = WireStudent(server.url, timeout=120)
        assert student.open() > 0
        assert student.lr_id and student.lr_steps == 3, "the learning-rate slider was not found in the outputs"
        assert not student.errors and not student.failed and len(student.runs) == 1
        assert student.move(2) is not None
        assert "ZeroDivisionError" in "".join(student.errors.values()), f"the cell's error was not seen: {student.errors}"
        assert student.move(0) is not None
        assert not student.errors, "the error stayed after the cell ran cleanly again"
        port = int(server.url.rsplit(":", 1)[1])
    # the server is gone, as a killed worker is; one that comes up at the same address has no such session
    with serve(notebook, port=port):
        student.idle(0.1)   # a reading student: the closed websocket is noticed, reconnected, and the lesson runs
        assert student.closes, "the websocket's close went unnoticed"
        assert len(student.runs) == 4, f"the new server's run of the lesson was not waited for: {student.runs}"
        assert student.move(1) is not None and not student.errors
    student.close()
