"""Plain data: the only thing that crosses from a student's worker back to the grader.

to_plain runs in the worker and never raises; it looks only at exact built-in types and exact tensors, so a
student's object never runs its own __eq__, __repr__ or __torch_function__. from_plain runs on the trusted side
and trusts nothing: anything malformed raises GarbledError, and the check fails.
"""

import base64
import math

import torch

MAX_DEPTH = 32
MAX_ITEMS = 100_000          # list items + dict entries in one observation
MAX_TENSOR_BYTES = 64 << 20
MAX_DIM = MAX_TENSOR_BYTES    # no axis longer than the bytes a tensor may hold (zero-size tensors included)

DTYPES = {name: getattr(torch, name) for name in ("float16", "bfloat16", "float32", "float64", "uint8", "int8", "int16",
                                                  "int32", "int64", "bool")}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}
MARKERS = ("__tensor__", "__unplain__", "__float__", "__tuple__", "__dict__")


class GarbledError(ValueError):
    """Plain data that does not decode: the observation is treated as wrong."""


def to_plain(obj) -> object:
    """Convert an observation to JSON-able plain data. Never raises."""
    try:
        return _to_plain(obj, 0, [MAX_ITEMS])
    except BaseException as e:  # noqa: BLE001 - a student's patched torch may raise anything, even SystemExit
        return {"__unplain__": f"unconvertible ({type(e).__name__})"}


def _to_plain(obj, depth, budget):
    t = type(obj)
    if obj is None or t is bool or t is str:
        return obj
    if t is int:
        return obj if abs(obj) < 1 << 63 else {"__float__": repr(float(obj))}
    if t is float:
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if depth >= MAX_DEPTH:
        return {"__unplain__": "too deeply nested"}
    if t is torch.Tensor or t is torch.nn.Parameter:
        return _tensor_to_plain(obj)
    if t is list or t is tuple or t is dict:
        budget[0] -= len(obj)
        if budget[0] < 0:
            return {"__unplain__": "too many items"}
    if t is list or t is tuple:
        items = [_to_plain(x, depth + 1, budget) for x in (list.__iter__(obj) if t is list else tuple.__iter__(obj))]
        return items if t is list else {"__tuple__": items}
    if t is dict:
        if any(type(k) is not str for k in dict.keys(obj)):
            return {"__unplain__": "dict with non-str keys"}
        out = {k: _to_plain(v, depth + 1, budget) for k, v in dict.items(obj)}
        return {"__dict__": out} if any(k in MARKERS for k in out) else out
    return {"__unplain__": t.__name__}


def _tensor_to_plain(t):
    t = torch.Tensor.detach(t)
    if t.layout != torch.strided or t.dtype not in DTYPE_NAMES or t.is_quantized:
        return {"__unplain__": f"tensor ({t.dtype}, {t.layout})"}
    if t.numel() * t.element_size() > MAX_TENSOR_BYTES:
        return {"__unplain__": "tensor too large"}
    shape = [int(s) for s in t.shape]
    flat = t.cpu().resolve_conj().resolve_neg().contiguous().reshape(-1)
    raw = bytes(flat.view(torch.uint8).numpy().tobytes()) if flat.numel() else b""
    return {"__tensor__": {"dtype": DTYPE_NAMES[t.dtype], "shape": shape, "data": base64.b64encode(raw).decode()}}


def from_plain(p, depth: int = 0) -> object:
    """Rebuild python values and fresh plain CPU tensors; GarbledError on anything malformed."""
    if depth > MAX_DEPTH + 2:
        raise GarbledError("nested too deeply")
    t = type(p)
    if p is None or t in (bool, int, float, str):
        return p
    if t is list:
        return [from_plain(x, depth + 1) for x in p]
    if t is not dict:
        raise GarbledError(f"unexpected {t.__name__}")
    if len(p) == 1:
        (key, value), = p.items()
        if key == "__tensor__":
            return _tensor_from_plain(value)
        if key == "__unplain__":
            return p  # an object the worker could not send: judges see this dict and fail the check
        if key == "__float__":
            try:
                return float(value if type(value) is str else "not a float")
            except ValueError:
                raise GarbledError("bad float") from None
        if key == "__tuple__":
            if type(value) is not list:
                raise GarbledError("bad tuple")
            return tuple(from_plain(x, depth + 1) for x in value)
        if key == "__dict__":
            if type(value) is not dict:
                raise GarbledError("bad dict")
            p = value
    if any(type(k) is not str for k in p):
        raise GarbledError("non-str key")
    return {k: from_plain(v, depth + 1) for k, v in p.items()}


def _tensor_from_plain(v):
    if type(v) is not dict or set(v) != {"dtype", "shape", "data"}:
        raise GarbledError("bad tensor record")
    dtype = DTYPES.get(v["dtype"]) if type(v["dtype"]) is str else None
    shape = v["shape"]
    if dtype is None:
        raise GarbledError(f"unknown dtype {v['dtype']!r}")
    if type(shape) is not list or len(shape) > 16 or any(type(s) is not int or not 0 <= s <= MAX_DIM for s in shape):
        raise GarbledError("bad shape")
    if math.prod(s for s in shape if s) * torch.empty((), dtype=dtype).element_size() > MAX_TENSOR_BYTES:
        raise GarbledError("tensor too large")   # zero-size or not: torch could not even lay out its strides
    if type(v["data"]) is not str or len(v["data"]) > 2 * MAX_TENSOR_BYTES:
        raise GarbledError("bad data")
    try:
        raw = base64.b64decode(v["data"].encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as e:
        raise GarbledError("bad base64") from e
    n = math.prod(shape)
    if len(raw) != n * torch.empty((), dtype=dtype).element_size():
        raise GarbledError("data size does not match shape and dtype")
    if n == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape).clone()
