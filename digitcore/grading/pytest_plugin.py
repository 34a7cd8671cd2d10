"""The grader's command-line options, as a pytest plugin (a pytest11 entry point) loaded before any conftest.py.

Without it, pytest's first pass over the command line takes `--submission PATH`'s PATH for a test path and imports
a conftest.py found there: student code in the grader's process. checks/conftest.py adds the options itself (and
guards against that) when this plugin is not installed.
"""


def pytest_addoption(parser):
    group = parser.getgroup("digitcore grading")
    group.addoption("--submission", metavar="PATH", help="grade one submission (file, notebook or folder)")
    group.addoption("--submissions", metavar="DIR", help="grade every student in DIR (use with --grades)")
    group.addoption("--grades", metavar="OUT", help="where class grading writes its files")
    group.addoption("--hidden", action="store_true", help="also run the hidden checks for --submission")
    group.addoption("--time-limit", type=float, default=10.0, help="seconds per check (default 10)")
    group.addoption("--exercise-budget", type=float, default=None, metavar="SECONDS",
                    help="wall seconds one exercise of one student may take, loading included (default 30)")
    group.addoption("--student-budget", type=float, default=None, metavar="SECONDS",
                    help="wall seconds all of one student's exercises may take (default 90)")
    group.addoption("--jobs", type=int, default=None, help="parallel workers for class grading")
    group.addoption("--unsafe-no-isolation", action="store_true",
                    help="grade a class even where nothing keeps students apart (no bubblewrap, no Landlock)")
    group.addoption("--seed", type=int, default=None,
                    help="seed of the checks' inputs (default: a fresh one each run; feedback names it)")
