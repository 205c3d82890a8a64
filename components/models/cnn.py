"""The lab report's small CNNs for 28x28x1 Fashion-MNIST images.

Every model ends in a Dense layer of logits (the report's relu output layer
was a bug). ``AveragePooling2D(strides=(2, 2))`` in the report relied on
Keras 2's default ``pool_size=(2, 2)``, written out here.
"""

from __future__ import annotations

import tf_keras as keras
from tf_keras import layers

from .registry import ModelSpec, register


def _input(spec: ModelSpec) -> keras.Input:
    return keras.Input(shape=spec.input_shape, name=spec.input_name)


@register("arch5")
def arch5(spec: ModelSpec) -> keras.Model:
    """Architecture 5 of the report (10 layers)."""
    inputs = _input(spec)
    x = layers.Conv2D(32, (3, 3), activation="relu")(inputs)
    x = layers.MaxPool2D(pool_size=(2, 2), strides=(2, 2))(x)
    x = layers.Conv2D(64, (3, 3), activation="relu")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = layers.Conv2D(128, (3, 3), activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(64, activation="relu")(x)
    logits = layers.Dense(spec.num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name="arch5")


def _proposed(spec: ModelSpec, dropout: bool, name: str) -> keras.Model:
    inputs = _input(spec)
    x = layers.Conv2D(32, (3, 3), activation="relu")(inputs)
    x = layers.MaxPooling2D(pool_size=(2, 2), strides=(2, 2))(x)
    if dropout:
        x = layers.Dropout(0.2)(x)
    x = layers.Conv2D(64, (3, 3), activation="relu")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2), strides=(2, 2))(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.2)(x)
    x = layers.Conv2D(128, (3, 3), activation="relu")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2), strides=(2, 2))(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    logits = layers.Dense(spec.num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name=name)


@register("proposed")
def proposed(spec: ModelSpec) -> keras.Model:
    """The report's proposed model ("model3"): architecture 10 plus two Dropout layers."""
    return _proposed(spec, dropout=True, name="proposed")


@register("arch10")
def arch10(spec: ModelSpec) -> keras.Model:
    """Architecture 10 of the report: the proposed model without its Dropout layers."""
    return _proposed(spec, dropout=False, name="arch10")
