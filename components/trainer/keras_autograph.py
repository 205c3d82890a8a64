"""tf_keras runs as written, not rewritten by AutoGraph, as Keras 2 always did.

TensorFlow never lets AutoGraph convert the ``keras`` package (the
``DoNotConvert('keras')`` rule in ``tensorflow/python/autograph/core/config.py``):
Keras 2 is written to be traced as it is, and converts the ``call`` of user
layers itself (``Layer.__call__`` wraps it in ``autograph.tf_convert``). The same
code under its new name, ``tf_keras``, is not on that list, so the first
``model.fit``, ``evaluate`` and every export re-parse and rewrite the source of
tf_keras's train step, layers, losses and metrics: about 13 s per function on
2 cores for arch5 (``bench/pipeline_bench.py`` shows it as the first epoch's
extra seconds), and the graph that comes out is the same.

:func:`trace_tf_keras_as_written` adds the missing rule. User code keeps its
conversion: layers defined outside tf_keras are still converted by Keras, and
``tf.function``\\ s of our own are converted as before.
"""

from __future__ import annotations

from tensorflow.python.autograph.core import config as autograph_config

TF_KERAS = "tf_keras"


def _rule_is_present() -> bool:
    return any(isinstance(rule, autograph_config.DoNotConvert) and rule.matches(TF_KERAS)
               for rule in autograph_config.CONVERSION_RULES)


def trace_tf_keras_as_written() -> None:
    """Puts tf_keras beside keras on AutoGraph's do-not-convert list (idempotent)."""
    if not _rule_is_present():
        autograph_config.CONVERSION_RULES = (
            (autograph_config.DoNotConvert(TF_KERAS),) + tuple(autograph_config.CONVERSION_RULES))
