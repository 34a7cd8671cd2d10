"""Hidden check for train_epoch: a two-layer net trained over a generator of uneven batches."""

from functools import partial

from digitcore.exercises import Check, probes
from digitcore.exercises.common import judge
from digitcore.exercises.train_epoch import EXERCISE, judge_params, make_input

HIDDEN_CHECKS = [
    Check(EXERCISE, "hidden_simple_net", "hidden: a two-layer net over a generator of uneven batches", 1.0,
          probes.probe_train_epoch,
          partial(make_input, model="simple_net", loader="generator", n_batches=3, bs=7, last=2, lrs=(0.3,),
                  offset=9200),
          judge(partial(judge_params, title="hidden", hidden=True)), hidden=True),
]
