"""The grader's pytest front end.

    pytest checks --submission PATH                 # one submission: a test per check, feedback as failures
    pytest checks --submissions DIR --grades OUT    # a whole class: a test per student, files in OUT

Student code never runs in this process: it runs in sandboxed workers (digitcore.grading), and only
plain data comes back. Submissions are never collected or imported by pytest (not even a conftest.py
inside a submission folder): they are not on pytest's paths, and the grader reads them as text.
"""

import os
from pathlib import Path

import pytest

USAGE = """digitcore's grader needs to know what to grade:

  pytest checks --submission PATH
      grade one submission: a .py file, a marimo notebook, or a folder of them. Every check is a test;
      a failing check shows what went wrong. Add --hidden to include the instructor's hidden checks.

  pytest checks --submissions DIR --grades OUT
      grade a whole class: every .py file or folder directly in DIR is one student. Writes
      OUT/gradebook.csv, OUT/grades.json and OUT/<student>/results.json (Gradescope) and feedback.md.

Options: --time-limit SECONDS (per check, default 10), --jobs N (class grading, default: one per core),
--exercise-budget SECONDS (one exercise of one student, default 30), --student-budget SECONDS (one student, default 90),
--seed N (the inputs of an earlier run, named in its feedback and grades.json; default: fresh ones each run)."""

HERE = Path(__file__).resolve().parent
HIDDEN = Path(os.environ.get("DIGITCORE_HIDDEN_CHECKS") or HERE / "hidden")
STATE = pytest.StashKey[dict]()


def _only_checks_conftests():
    """Without the digitcore_grading plugin, pytest's first pass over the command line mistakes the value
    of --submission/--submissions/--grades for test paths and would import a conftest.py found there.
    This conftest is imported first (`pytest checks ...`): from now on, load none outside checks/."""
    from _pytest.config import PytestPluginManager

    original = getattr(PytestPluginManager, "_loadconftestmodules", None)  # private: gone in a future pytest?
    if original is None or getattr(original, "digitcore_guard", False):
        return  # then only the digitcore_grading plugin (installed with the package) protects the first pass

    def guarded(self, path, *args, **kwargs):
        path = Path(path).resolve()
        if path != HERE and HERE not in path.parents and path not in HERE.parents:
            return None
        return original(self, path, *args, **kwargs)

    guarded.digitcore_guard = True
    PytestPluginManager._loadconftestmodules = guarded


_only_checks_conftests()


def pytest_addoption(parser, pluginmanager):
    if not any(pluginmanager.has_plugin(n) for n in ("digitcore_grading", "digitcore.grading.pytest_plugin")):
        from digitcore.grading.pytest_plugin import pytest_addoption as add_options
        add_options(parser)


def _foreign_conftests(config) -> list[str]:
    found = []
    for plugin in config.pluginmanager.get_plugins():
        f = getattr(plugin, "__file__", None)
        if f and Path(f).name == "conftest.py":
            p = Path(f).resolve().parent
            if p != HERE and HERE not in p.parents and p not in HERE.parents:
                found.append(f)
    return found


def pytest_configure(config):
    one, many, out = (config.getoption(k) for k in ("submission", "submissions", "grades"))
    if not one and not many:
        raise pytest.UsageError(USAGE)
    if one and many:
        raise pytest.UsageError("use either --submission PATH or --submissions DIR, not both\n\n" + USAGE)
    if many and not out:
        raise pytest.UsageError("--submissions DIR needs --grades OUT (where to write the grades)\n\n" + USAGE)
    foreign = _foreign_conftests(config)
    if foreign:
        raise pytest.UsageError(f"pytest imported {foreign[0]}, which is not the grader's: write the option "
                                "with '=' (--submission=PATH) and put `checks` first on the command line")
    path = Path(one or many)
    if not path.exists():
        raise pytest.UsageError(f"{path} does not exist")
    if many and not path.is_dir():
        raise pytest.UsageError(f"--submissions expects a folder of submissions; {path} is not a folder")
    from digitcore.grading.runner import draw_seed
    seed = config.getoption("seed")
    state = {"mode": "one" if one else "class", "path": path, "out": Path(out) if out else None,
             "seed": draw_seed() if seed is None else seed}
    if one:  # start the worker now: it imports torch while pytest collects
        from digitcore.grading.client import ZygoteClient
        from digitcore.grading.registry import PROBES_FILE
        state["zygote"] = ZygoteClient([str(PROBES_FILE)]).start()
    else:
        from digitcore.grading.sources import SubmissionError, check_out_dir
        try:
            check_out_dir(path, out)
        except SubmissionError as e:
            raise pytest.UsageError(str(e)) from None
    config.stash[STATE] = state


