"""The classifier around a pretrained base, shared by every model that has one.

    image [0, 1] (any size, 1 or 3 channels)
      -> to RGB, resized to ``input_size`` (only when it differs; default: as transformed)
      -> [RandomFlip('horizontal') + RandomRotation(0.2)]      (option ``augment``)
      -> the base's own preprocessing (inside the graph: served models take raw images)
      -> base (frozen and in inference mode when it has weights)
      -> GlobalAveragePooling2D ("features") -> Dropout -> Dense(num_classes) logits

With several bases (``efficientnet_lite0_lite2``) each sees the same image
through its own preprocessing, and ``features`` concatenates their pooled
features.

With weights the base is frozen and called with ``training=False`` (its
BatchNormalization statistics stay put, also once unfrozen for fine-tuning),
and the Trainer trains the head on the pooled ``features`` computed once
(:mod:`imagepipe.components.trainer.frozen_features`) unless augmentation is
on. Without weights the whole network trains from the start.
"""

from __future__ import annotations

from typing import Sequence, Tuple

import tensorflow as tf
import tf_keras as keras
from tf_keras import layers

from imagepipe.components import augment
from imagepipe.components.settings import MIN_INPUT_SIZE
from .registry import ModelSpec

FEATURES_LAYER = "features"
HEAD_DROPOUT_LAYER = "head_dropout"
PRETRAINED_OPTIONS = ("weights", "augment", "mirror", "input_size", "fine_tune_blocks",
                      "dropout")


@keras.saving.register_keras_serializable(package="imagepipe")
class ToRgbOfSize(layers.Layer):
    """Turns [0, 1] images into ``size`` x ``size`` x 3: gray repeated to RGB, resized if needed."""

    def __init__(self, size: int, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)

    def call(self, images: tf.Tensor) -> tf.Tensor:
        if images.shape[-1] == 1:
            images = tf.image.grayscale_to_rgb(images)
        if images.shape[1] != self.size or images.shape[2] != self.size:
            images = tf.image.resize(images, [self.size, self.size])
        return images

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size}


def input_size(spec: ModelSpec) -> int:
    """The side the base sees: the option, else the transformed image's (at least 32)."""
    return spec.options.input_size or max(int(spec.input_shape[0]), MIN_INPUT_SIZE)


def classifier_on_base(spec: ModelSpec, base: keras.Model, preprocess: layers.Layer,
                       default_dropout: float, name: str) -> keras.Model:
    """The classifier around ``base`` (built for :func:`input_size`), uncompiled, logits out.

    Args:
      spec: what the model is built for; its options choose weights,
        augmentation and dropout.
      base: the pretrained base (without its top), weights already loaded.
      preprocess: maps [0, 1] RGB images to the base's input convention.
      default_dropout: the head's dropout rate when the option is not set.
      name: the model's name.
    """
    return classifier_on_bases(spec, [(base, preprocess)], default_dropout, name)


def classifier_on_bases(spec: ModelSpec, bases: Sequence[Tuple[keras.Model, layers.Layer]],
                        default_dropout: float, name: str) -> keras.Model:
    """The classifier around one or more bases side by side, uncompiled, logits out.

    Every base sees the same image (resized once to :func:`input_size`, after
    the augmentation) through its own preprocessing; with several bases the
    ``features`` layer concatenates their pooled features, so the head (and
    the features computed once for it) sees all of them.

    Args:
      spec: what the model is built for; its options choose weights,
        augmentation and dropout.
      bases: (base without its top, weights loaded; its preprocessing layer) pairs.
      default_dropout: the head's dropout rate when the option is not set.
      name: the model's name.
    """
    options = spec.options
    inputs = keras.Input(shape=spec.input_shape, name=spec.input_name)
    x = ToRgbOfSize(input_size(spec), name="to_rgb")(inputs)
    if options.augment:
        x = augment.augmentation_layers()(x)
    single = len(bases) == 1
    pooled = []
    for base, preprocess in bases:
        if options.pretrained:
            base.trainable = False
            features = base(preprocess(x), training=False)
        else:
            features = base(preprocess(x))
        pooled.append(layers.GlobalAveragePooling2D(
            name=FEATURES_LAYER if single else f"{base.name}_pooled")(features))
    x = pooled[0] if single else layers.Concatenate(name=FEATURES_LAYER)(pooled)
    x = layers.Dropout(options.dropout_or(default_dropout), name=HEAD_DROPOUT_LAYER)(x)
    logits = layers.Dense(spec.num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name=name)
