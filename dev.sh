#!/usr/bin/env bash
# One command to set up and run digitcore on a fresh machine with Python >= 3.10.
#   ./dev.sh lesson [NN_topic]  set up, then open a lesson as an app (default: 05_sgd, the SGD lesson)
#   ./dev.sh edit [NN_topic]    set up, then open a lesson as a notebook you can write code in
#   ./dev.sh class [NN] [opts]  set up, then serve a lesson to a class on one link (HAProxy; --students N)
#   ./dev.sh test [pytest args] set up, then run the whole test suite (what CI runs)
#   ./dev.sh setup              only set up: .venv with digitcore and its dependencies
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv
PY=${PYTHON:-python3}

setup() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "digitcore: creating $VENV (first run downloads PyTorch, a few minutes)" >&2
        "$PY" -m venv "$VENV"
    fi
    if ! "$VENV/bin/python" -c "import digitcore, torch, marimo, nbval, playwright" 2>/dev/null \
        || [ pyproject.toml -nt "$VENV/.digitcore-installed" ]; then
        "$VENV/bin/python" -m pip install --quiet --upgrade pip 2>/dev/null || true
        "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
        touch "$VENV/.digitcore-installed"
    fi
    # The real data, when it sits beside the project (as it does for the team and CI).
    if [ -z "${DIGITCORE_DATA:-}" ] && [ -d ../shared/data ]; then
        export DIGITCORE_DATA
        DIGITCORE_DATA="$(cd ../shared/data && pwd)"
    fi
}

browser() {
    # The browser tests drive Debian's Chromium through Playwright (never `playwright install`).
    if [ ! -x /usr/bin/chromium ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "digitcore: installing Debian's chromium for the browser tests" >&2
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
                || echo "digitcore: could not install chromium; browser tests will be skipped" >&2
        else
            echo "digitcore: /usr/bin/chromium missing (apt-get install chromium); browser tests will be skipped" >&2
        fi
    fi
}

proxy() {
    # `digitcore class` puts its marimo workers behind Debian's HAProxy (the class tests skip without it).
    if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "digitcore: installing Debian's haproxy for digitcore class" >&2
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null) \
                || echo "digitcore: could not install haproxy; class tests will be skipped" >&2
        else
            echo "digitcore: haproxy missing (apt-get install haproxy); class tests will be skipped" >&2
        fi
    fi
}

sandbox() {
    # The grader confines student code with Debian's bubblewrap and a libseccomp filter (python3-seccomp);
    # without them it runs in a weaker mode that the reports name (docs/isolation.md).
    if [ ! -x /usr/bin/bwrap ] || ! /usr/bin/python3 -c 'import seccomp' 2>/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "digitcore: installing Debian's bubblewrap and python3-seccomp for the grader's sandbox" >&2
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap python3-seccomp \
                >/dev/null) || echo "digitcore: could not install them; the grader will run in its weaker mode" >&2
        else
            echo "digitcore: bubblewrap or python3-seccomp missing (apt-get install bubblewrap python3-seccomp);" \
                 "the grader runs in its weaker mode" >&2
        fi
    fi
}

cmd=${1:-help}
shift || true
case "$cmd" in
    setup) setup ;;
    lesson) setup; exec "$VENV/bin/digitcore" lesson "$@" ;;
    edit) setup; exec "$VENV/bin/digitcore" lesson "${1:-05_sgd}" --edit "${@:2}" ;;
    class) setup; proxy; exec "$VENV/bin/digitcore" class "$@" ;;
    test)
        if [ ! -d tests ]; then  # the copy written by `digitcore handout` has no test suite
            echo "dev.sh test: this is the student copy of the course, without the project's tests." >&2
            echo "Check your exercises with: .venv/bin/pytest checks --submission lessons/05_sgd.py   (or your own .py file)" >&2
            exit 2
        fi
        setup; browser; proxy; sandbox; exec "$VENV/bin/python" -m pytest "$@" ;;
    *) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 1 ;;
esac