def pytest_unconfigure(config):
    state = config.stash.get(STATE, None)
    if state and state.get("zygote"):
        state["zygote"].close()


def pytest_ignore_collect(collection_path, config):
    state = config.stash.get(STATE, None)
    if state is None:
        return None
    wanted = "test_submission.py" if state["mode"] == "one" else "test_class.py"
    if collection_path.name.startswith("test_") and collection_path.name != wanted:
        return True
    return None


def _registry(config):
    from digitcore.grading.registry import checks_for
    state = config.stash[STATE]
    if "registry" not in state:
        include_hidden = state["mode"] == "class" or config.getoption("hidden")
        state["registry"] = checks_for(include_hidden, HIDDEN)
    return state["registry"]


def pytest_generate_tests(metafunc):
    config = metafunc.config
    if "check_id" in metafunc.fixturenames:
        ids = [(ex, c.name) for ex, cs in _registry(config).items() for c in cs]
        metafunc.parametrize("check_id", ids, ids=[f"{ex}-{name}" for ex, name in ids])
    if "student" in metafunc.fixturenames:
        from digitcore.grading.sources import scan_class
        names = list(scan_class(config.stash[STATE]["path"])[0])
        metafunc.parametrize("student", names, ids=names)


def _budgets(config) -> dict:
    return {"exercise_budget": config.getoption("exercise_budget"), "student_budget": config.getoption("student_budget")}


@pytest.fixture(scope="session")
def submission_report(request):
    """The graded submission (graded once, on first use)."""
    config = request.config
    state = config.stash[STATE]
    if "report" not in state:
        from digitcore.grading.runner import grade_with
        try:
            state["report"] = grade_with(state["zygote"], state["path"], _registry(config),
                                         seed=state["seed"],
                                         time_limit=config.getoption("time_limit"), **_budgets(config))
        except Exception as e:  # noqa: BLE001 - the grader's own failure: a clean message, not a traceback
            state["report"] = None
            pytest.fail(f"the grader failed: {type(e).__name__}: {e}", pytrace=False)
    return state["report"]


@pytest.fixture(scope="session")
def class_reports(request):
    """Every student graded (in parallel) and the files written to --grades."""
    config = request.config
    state = config.stash[STATE]
    if "reports" not in state:
        from digitcore.grading.classroom import grade_reports, write_outputs
        try:
            registry, reports, stats = grade_reports(
                state["path"], include_hidden=True, hidden_dir=HIDDEN, jobs=config.getoption("jobs"),
                seed=state["seed"], time_limit=config.getoption("time_limit"), hide=[state["out"]],
                unsafe_no_isolation=config.getoption("unsafe_no_isolation"), **_budgets(config))
            write_outputs(state["out"], registry, reports)
        except Exception as e:  # noqa: BLE001 - a clean message, not a traceback
            state["reports"] = {}
            pytest.fail(f"the grader failed: {type(e).__name__}: {e}", pytrace=False)
        state["reports"] = {r.student: r for r in reports}
        state["stats"] = stats
    return state["reports"]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from digitcore.grading.report import pts, summary_table
    state = config.stash.get(STATE, None)
    if not state:
        return
    tr = terminalreporter
    report = state.get("report")
    if report is not None:
        tr.section(f"points for {report.student}")
        if report.fatal:
            tr.write_line(f"your file could not be graded: {report.fatal}")
        for ex in report.exercises.values():
            ok = sum(v.passed for _, v in ex.checks)
            tr.write_line(f"{ex.exercise:<16} {pts(ex.score):>5} / {pts(ex.max_score):<4} "
                          f"({ok} of {len(ex.checks)} checks pass)")
        tr.write_line(f"{'total':<16} {pts(report.total):>5} / {pts(report.max_total)}")
        tr.write_line(f"sandbox: {report.isolation}")
        tr.write_line(f"inputs: seed {state['seed']} (--seed {state['seed']} repeats this run)")
    reports = state.get("reports")
    if reports:
        tr.section("class grades")
        tr.write_line(summary_table(list(reports.values())))
        tr.write_line(f"written to {state['out']}: gradebook.csv, grades.json, <student>/results.json, "
                      "<student>/feedback.md")
        isolation = {r.isolation for r in reports.values() if r.isolation}
        tr.write_line("sandbox: " + "; ".join(sorted(isolation)))
        tr.write_line(f"inputs: seed {state['seed']} (in grades.json; --seed {state['seed']} repeats this run)")
        stats = state.get("stats") or {}
        tr.write_line(f"{stats.get('students')} students in {stats.get('seconds')} s "
                      f"with {stats.get('jobs')} workers")
        for entry, why in (stats.get("skipped") or {}).items():
            tr.write_line(f"not graded, not a student: {entry}: {why}")
