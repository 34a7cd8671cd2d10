"""Lesson 10, the chapter's questionnaire: all 37 questions, each pointing at a section that exists, and every
coding question's check saying 'right' to a right answer and naming the mistake in a wrong one."""

import importlib
import re
import sys
from pathlib import Path

import pytest
import torch

LESSONS = Path(__file__).resolve().parent.parent / "lessons"


@pytest.fixture(scope="module")
def q10():
    sys.path.insert(0, str(LESSONS))
    try:
        return importlib.import_module("10_questionnaire")
    finally:
        sys.path.remove(str(LESSONS))


def headings(stem: str) -> set[str]:
    """The markdown headings (any level) written in a lesson's cells."""
    text = (LESSONS / f"{stem}.py").read_text(encoding="utf-8")
    return {m.group(1).strip() for m in re.finditer(r"^\s*#{1,4} (.+)$", text, flags=re.M)}


def test_all_37_questions_in_order_with_an_answer(q10):
    assert [q["n"] for q in q10.QUESTIONS] == list(range(1, 38))
    for q in q10.QUESTIONS:
        assert q["q"].strip() and q["answer"].strip() and q["where"], q["n"]
    parts = [(lo, hi) for _, lo, hi in q10.PARTS]
    assert parts[0][0] == 1 and parts[-1][1] == 37
    assert all(a[1] + 1 == b[0] for a, b in zip(parts, parts[1:])), parts


def test_the_coding_questions_are_checked(q10):
    coded = {q["n"] for q in q10.QUESTIONS if "code" in q}
    assert {4, 9, 26, 29, 34} <= coded
    for q in q10.QUESTIONS:
        if "code" in q:
            assert callable(getattr(q10, q["code"])) and q["code"] in q10.MODEL_CODE, q["n"]


def test_every_question_points_at_a_section_that_exists():
    """The links are lesson + heading; a renamed heading elsewhere must be caught here, not by a reader."""
    sys.path.insert(0, str(LESSONS))
    try:
        questions = importlib.import_module("10_questionnaire").QUESTIONS
    finally:
        sys.path.remove(str(LESSONS))
    missing = [(q["n"], stem, heading) for q in questions for stem, heading in q["where"]
               if not (LESSONS / f"{stem}.py").exists() or heading not in headings(stem)]
    assert not missing, f"questions pointing at sections that do not exist (number, lesson, heading): {missing}"


def test_the_shipped_functions_are_stubs(q10):
    checks = {4: (q10.check_odd_doubled, q10.odd_doubled), 6: (q10.check_rank_of, q10.rank_of),
              7: (q10.check_l1_and_rmse, q10.l1_and_rmse), 9: (q10.check_double_and_corner, q10.double_and_corner),
              26: (q10.check_pair_up, q10.pair_up), 29: (q10.check_matmul, q10.matmul),
              34: (q10.check_relu, q10.relu)}
    for n, (check, stub) in checks.items():
        kind, message = check(stub)
        assert kind == "neutral" and "not started" in message, (n, kind, message)


def right(result) -> None:
    kind, message = result
    assert kind == "success", message


def wrong(result, *words) -> None:
    kind, message = result
    assert kind == "warn", message
    assert "Traceback" not in message
    for w in words:
        assert w in message, (w, message)


def test_q4_list_comprehension(q10):
    right(q10.check_odd_doubled(lambda nums: [2 * x for x in nums if x % 2]))
    wrong(q10.check_odd_doubled(lambda nums: [2 * x for x in nums]), "only the odd ones")
    wrong(q10.check_odd_doubled(lambda nums: [x for x in nums if x % 2]), "not doubled")
    wrong(q10.check_odd_doubled(lambda nums: (2 * x for x in nums if x % 2)), "generator")


