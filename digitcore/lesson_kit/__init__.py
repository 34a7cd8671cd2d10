"""What a lesson's cells need from marimo, one module per job, so that each cell a student reads teaches:

    feedback    exercise_feedback(result): one callout per exercise check
    training    train_live / run_view / lab_sweep / lab_verdict: training shown as it happens, and judged
    lab_charts  lab_curves / lr_chart / update_curve: the lab's charts on fixed axes
    weights     weights_view: the weights at any snapshot, and which pixels voted on the worst mistakes
    player      player_buttons / follow_play / snapshot_slider: play a run's snapshots
    shared      once_per_process(fn, *args): computed once, shared by every tab

What needs no marimo (training runs, verdicts, loaders, what snapshots say) is in digitcore.training,
digitcore.verdict, digitcore.dataloader and digitcore.replay. The names below are what the lessons call as
`lesson_kit.NAME`.
"""

from .feedback import exercise_feedback
from .lab_charts import lab_curves, lr_chart, update_curve
from .player import follow_play, played_to, player_buttons, snapshot_slider, step_after
from .shared import once_per_process
from .training import lab_sweep, lab_verdict, run_view, train_live
from .weights import signed_img, weights_view

__all__ = ["exercise_feedback", "follow_play", "lab_curves", "lab_sweep", "lab_verdict", "lr_chart",
           "once_per_process", "played_to", "player_buttons", "run_view", "signed_img", "snapshot_slider",
           "step_after", "train_live", "update_curve", "weights_view"]
