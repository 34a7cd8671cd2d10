"""Only for lessons 02 and 04, which still import `exercise_feedback` from here: their next edit imports it from
digitcore.lesson_kit, and then this file goes. What was here is now split by job: digitcore.lesson_kit (what needs
marimo), digitcore.training, digitcore.verdict and digitcore.replay (what does not)."""

from .lesson_kit.feedback import exercise_feedback

__all__ = ["exercise_feedback"]
