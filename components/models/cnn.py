"""The lab report's small CNNs for 28x28x1 Fashion-MNIST images.

Every model ends in a Dense layer of logits (the report's relu output layer
was a bug). ``AveragePooling2D(strides=(2, 2))`` in the report relied on
Keras 2's default ``pool_size=(2, 2)``, written out here.

The CNNs take two options (see :class:`ModelOptions`): ``width`` multiplies
every layer's filters and units (1.0: the report's sizes) and ``dropout``
sets the rate of their Dropout layers (default: the report's 0.2). The
tuner searches over both.
"""

from __future__ import annotations

import tf_keras as keras
from tf_keras import layers

from .registry import FASHION_MNIST, ModelSpec, register

CNN_OPTIONS = ("width", "dropout")
REPORT_DROPOUT = 0.2


def _input(spec: ModelSpec) -> keras.Input:
    return keras.Input(shape=spec.input_shape, name=spec.input_name)


@register("arch4", takes=CNN_OPTIONS, inputs=FASHION_MNIST)
def arch4(spec: ModelSpec) -> keras.Model:
    """A STAND-IN for architecture 4, whose layers the report does not give.

    The report names architecture 4 among those it compared but lists no
    layers for it. This is a sensible small CNN of the same family, not the
    report's model: Conv32-MaxPool-Conv64-MaxPool-Flatten-Dense128-Dropout-Dense.
    """
    o = spec.options
    inputs = _input(spec)
    x = layers.Conv2D(o.scaled(32), (3, 3), activation="relu")(inputs)
    x = layers.MaxPool2D(pool_size=(2, 2), strides=(2, 2))(x)
    x = layers.Conv2D(o.scaled(64), (3, 3), activation="relu")(x)
    x = layers.MaxPool2D(pool_size=(2, 2), strides=(2, 2))(x)
    x = layers.Flatten()(x)
    x = layers.Dense(o.scaled(128), activation="relu")(x)
    x = layers.Dropout(o.dropout_or(REPORT_DROPOUT))(x)
    logits = layers.Dense(spec.num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name="arch4")


@register("arch5", takes=CNN_OPTIONS, inputs=FASHION_MNIST)
def arch5(spec: ModelSpec) -> keras.Model:
    """Architecture 5 of the report (10 layers)."""
    o = spec.options
    inputs = _input(spec)
    x = layers.Conv2D(o.scaled(32), (3, 3), activation="relu")(inputs)
    x = layers.MaxPool2D(pool_size=(2, 2), strides=(2, 2))(x)
    x = layers.Conv2D(o.scaled(64), (3, 3), activation="relu")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = layers.Conv2D(o.scaled(128), (3, 3), activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(o.dropout_or(REPORT_DROPOUT))(x)
    x = layers.Dense(o.scaled(64), activation="relu")(x)
    logits = layers.Dense(spec.num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name="arch5")


def _proposed(spec: ModelSpec, dropout: bool, name: str) -> keras.Model:
    o = spec.options
    rate = o.dropout_or(REPORT_DROPOUT)
    inputs = _input(spec)
    x = layers.Conv2D(o.scaled(32), (3, 3), activation="relu")(inputs)
    x = layers.MaxPooling2D(pool_size=(2, 2), strides=(2, 2))(x)
    if dropout:
        x = layers.Dropout(rate)(x)
    x = layers.Conv2D(o.scaled(64), (3, 3), activation="relu")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2), strides=(2, 2))(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(rate)(x)
    x = layers.Conv2D(o.scaled(128), (3, 3), activation="relu")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2), strides=(2, 2))(x)
    x = layers.Flatten()(x)
    x = layers.Dense(o.scaled(128), activation="relu")(x)
    logits = layers.Dense(spec.num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name=name)


@register("proposed", takes=CNN_OPTIONS, inputs=FASHION_MNIST)
def proposed(spec: ModelSpec) -> keras.Model:
    """The report's proposed model ("model3"): architecture 10 plus two Dropout layers."""
    return _proposed(spec, dropout=True, name="proposed")


@register("arch10", takes=("width",), inputs=FASHION_MNIST)
def arch10(spec: ModelSpec) -> keras.Model:
    """Architecture 10 of the report: the proposed model without its Dropout layers."""
    return _proposed(spec, dropout=False, name="arch10")
