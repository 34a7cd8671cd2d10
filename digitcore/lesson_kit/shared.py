"""Results computed once per process and shared by every tab of a lesson server.

    accs = lesson_kit.once_per_process(train_model_chain, data)   # the first tab computes it; the others reuse it
"""

from __future__ import annotations

import inspect

_SHARED: dict[tuple, tuple] = {}


def _arg_key(arg) -> object:
    return arg if isinstance(arg, (bool, int, float, str)) else id(arg)


def once_per_process(fn, *args):
    """fn(*args), computed once per process and shared by every tab of a lesson server (treat it as read-only).

    marimo gives each tab its own copy of a lesson's functions, so the key is fn's name and source text, not the
    function object; an argument counts by value when it is a number or a string, else by identity (the
    arguments are held with the result, so an identity cannot be reused while the entry lives)."""
    key = (fn.__qualname__, inspect.getsource(fn), *(_arg_key(a) for a in args))
    if key not in _SHARED:
        if len(_SHARED) >= 32:
            _SHARED.pop(next(iter(_SHARED)))
        _SHARED[key] = (args, fn(*args))
    return _SHARED[key][1]
