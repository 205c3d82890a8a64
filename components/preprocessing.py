"""Transform: decode images and map original labels to the super-classes.

``preprocessing_fn`` runs inside TFX Transform and, through the exported
transform graph, inside every served model: the same decoding at training and
serving time. Referenced by the pipeline as
``imagepipe.components.preprocessing.preprocessing_fn``.
"""

from __future__ import annotations

import functools
from typing import Dict

import tensorflow as tf
import tensorflow_transform as tft

from imagepipe.components import features, normalize

IMAGE_SIZE = features.FASHION_MNIST_IMAGE_SIZE


def decode_image(encoded: tf.Tensor, size: int = IMAGE_SIZE,
                 params: normalize.Parameters = normalize.DEFAULT) -> tf.Tensor:
    """Decodes one encoded image (PNG, JPEG, GIF, BMP) to a Fashion-MNIST-like image.

    Any size and colour mode is brought to float32 [size, size, 1] in [0, 1]
    by :func:`normalize.fashion_mnist_like` (grayscale, dark background, crop
    to the object, longest side fitted, centred); on Fashion-MNIST images this
    is close to the identity. ``params``: the normalization's tuning.
    """
    image = tf.io.decode_image(encoded, channels=0, expand_animations=False)
    return normalize.fashion_mnist_like(image, size, params)


def _decode_if_fashion_mnist_sized(encoded: tf.Tensor, size: int):
    """(uint8 [size, size, 1] image, True) for a grayscale size x size image; (zeros, False) else."""
    image = tf.io.decode_image(encoded, channels=0, expand_animations=False)
    shape = tf.shape(image)
    fits = tf.reduce_all(tf.equal(shape, [size, size, 1]))
    fixed = tf.cond(fits, lambda: tf.reshape(image, [size, size, 1]),
                    lambda: tf.zeros([size, size, 1], tf.uint8))
    return tf.ensure_shape(fixed, [size, size, 1]), fits


def decode_images(encoded: tf.Tensor, size: int = IMAGE_SIZE,
                  params: normalize.Parameters = normalize.DEFAULT) -> tf.Tensor:
    """Decodes a batch of encoded images ([N] or [N, 1] strings) to float32 [N, size, size, 1].

    Grayscale ``size`` x ``size`` light-on-black images (every Fashion-MNIST
    image) are normalized together by ``normalize.light_on_black_batch``; any
    other (a photo) by :func:`decode_image`, one by one. Both give the same
    pixels for the same image, whatever else is in the batch. ``params``: the
    normalization's tuning.
    """
    return _batch_decoder(size, params)(tf.reshape(encoded, [-1]))


@functools.lru_cache(maxsize=None)
def _batch_decoder(size: int, params: normalize.Parameters
                   ) -> tf.types.experimental.PolymorphicFunction:
    """One graph function per size and parameters, traced once per process.

    Transform traces ``preprocessing_fn`` about ten times (analysis, the
    transform phase, input-column inspection, saving) and the Trainer's export
    three more; as a function the normalization graph is built once and then
    called, not rebuilt op by op each time.
    """
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
    def decode(encoded: tf.Tensor) -> tf.Tensor:
        decoded, fits = tf.map_fn(
            lambda e: _decode_if_fashion_mnist_sized(e, size), encoded,
            fn_output_signature=(tf.TensorSpec([size, size, 1], tf.uint8),
                                 tf.TensorSpec([], tf.bool)))
        # One copy of the photo path in the graph (decode_image's), not two: the graph is saved
        # in every transform output and served model, and loaded and traced again each time.
        fits = tf.logical_and(fits, normalize.light_on_black(decoded, params))
        batched = normalize.light_on_black_batch(tf.boolean_mask(decoded, fits), size, params)
        others = tf.where(tf.logical_not(fits))[:, 0]
        one_by_one = tf.map_fn(lambda e: decode_image(e, size, params), tf.gather(encoded, others),
                               fn_output_signature=tf.TensorSpec([size, size, 1], tf.float32))
        stitched = tf.dynamic_stitch([tf.cast(tf.where(fits)[:, 0], tf.int32),
                                      tf.cast(others, tf.int32)], [batched, one_by_one])
        return tf.ensure_shape(stitched, [None, size, size, 1])

    return decode


def map_labels(labels: tf.Tensor) -> tf.Tensor:
    """Maps original Fashion-MNIST labels ([N] or [N, 1]) to super-class ids [N].

    Labels that belong to no super-class map to ``features.UNMAPPED_CLASS``.
    """
    table = tf.constant(features.class_map_table(), tf.int64)
    labels = tf.reshape(tf.cast(labels, tf.int64), [-1])
    in_range = tf.logical_and(labels >= 0, labels < tf.size(table, out_type=tf.int64))
    safe = tf.where(in_range, labels, tf.zeros_like(labels))
    return tf.where(in_range, tf.gather(table, safe),
                    tf.fill(tf.shape(labels), tf.constant(features.UNMAPPED_CLASS, tf.int64)))


def measure_class_distribution(labels: tf.Tensor) -> None:
    """Analyzer: counts the examples of each class over the analysed (training) split.

    The counts land in the transform output as the vocabulary
    ``features.CLASS_DISTRIBUTION_VOCAB`` (lines ``<count> <class id>``), where
    the Trainer and reports read them; see ``trainer.balance.read_class_counts``.
    """
    tft.vocabulary(tf.strings.as_string(labels), vocab_filename=features.CLASS_DISTRIBUTION_VOCAB,
                   store_frequency=True)


def preprocessing_fn(inputs: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    """The Transform preprocessing function.

    Args:
      inputs: raw features as parsed from the ExampleGen's tf.Examples.

    Returns:
      ``image_xf`` float32 [N, 28, 28, 1] in [0, 1], ``label_xf`` int64 [N]
      super-class id, and ``example_id_xf`` string [N] passed through. The
      class distribution of the analysed split is measured on the side.
    """
    labels = map_labels(inputs[features.LABEL_KEY])
    outputs = {
        features.transformed_name(features.IMAGE_KEY): decode_images(inputs[features.IMAGE_KEY]),
        features.transformed_name(features.LABEL_KEY): labels,
    }
    measure_class_distribution(labels)
    if features.EXAMPLE_ID_KEY in inputs:
        outputs[features.transformed_name(features.EXAMPLE_ID_KEY)] = tf.reshape(
            inputs[features.EXAMPLE_ID_KEY], [-1])
    return outputs
