"""What every lesson imports, imported once per process before anything else can see it half-done.

Every lesson's setup cell starts with `import digitcore.lesson_imports`. Why: `marimo run` serves each browser tab
from a kernel thread of one server process, so when a class opens a freshly started server at the same moment,
several threads import torch at once. Python cannot do that safely for a package whose modules import each other
(torch and torch.nn do): when two threads each hold a piece of the cycle, CPython reports a deadlock inside the
import system and hands one of them the half-initialised module instead. marimo makes it likely: each new tab's
session start calls marimo's `register_formatters()` on the server's own thread, and for a package already in
`sys.modules` that runs its formatter now (`import torch.nn` for torch), even while a kernel thread is still in
the middle of `import torch`. The result was `partially initialized module 'torch.nn.parameter'`, then
`cannot initialize type "RpcBackendOptions"`, in every tab, for as long as the server lived.

The cure has two halves, both here:
1. The heavy imports happen in this module's body. Python runs a module's body once; any other thread importing
   this module waits (on the module's own import lock) until the body has finished. So the lessons' kernel
   threads meet torch, pandas and altair only fully imported.
2. marimo's formatter registrations wait for the same body: the `register()` of each factory in marimo's table
   of third-party formatters takes `IMPORT_LOCK` first, which this body holds while it imports.
   A marimo that no longer has that table fails tests/test_lesson_imports.py.

On Python 3.11 it also lets one thread at a time build Python AST objects (see `_serialize_ast_building`): marimo
compiles every cell of a new tab's lesson, and 3.11's parser is not safe in threads.

It also does once per process what every new tab would otherwise do again, identically (see
`_share_what_every_tab_repeats`): parsing the lesson's file and rendering its markdown. Every student arriving on a
lesson server costs the server CPU time (docs/class.md), and these two were a sixth of it.

`digitcore lesson` (and so `digitcore class`, whose workers are `digitcore lesson`) imports this module before
marimo serves at all, so there neither race can even begin. Under plain `marimo run`, the parser is guarded from
the first setup cell on: the tabs of the very first moment compile their cells before any lesson code has run.
"""

import ast
import functools
import sys
import threading

IMPORT_LOCK = threading.RLock()  # held while the heavy imports run; marimo's formatter registrations wait on it


def _register_after_imports(register):
    def register_when_imports_are_done():
        with IMPORT_LOCK:
            return register()

    register_when_imports_are_done.digitcore_guarded = True
    return register_when_imports_are_done


def _guard_marimo_formatters() -> bool:
    """Make each of marimo's third-party formatter factories wait for IMPORT_LOCK in `register()`; True when they
    do. The method is replaced on the factory objects themselves (not in marimo's table), so that a registration
    already under way on another thread looks it up only after it has seen torch in `sys.modules`."""
    try:
        from marimo._output.formatters import formatters
    except ImportError:
        return False
    table = getattr(formatters, "THIRD_PARTY_FACTORIES", None)
    if not isinstance(table, dict) or not table:
        return False
    for factory in table.values():
        if not getattr(factory.register, "digitcore_guarded", False):
            factory.register = _register_after_imports(factory.register)
    return True


AST_LOCK = threading.RLock()  # one thread at a time builds Python AST objects (Python 3.11 only)


def _one_at_a_time(function):
    @functools.wraps(function)
    def one_at_a_time(*args, **kwargs):
        with AST_LOCK:
            return function(*args, **kwargs)

    one_at_a_time.digitcore_serialized = True
    return one_at_a_time


def _serialize_ast_building() -> None:
    """Let one thread at a time build Python AST objects. Python 3.11 keeps the AST constructor's recursion depth in
    interpreter-wide state, so two threads doing it at once (two tabs' kernels compiling the lesson's cells) can
    fail with `SystemError: AST constructor recursion depth mismatch`, and that tab shows an internal error in its
    setup cell. The ways in are `ast.parse` and `compile(..., flags=ast.PyCF_ONLY_AST)`; marimo calls the latter
    in two modules, which get a serialized `compile` of their own (always with dont_inherit=True there, so it
    compiles exactly as before). tests/test_lesson_imports.py reproduces the failure on 3.11.7; 3.12 is safe."""
    import importlib

    if not getattr(ast.parse, "digitcore_serialized", False):
        ast.parse = _one_at_a_time(ast.parse)
    for name in ("marimo._ast.compiler", "marimo._ast.transformers"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if not getattr(getattr(module, "compile", None), "digitcore_serialized", False):
            module.compile = _one_at_a_time(compile)


def _remember(function, size: int = 4096):
    """`function` with its results kept by its arguments (all hashable strings here)."""
    remembered = functools.lru_cache(maxsize=size)(function)
    remembered.digitcore_shared = True
    return remembered


def _share_what_every_tab_repeats() -> bool:
    """In `marimo run` each new tab makes marimo read and parse the lesson's file twice (for the page, and for the
    session) and render every `mo.md` text of the lesson again. Both are pure functions of their text, so one
    process does each once: the parse by (file contents, path), the markdown by its text. What they return is only
    read afterwards (marimo builds a fresh App from the parsed notebook each time). True when both are shared; a
    marimo without these functions fails tests/test_lesson_imports.py rather than a lesson."""
    try:
        from marimo._output import md
        from marimo._session.notebook.serializer import PythonNotebookSerializer
    except ImportError:
        return False
    if not callable(getattr(md, "_render_markdown", None)) or not callable(PythonNotebookSerializer.deserialize):
        return False
    if not getattr(md._render_markdown, "digitcore_shared", False):
        md._render_markdown = _remember(md._render_markdown)
    deserialize = PythonNotebookSerializer.deserialize
    if not getattr(deserialize, "digitcore_shared", False):
        parsed = _remember(lambda content, filepath: deserialize(None, content, filepath=filepath), size=64)

        def shared_deserialize(self, content, filepath=None):
            return parsed(content, filepath)

        shared_deserialize.digitcore_shared = True
        shared_deserialize.parsed = parsed
        PythonNotebookSerializer.deserialize = shared_deserialize
    return True


if sys.version_info < (3, 12):
    _serialize_ast_building()
MARIMO_WORK_SHARED = _share_what_every_tab_repeats()

with IMPORT_LOCK:
    MARIMO_FORMATTERS_GUARDED = _guard_marimo_formatters()  # before torch can appear in sys.modules
    import altair  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import torch  # noqa: F401
    import torch.nn.functional  # noqa: F401

    from . import chapter, data, dataloader, exercises, learner, lesson_kit, models, plots, training  # noqa: F401
