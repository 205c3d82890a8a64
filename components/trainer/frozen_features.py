"""Training a head on a frozen base's features, computed once instead of every epoch.

With a pretrained base that is frozen and runs in inference mode, and no
random layer in front of it, the base maps each image to the same features in
every epoch: computing them once and training the head (the layers after the
``features`` layer) on them gives the same model as fitting the whole network,
at the cost of one forward pass instead of one per epoch. The head shares its
layers with the full model, so the full model is trained when the head is.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Dict, List, Optional

import numpy as np
import tensorflow as tf
import tf_keras as keras

from imagepipe.components.models.pretrained import FEATURES_LAYER
from imagepipe.components.trainer import data

_BATCH = 64


@dataclasses.dataclass
class FeatureSplit:
    """A model cut at its features layer: the frozen part and the trainable head."""

    extractor: keras.Model
    head: keras.Model


def split(model: keras.Model, augmented: bool) -> Optional[FeatureSplit]:
    """Cuts ``model`` at its ``features`` layer when everything before it is fixed.

    Args:
      model: a built model.
      augmented: whether the model holds random augmentation layers.

    Returns:
      The split, or None: no ``features`` layer, augmentation on, or a layer
      before the features trains.
    """
    names = [layer.name for layer in model.layers]
    if augmented or FEATURES_LAYER not in names:
        return None
    cut = names.index(FEATURES_LAYER)
    if any(layer.trainable_weights for layer in model.layers[:cut + 1]):
        return None
    features = model.get_layer(FEATURES_LAYER).output
    head_input = keras.Input(shape=features.shape[1:], name=data.IMAGE_XF)
    x = head_input
    for layer in model.layers[cut + 1:]:
        x = layer(x)
    return FeatureSplit(keras.Model(model.inputs, features, name="frozen_extractor"),
                        keras.Model(head_input, x, name="head"))


def extract(extractor: keras.Model, examples: tf.data.Dataset,
            mirrored: bool = False) -> tf.data.Dataset:
    """The examples with their image replaced by its features, in one pass, in memory.

    Args:
      extractor: the frozen part of the model.
      examples: unbatched dict elements with ``image_xf``.
      mirrored: also the features of every image's mirror image (flipped left
        to right), as one more example after all the others.

    Returns:
      A finite dataset of the same elements in the same order (then their
      mirrored twins), ``image_xf`` holding the feature vector.
    """
    columns: Dict[str, List[np.ndarray]] = {}
    twins: Dict[str, List[np.ndarray]] = {}
    for batch in examples.batch(_BATCH):
        images = batch[data.IMAGE_XF]
        _append(columns, batch, extractor(images, training=False))
        if mirrored:
            _append(twins, batch, extractor(tf.image.flip_left_right(images), training=False))
    if not columns:
        raise ValueError("no examples to compute features of")
    return tf.data.Dataset.from_tensor_slices(
        {key: np.concatenate(parts + twins.get(key, []), axis=0)
         for key, parts in columns.items()})


def _append(columns: Dict[str, List[np.ndarray]], batch: Dict[str, tf.Tensor],
            features: tf.Tensor) -> None:
    for key, value in {**batch, data.IMAGE_XF: features}.items():
        columns.setdefault(key, []).append(np.asarray(value))


def extract_timed(extractor: keras.Model, examples: tf.data.Dataset, mirrored: bool = False
                  ) -> tuple[tf.data.Dataset, float]:
    """:func:`extract`, and the seconds it took."""
    start = time.perf_counter()
    features = extract(extractor, examples, mirrored)
    return features, time.perf_counter() - start
