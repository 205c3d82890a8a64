"""tf.data input pipelines over the transformed examples."""

from __future__ import annotations

from typing import List, Tuple

import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

from imagepipe.components import features

IMAGE_XF = features.transformed_name(features.IMAGE_KEY)
LABEL_XF = features.transformed_name(features.LABEL_KEY)


def read_transformed(file_pattern: List[str], data_accessor,
                     tf_transform_output: tft.TFTransformOutput,
                     read_batch_size: int = 256) -> tf.data.Dataset:
    """Reads transformed examples once, unbatched, as (image, label) pairs.

    Args:
      file_pattern: the transformed split's file patterns (``FnArgs.train_files``).
      data_accessor: ``FnArgs.data_accessor``.
      tf_transform_output: the Transform output.
      read_batch_size: how many records are parsed at once.

    Returns:
      A finite dataset of (image float32 [H, W, C], label int64 []) in file order.
    """
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=read_batch_size, num_epochs=1, shuffle=False,
                                       label_key=LABEL_XF),
        tf_transform_output.transformed_metadata.schema)
    return dataset.map(lambda x, y: (x[IMAGE_XF], tf.reshape(y, [-1]))).unbatch()


def training_stream(examples: tf.data.Dataset, batch_size: int, seed: int,
                    shuffle_buffer: int = 65536) -> tf.data.Dataset:
    """Caches, shuffles (fresh each epoch, seeded) and batches the training examples."""
    return (examples.cache()
            .shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .prefetch(tf.data.AUTOTUNE))


def evaluation_stream(examples: tf.data.Dataset, batch_size: int) -> tf.data.Dataset:
    """Caches and batches evaluation examples, in a fixed order."""
    return examples.cache().batch(batch_size).prefetch(tf.data.AUTOTUNE)


def image_shape(tf_transform_output: tft.TFTransformOutput) -> Tuple[int, int, int]:
    """Returns the (height, width, channels) of the transformed image feature."""
    spec = tf_transform_output.transformed_feature_spec()[IMAGE_XF]
    return tuple(int(d) for d in spec.shape)  # type: ignore[return-value]
