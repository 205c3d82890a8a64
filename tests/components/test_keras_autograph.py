"""tf_keras is traced as written (as Keras 2 always was); user layers are still converted."""

import subprocess
import sys

import numpy as np
import tensorflow as tf
import tf_keras as keras
from tensorflow.python.autograph.core import config as autograph_config
from tensorflow.python.autograph.impl import conversion

from imagepipe.components.trainer import keras_autograph


class SignFlip(keras.layers.Layer):
    """A user layer with Python control flow on a tensor: only runs in a graph when converted."""

    def call(self, inputs):
        if tf.reduce_mean(inputs) > 0:
            return inputs
        return -inputs


def test_tf_keras_code_is_left_as_written_and_the_rule_is_added_once():
    keras_autograph.trace_tf_keras_as_written()
    keras_autograph.trace_tf_keras_as_written()
    rules = [rule for rule in autograph_config.CONVERSION_RULES
             if isinstance(rule, autograph_config.DoNotConvert) and rule.matches("tf_keras")]
    assert len(rules) == 1
    assert conversion.is_allowlisted(keras.Model.train_step)
    assert conversion.is_allowlisted(keras.layers.Conv2D.call)


def test_without_the_rule_tensorflow_converts_tf_keras_before_2_21():
    # A fresh process: the fact the module works around. TF 2.21 (the TFX 1.21 stack) lists
    # tf_keras itself; TF 2.16 (TFX 1.16) converts it unless the rule is added.
    code = ("from tensorflow.python.autograph.impl import conversion; import tf_keras; "
            "print(conversion.is_allowlisted(tf_keras.Model.train_step))")
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout.split()
    tensorflow_lists_tf_keras = tuple(map(int, tf.__version__.split(".")[:2])) >= (2, 21)
    assert printed[-1] == str(tensorflow_lists_tf_keras)


def test_user_layers_keep_their_conversion_in_graph_functions():
    keras_autograph.trace_tf_keras_as_written()
    model = keras.Sequential([keras.Input((3,)), SignFlip()])
    positive = np.array([[1.0, 2.0, 3.0]], np.float32)
    # predict runs a tf.function: the layer's `if` on a tensor needs Keras's own conversion.
    np.testing.assert_allclose(model.predict(positive, verbose=0), positive)
    np.testing.assert_allclose(model.predict(-positive, verbose=0), positive)


def test_training_still_learns_after_the_rule():
    keras_autograph.trace_tf_keras_as_written()
    keras.utils.set_random_seed(3)
    x = np.random.default_rng(3).normal(size=(256, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.05),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
