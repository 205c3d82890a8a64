"""ResNet50 for photo folders: the report's part 2, with an optional fine-tuning phase.

    image [0, 1] (any size, 1 or 3 channels)
      -> to RGB, resized to ``input_size`` (only when it differs; default: as transformed)
      -> [RandomFlip('horizontal') + RandomRotation(0.2)]      (option ``augment``)
      -> ``resnet50.preprocess_input`` (on 0-255 pixels)
      -> ResNet50(include_top=False, weights=none|imagenet|PATH)
      -> GlobalAveragePooling2D -> Dropout(0.2) -> Dense(num_classes) logits

With weights (ImageNet or a local file) the base starts frozen and runs in
inference mode (``training=False``, so its BatchNormalization statistics stay
put, also when it is unfrozen later); the Trainer's optional fine-tuning phase
then unfreezes the top ``fine_tune_blocks`` residual blocks (their
convolutions; BatchNormalization layers stay frozen) at a lower learning rate.
Without weights the whole base trains from the start and there is nothing to
fine-tune. The head is the same in every case, so that the weights x
augmentation grid differs in those two factors only (the report's model
without weights had no Dropout).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from typing import List, Optional

import tensorflow as tf
import tf_keras as keras
from tf_keras import layers

from imagepipe.components.settings import WEIGHTS_IMAGENET, WEIGHTS_NONE, ModelOptions
from .pretrained import PRETRAINED_OPTIONS, ToRgbOfSize, classifier_on_base, input_size
from .registry import PHOTOS, ModelSpec, register

BASE_NAME = "resnet50"
REPORT_DROPOUT = 0.2
_BLOCK = re.compile(r"^(conv\d_block\d+)_")


@keras.saving.register_keras_serializable(package="imagepipe")
class ResNetPreprocess(layers.Layer):
    """``keras.applications.resnet50.preprocess_input`` on [0, 1] images (scaled to 0-255)."""

    def call(self, images: tf.Tensor) -> tf.Tensor:
        return keras.applications.resnet50.preprocess_input(images * 255.0)


def _local_copy(path: str) -> str:
    """A local file holding ``path`` (Keras reads HDF5 weights from local files only)."""
    if "://" not in path:
        return path
    local = os.path.join(tempfile.mkdtemp(prefix="imagepipe-weights-"), os.path.basename(path))
    tf.io.gfile.copy(path, local, overwrite=True)
    return local


def _weights_argument(weights: str) -> Optional[str]:
    if weights == WEIGHTS_NONE:
        return None
    if weights == WEIGHTS_IMAGENET:
        return WEIGHTS_IMAGENET
    if not tf.io.gfile.exists(weights):
        raise FileNotFoundError(f"ResNet50 weights file not found: {weights} (model option "
                                f"weights: 'none', 'imagenet' or the path of a weights file)")
    return _local_copy(weights)


def resnet50_base(options: ModelOptions, size: int) -> keras.Model:
    """ResNet50 without its top, for ``size`` x ``size`` RGB images, with the chosen weights.

    Raises:
      FileNotFoundError: the weights file does not exist.
      RuntimeError: the ImageNet weights could not be downloaded, or the file
        does not hold ResNet50 (include_top=False) weights; the message says
        which and what to do.
    """
    shape = (size, size, 3)
    weights = _weights_argument(options.weights)
    try:
        return keras.applications.ResNet50(include_top=False, weights=weights, input_shape=shape)
    except Exception as error:  # pylint: disable=broad-except
        if weights == WEIGHTS_IMAGENET:
            raise RuntimeError(
                f"could not download the ImageNet weights of ResNet50 ({error}); offline, "
                f"pass a local weights file instead (model option weights=PATH, "
                f"--weights PATH), or use --model efficientnet_lite0, whose ImageNet weights "
                f"come installed with imagepipe") from error
        if weights is not None:
            raise RuntimeError(
                f"could not load ResNet50 weights from {options.weights}: {error}; the file "
                f"must hold the weights of keras.applications.ResNet50(include_top=False)"
            ) from error
        raise


@register("resnet50", takes=PRETRAINED_OPTIONS, inputs=PHOTOS,
          fine_tune=lambda model, options: unfreeze_top_blocks(model, options.fine_tune_blocks))
def resnet50(spec: ModelSpec) -> keras.Model:
    """ResNet50 (Keras applications) with the report's head; weights none|imagenet|PATH."""
    return classifier_on_base(spec, resnet50_base(spec.options, input_size(spec)),
                              ResNetPreprocess(name="preprocess_input"), REPORT_DROPOUT,
                              "resnet50_classifier")


def residual_blocks(base: keras.Model) -> List[str]:
    """The base's residual block names in order, e.g. ``conv2_block1`` ... ``conv5_block3``."""
    blocks: List[str] = []
    for layer in base.layers:
        match = _BLOCK.match(layer.name)
        if match and match.group(1) not in blocks:
            blocks.append(match.group(1))
    return blocks


def unfreeze_top_blocks(model: keras.Model, blocks: int) -> int:
    """Makes the convolutions of the base's top ``blocks`` residual blocks trainable.

    Everything else in the base stays frozen, BatchNormalization layers
    included. Does nothing for a base without pretrained weights (it is
    trainable already). Recompile the model afterwards.

    Returns:
      The number of base layers made trainable.
    """
    base = model.get_layer(BASE_NAME)
    if base.trainable:  # no pretrained weights: the whole base trains already
        return 0
    top = set(residual_blocks(base)[-blocks:]) if blocks else set()
    base.trainable = True
    unfrozen = 0
    for layer in base.layers:
        match = _BLOCK.match(layer.name)
        layer.trainable = bool(match and match.group(1) in top
                               and not isinstance(layer, layers.BatchNormalization))
        unfrozen += int(layer.trainable and bool(layer.weights))
    return unfrozen


def make_weights_file(path: str, size: int = 32) -> str:
    """Writes the weights of a randomly initialised ResNet50(include_top=False) to ``path``.

    A stand-in for the ImageNet file where it cannot be downloaded (tests,
    offline demos): it loads exactly as a real weights file does. The weights
    do not depend on the input size.
    """
    base = keras.applications.ResNet50(include_top=False, weights=None,
                                       input_shape=(size, size, 3))
    tf.io.gfile.makedirs(os.path.dirname(path) or ".")
    local = path if "://" not in path else os.path.join(tempfile.mkdtemp(), "weights.h5")
    base.save_weights(local)
    if local != path:
        tf.io.gfile.copy(local, path, overwrite=True)
        shutil.rmtree(os.path.dirname(local), ignore_errors=True)
    return path
