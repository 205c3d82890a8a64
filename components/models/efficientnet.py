"""``efficientnet_lite0``, ``efficientnet_lite2`` and both side by side: ImageNet weights offline.

    image [0, 1] (any size, 1 or 3 channels)
      -> to RGB, resized to ``input_size`` (only when it differs; default: as transformed)
      -> [RandomFlip('horizontal') + RandomRotation(0.2)]      (option ``augment``)
      -> (255 x - 127) / 128, the weights' input convention
      -> EfficientNet-Lite0 or -Lite2 base (weights none|imagenet|PATH)
      -> GlobalAveragePooling2D ("features") -> Dropout(0.2; Lite2 0.3) -> Dense(num_classes)

``efficientnet_lite0_lite2`` runs both bases on the same image and
concatenates their pooled features (1280 + 1280) before the head: two
different networks' features, which on real photos classify better together
than either alone, at the cost of both.

The preprocessing is part of the model, so the exported graph takes the same
raw image bytes as every imagepipe model. With weights the base is frozen and
called with ``training=False`` (the TensorFlow transfer-learning guide's
recipe; its BatchNormalization statistics stay put, also once unfrozen); the
Trainer then trains the head on features computed once
(:mod:`imagepipe.components.trainer.frozen_features`) unless augmentation is
on, and the optional fine-tuning phase unfreezes the convolutions of the top
``fine_tune_blocks`` MBConv blocks and the head convolution at a lower
learning rate. Without weights the whole network trains from the start.
"""

from __future__ import annotations

import functools
import re

import tf_keras as keras
from tf_keras import layers

from imagepipe.components.settings import WEIGHTS_IMAGENET, WEIGHTS_NONE, ModelOptions
from . import efficientnet_lite as lite
from . import efficientnet_weights
from .pretrained import PRETRAINED_OPTIONS, classifier_on_base, classifier_on_bases, input_size
from .registry import PHOTOS, ModelSpec, register

DEFAULT_VARIANT = lite.LITE0
PAIR = (lite.LITE0, lite.LITE2)
PAIR_NAME = "efficientnet_lite0_lite2"
PAIR_DROPOUT = 0.2
_BLOCK_LAYER = re.compile(r"^blocks_(\d+)_")
_HEAD_CONV = "conv_head"


def weights_file(weights: str, variant: lite.Variant = DEFAULT_VARIANT) -> str | None:
    """The state dict to load: None for ``none``, the packaged file for ``imagenet``.

    Raises:
      WeightsUnavailableError: ``imagenet`` without the variant's package installed.
    """
    if weights == WEIGHTS_NONE:
        return None
    if weights == WEIGHTS_IMAGENET:
        return efficientnet_weights.imagenet_file(variant.name)
    return weights


def pretrained_base(options: ModelOptions, size: int,
                    variant: lite.Variant = DEFAULT_VARIANT) -> keras.Model:
    """The EfficientNet-Lite base for ``size`` x ``size`` inputs with the chosen weights.

    Raises:
      FileNotFoundError: the weights file does not exist.
      StateDictError: the file is not a state dict of ``variant`` (names file and key).
      WeightsUnavailableError: ``imagenet`` without the weights package.
    """
    base = lite.lite_base(size, variant)
    path = weights_file(options.weights, variant)
    if path is not None:
        efficientnet_weights.load_into(base, path)
    return base


def weights_problem(path: str, variant: lite.Variant = DEFAULT_VARIANT) -> str | None:
    """Why the state dict at ``path`` cannot initialise the base (names file and key), or None."""
    try:
        efficientnet_weights.keras_arrays(lite.lite_base(lite.MIN_CHECK_SIZE, variant),
                                          efficientnet_weights.read_state(path), path)
    except (FileNotFoundError, efficientnet_weights.StateDictError) as error:
        return str(error)
    return None


def _register(variant: lite.Variant, summary: str) -> None:
    """Registers ``variant`` as a photo model whose one-line help is ``summary``."""

    def build(spec: ModelSpec) -> keras.Model:
        return classifier_on_base(spec, pretrained_base(spec.options, input_size(spec), variant),
                                  lite.LitePreprocess(name="preprocess_input"), variant.dropout,
                                  f"{variant.name}_classifier")

    build.__doc__ = summary
    register(variant.name, takes=PRETRAINED_OPTIONS, inputs=PHOTOS,
             check_weights=functools.partial(weights_problem, variant=variant),
             native_size=variant.native_size,
             fine_tune=lambda model, options: unfreeze_top_blocks(
                 model, options.fine_tune_blocks, variant))(build)


_register(lite.LITE0, "EfficientNet-Lite0 with a new head; ImageNet weights offline "
                      "(weights none|imagenet|PATH)")
_register(lite.LITE2, "EfficientNet-Lite2 (wider, deeper, native 260 px) with a new head; "
                      "ImageNet weights offline (weights none|imagenet|PATH)")


def pair_weights_problem(path: str) -> str:
    """Why a single weights file cannot initialise the pair (names the file and the way out)."""
    return (f"{PAIR_NAME} takes --weights imagenet or none: {path} holds one base's weights; "
            f"pass it with --model {lite.LITE0.name} or {lite.LITE2.name}")


def build_pair(spec: ModelSpec) -> keras.Model:
    """EfficientNet-Lite0 + Lite2, pooled features joined (~4x Lite0's cost); weights none|imagenet

    ImageNet weights offline, as for each alone. Both bases see the image at
    :func:`input_size` (by default Lite2's native 260 px), each through its own
    preprocessing layer.

    Raises:
      ValueError: ``weights`` is a file (see :func:`pair_weights_problem`).
      WeightsUnavailableError: ``imagenet`` without a variant's weights package.
    """
    if spec.options.weights not in (WEIGHTS_NONE, WEIGHTS_IMAGENET):
        raise ValueError(pair_weights_problem(spec.options.weights))
    size = input_size(spec)
    bases = [(pretrained_base(spec.options, size, variant),
              lite.LitePreprocess(name=f"{variant.name}_preprocess")) for variant in PAIR]
    return classifier_on_bases(spec, bases, PAIR_DROPOUT, f"{PAIR_NAME}_classifier")


register(PAIR_NAME, takes=PRETRAINED_OPTIONS, inputs=PHOTOS, check_weights=pair_weights_problem,
         native_size=lite.LITE2.native_size,
         fine_tune=lambda model, options: sum(unfreeze_top_blocks(
             model, options.fine_tune_blocks, variant) for variant in PAIR))(build_pair)


def _block_of(layer_name: str) -> int | None:
    match = _BLOCK_LAYER.match(layer_name)
    return int(match.group(1)) if match else None


def unfreeze_top_blocks(model: keras.Model, blocks: int,
                        variant: lite.Variant = DEFAULT_VARIANT) -> int:
    """Makes the convolutions of the base's top ``blocks`` MBConv blocks (and head) trainable.

    BatchNormalization layers stay frozen. Does nothing for a base without
    pretrained weights (it trains already). Recompile the model afterwards.

    Returns:
      The number of base layers made trainable.
    """
    base = model.get_layer(variant.name)
    if base.trainable:
        return 0
    first = len(lite.blocks(variant)) - blocks
    base.trainable = True
    unfrozen = 0
    for layer in base.layers:
        block = _block_of(layer.name)
        in_top = blocks > 0 and ((block is not None and block >= first)
                                 or layer.name == _HEAD_CONV)
        layer.trainable = in_top and not isinstance(layer, layers.BatchNormalization)
        unfrozen += int(layer.trainable and bool(layer.weights))
    return unfrozen