def test_q6_rank_from_shape(q10):
    right(q10.check_rank_of(lambda t: len(t.shape)))
    right(q10.check_rank_of(lambda t: t.ndim))
    wrong(q10.check_rank_of(lambda t: t.shape), "the shape itself")
    wrong(q10.check_rank_of(lambda t: t.numel()), "number of elements")


def test_q7_l1_and_rmse(q10):
    right(q10.check_l1_and_rmse(lambda a, b: ((a - b).abs().mean(), ((a - b) ** 2).mean().sqrt())))
    right(q10.check_l1_and_rmse(lambda a, b: (torch.nn.functional.l1_loss(a, b),
                                              torch.nn.functional.mse_loss(a, b).sqrt())))
    wrong(q10.check_l1_and_rmse(lambda a, b: ((a - b).abs().mean(), ((a - b) ** 2).mean())), "square root")
    wrong(q10.check_l1_and_rmse(lambda a, b: ((a - b).mean(), ((a - b) ** 2).mean().sqrt())), ".abs()")
    wrong(q10.check_l1_and_rmse(lambda a, b: (((a - b) ** 2).mean().sqrt(), (a - b).abs().mean())), "swapped")


def test_q9_double_and_corner(q10):
    right(q10.check_double_and_corner(lambda: (torch.arange(1, 10).view(3, 3) * 2)[1:, 1:]))
    right(q10.check_double_and_corner(lambda: [[10, 12], [16, 18]]))
    wrong(q10.check_double_and_corner(lambda: torch.arange(1, 10).view(3, 3)[1:, 1:]), "not doubled")
    wrong(q10.check_double_and_corner(lambda: (torch.arange(1, 10).view(3, 3) * 2)[:2, :2]), "top-left")


def test_q26_zip(q10):
    right(q10.check_pair_up(lambda a, b: list(zip(a, b))))
    right(q10.check_pair_up(lambda a, b: [(a[i], b[i]) for i in range(len(a))]))
    wrong(q10.check_pair_up(lambda a, b: zip(a, b)), "lazy")
    wrong(q10.check_pair_up(lambda a, b: [[x, y] for x, y in zip(a, b)]), "tuples")
    wrong(q10.check_pair_up(lambda a, b: list(zip(b, a))), "wrong way round")


def test_q29_matrix_multiplication(q10):
    right(q10.check_matmul(lambda a, b: (a[:, :, None] * b[None]).sum(1)))

    def loops(a, b):
        out = torch.zeros(a.shape[0], b.shape[1])
        for i in range(a.shape[0]):
            for j in range(b.shape[1]):
                out[i, j] = (a[i] * b[:, j]).sum()
        return out

    right(q10.check_matmul(loops))
    wrong(q10.check_matmul(lambda a, b: a * b), "element-wise")
    wrong(q10.check_matmul(lambda a, b: (a[:, :, None] * b[None]).sum(1).T), "transposed")
    wrong(q10.check_matmul(lambda a, b: a @ b), "with `@`")
    wrong(q10.check_matmul(lambda a, b: torch.matmul(a, b)), "with `@`")


def test_q34_relu(q10):
    right(q10.check_relu(lambda x: x.clamp(min=0)))
    right(q10.check_relu(lambda x: torch.where(x > 0, x, 0.0)))
    wrong(q10.check_relu(lambda x: x.abs()), "absolute value")
    wrong(q10.check_relu(lambda x: (x > 0).float()), "step")
    wrong(q10.check_relu(lambda x: x.clamp_(min=0)), "in place")
    wrong(q10.check_relu(lambda x: torch.relu(x)), "torch's own relu")


def test_q34_draws_your_relu_from_minus_2_to_2(q10):
    spec = q10.answer_chart("relu", lambda x: x.clamp(min=0)).to_dict()
    assert spec["encoding"]["x"]["scale"]["domain"] == [-2.0, 2.0]
    values = next(iter(spec["datasets"].values()))
    assert min(v["y"] for v in values) == 0.0 and max(v["y"] for v in values) == pytest.approx(2.0)
