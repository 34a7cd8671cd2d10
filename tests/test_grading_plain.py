"""plain.py: what crosses from a student's worker to the grader, and how garbage is refused."""

import base64
import json
import math

import pytest
import torch

from digitcore.grading.sandboxed.plain import GarbledError, from_plain, to_plain


def roundtrip(x):
    return from_plain(json.loads(json.dumps(to_plain(x), allow_nan=False)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
                                   torch.int32, torch.uint8, torch.int8, torch.bool])
def test_tensors_round_trip_exactly(dtype):
    t = (torch.arange(24).reshape(2, 3, 4) - 7).to(dtype)
    back = roundtrip(t)
    assert type(back) is torch.Tensor and back.dtype == dtype and back.shape == t.shape
    assert torch.equal(back, t)


def test_odd_tensors_round_trip():
    base = torch.arange(12.0).reshape(3, 4)
    for t in (base.t(), base[:, ::2], torch.tensor(3.5), torch.empty(0, 5), base.requires_grad_()[1:],
              torch.nn.Parameter(torch.ones(2))):
        back = roundtrip(t)
        assert type(back) is torch.Tensor and not back.requires_grad
        assert back.shape == t.shape and torch.equal(back, t.detach())


def test_python_values_round_trip():
    value = {"a": [1, 2.5, None, True, "x"], "t": (1, (2, 3)), "nan": math.nan, "inf": -math.inf,
             "nested": {"__tensor__": "a user dict that looks like a marker"}}
    back = roundtrip(value)
    assert back["a"] == [1, 2.5, None, True, "x"]
    assert back["t"] == (1, (2, 3))
    assert math.isnan(back["nan"]) and back["inf"] == -math.inf
    assert back["nested"] == {"__tensor__": "a user dict that looks like a marker"}


class Liar:
    def __eq__(self, other):
        return True

    def __repr__(self):
        raise SystemExit("repr must never be called")


class Sub(torch.Tensor):
    pass


def test_anything_else_is_named_not_kept():
    assert to_plain(Liar()) == {"__unplain__": "Liar"}
    assert to_plain(torch.ones(3).as_subclass(Sub)) == {"__unplain__": "Sub"}
    assert to_plain(True.__class__) == {"__unplain__": "type"}
    assert to_plain({1: 2}) == {"__unplain__": "dict with non-str keys"}

    class MyList(list):
        pass

    assert to_plain(MyList([1])) == {"__unplain__": "MyList"}
    assert "__unplain__" in to_plain(torch.ones(2, dtype=torch.complex64))


def test_to_plain_never_raises():
    cyclic = []
    cyclic.append(cyclic)
    assert "__unplain__" in json.dumps(to_plain(cyclic))
    deep = []
    for _ in range(5000):
        deep = [deep]
    json.dumps(to_plain(deep))
    assert to_plain(list(range(200_000))) == {"__unplain__": "too many items"}


def tensor_record(**overrides):
    rec = {"dtype": "float32", "shape": [2], "data": base64.b64encode(b"\0" * 8).decode()}
    rec.update(overrides)
    return {"__tensor__": rec}


@pytest.mark.parametrize("garbage", [
    tensor_record(dtype="float128"),
    tensor_record(dtype=7),
    tensor_record(shape=[3]),
    tensor_record(shape=[-2]),
    tensor_record(shape="2"),
    tensor_record(data="not base64!"),
    tensor_record(data=None),
    {"__tensor__": {"dtype": "float32", "shape": [2]}},
    {"__tensor__": [1, 2]},
    {"__float__": "zero"},
    {"__tuple__": "abc"},
    {"__dict__": [1]},
    {"a": {1, 2}},
    b"bytes",
])
def test_garbled_plain_data_is_refused(garbage):
    with pytest.raises(GarbledError):
        from_plain(garbage)


def test_unplain_survives_for_judges_to_fail():
    assert from_plain({"__unplain__": "Liar"}) == {"__unplain__": "Liar"}
