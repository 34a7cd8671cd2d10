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
`_share_what_every_tab_repeats` and `_share_cell_compiles`): parsing the lesson's file, compiling its cells and
rendering its markdown. Every student arriving on a lesson server costs the server CPU time (docs/class.md), and
these were more than half of it.

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


def _fresh_cell(template):
    """A new CellImpl like `template`: what compiling found (code objects, AST, names) is shared, as marimo's own
    `App.clone` shares it; every field a kernel changes (config, import workspace, run state, output) is a copy of
    the template's untouched value, and the name sets are copies too."""
    import copy
    import dataclasses

    values = {}
    for f in dataclasses.fields(template):
        value = getattr(template, f.name)
        if f.default_factory is not dataclasses.MISSING:
            value = copy.deepcopy(value)
        elif isinstance(value, (set, dict, list)):
            value = copy.copy(value)
        values[f.name] = value
    return type(template)(**values)


def _share_cell_compiles() -> bool:
    """Each new tab compiles every cell of the lesson three times: for the page, for the session and in its
    kernel (marimo's `compile_cell`: parse, scope analysis, two `compile()`s), and its kernel parses the whole file
    once more to find the cells' line numbers. All are pure functions of the cell's code, its id (marimo numbers
    the cells of a file alike in every session) and the file, so one process does each once and hands every
    caller a fresh CellImpl (`_fresh_cell`). A cell compiled with anything else (carried imports, a test rewrite,
    a given source position) is compiled as before. True when shared; a marimo without these functions fails
    tests/test_lesson_imports.py rather than a lesson."""
    import importlib
    import os

    try:
        compiler = importlib.import_module("marimo._ast.compiler")
        parse = importlib.import_module("marimo._ast.parse")
        runtime = importlib.import_module("marimo._runtime.runtime")
    except ImportError:
        return False
    if not all(callable(getattr(m, n, None)) for m, n in
               ((compiler, "compile_cell"), (runtime, "compile_cell"), (parse, "parse_notebook"))):
        return False
    if not getattr(parse.parse_notebook, "digitcore_shared", False):
        parse.parse_notebook = _remember(parse.parse_notebook, size=64)
    compile_cell = compiler.compile_cell
    if getattr(compile_cell, "digitcore_shared", False):
        return True
    template = _remember(lambda code, cell_id, filename, _file_version: compile_cell(code, cell_id, filename=filename))

    def compile_cell_once(code, cell_id, source_position=None, carried_imports=None, test_rewrite=False,
                          filename=None):
        if source_position is not None or carried_imports or test_rewrite:
            return compile_cell(code, cell_id, source_position=source_position, carried_imports=carried_imports,
                                test_rewrite=test_rewrite, filename=filename)
        version = None
        if filename is not None:  # the cell's line number comes from the file: an edited file compiles anew
            try:
                stat = os.stat(filename)
            except OSError:
                return compile_cell(code, cell_id, filename=filename)
            version = (stat.st_mtime_ns, stat.st_size)
        return _fresh_cell(template(code, cell_id, filename, version))

    compile_cell_once.digitcore_shared = True
    compile_cell_once.template = template
    compiler.compile_cell = runtime.compile_cell = compile_cell_once
    return True


if sys.version_info < (3, 12):
    _serialize_ast_building()
MARIMO_WORK_SHARED = _share_what_every_tab_repeats() and _share_cell_compiles()

with IMPORT_LOCK:
    MARIMO_FORMATTERS_GUARDED = _guard_marimo_formatters()  # before torch can appear in sys.modules
    import altair  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import torch  # noqa: F401
    import torch.nn.functional  # noqa: F401

    from . import chapter, data, dataloader, exercises, learner, lesson_kit, models, plots, training  # noqa: F401
