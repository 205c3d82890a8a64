"""tf.data input pipelines: the raw examples through the Transform graph.

Transform only analyzes (it writes the transform graph and the class counts,
not transformed copies of the splits): :func:`read_transformed` applies the
graph to ExampleGen's raw examples here, in parallel, once per run; the
served model applies the same graph, so training and serving see the same
pixels by construction. Streams carry dict elements ``{image_xf, label_xf[, example_id_xf]}`` (plus
``is_copy`` on balanced training streams) until :func:`to_model_inputs` turns
them into the (image, label) pairs Keras trains on.
"""

from __future__ import annotations

from typing import List, Tuple

import tensorflow as tf
import tensorflow_transform as tft

from imagepipe.components import features

# The stream functions hold no Python control flow on tensors: AutoGraph's source
# conversion of them (and of everything they call) is seconds of start-up for nothing.
plain = tf.autograph.experimental.do_not_convert


def without_autotune(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Turns tf.data's autotuning off for a stream Keras iterates once per epoch.

    The autotuner's thread sleeps between optimizations for a period that grows
    to a minute, and destroying an iterator waits for it to wake: Keras drops
    the previous epoch's iterator at every epoch start, so an epoch waited up
    to 60 s for nothing (seen as 30-40 s gaps between epochs of the main job,
    the main thread in ``RootDataset::Iterator::~Iterator``, the autotuner in
    ``Model::OptimizeLoop``). Without it, AUTOTUNE parallelism is the number of
    cores.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


IMAGE_XF = features.transformed_name(features.IMAGE_KEY)
LABEL_XF = features.transformed_name(features.LABEL_KEY)
EXAMPLE_ID_XF = features.transformed_name(features.EXAMPLE_ID_KEY)
_KEPT = (IMAGE_XF, LABEL_XF, EXAMPLE_ID_XF)


def read_transformed(file_pattern: List[str], data_accessor,
                     tf_transform_output: tft.TFTransformOutput,
                     read_batch_size: int = 256) -> tf.data.Dataset:
    """Reads raw examples once, in file order, and transforms them with the Transform graph.

    Args:
      file_pattern: the raw split's file patterns (``FnArgs.train_files``).
      data_accessor: ``FnArgs.data_accessor``.
      tf_transform_output: the Transform output.
      read_batch_size: how many records are parsed and transformed at once.

    Returns:
      A finite dataset of dicts: ``image_xf`` float32 [H, W, C], ``label_xf``
      int64 [] and, when present, ``example_id_xf`` string [].
    """
    from tfx_bsl.public import tfxio  # pylint: disable=g-import-not-at-top
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=read_batch_size, num_epochs=1, shuffle=False),
        tf_transform_output.raw_metadata.schema)
    transform = tf_transform_output.transform_features_layer()
    return dataset.map(plain(lambda raw: _flatten(transform(raw))),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).unbatch()


def _flatten(batch):
    element = {key: batch[key] for key in _KEPT if key in batch}
    for key in (LABEL_XF, EXAMPLE_ID_XF):
        if key in element:
            element[key] = tf.reshape(element[key], [-1])
    return element


def to_model_inputs(element) -> Tuple[tf.Tensor, tf.Tensor]:
    """Turns a stream element into the (image, label) pair the model trains on."""
    return element[IMAGE_XF], element[LABEL_XF]


def evaluation_stream(examples: tf.data.Dataset, batch_size: int) -> tf.data.Dataset:
    """Caches and batches evaluation examples in a fixed order; never resampled or augmented."""
    return without_autotune(examples.cache().batch(batch_size).map(plain(to_model_inputs))
                            .prefetch(tf.data.AUTOTUNE))


def image_shape(tf_transform_output: tft.TFTransformOutput) -> Tuple[int, int, int]:
    """Returns the (height, width, channels) of the transformed image feature."""
    spec = tf_transform_output.transformed_feature_spec()[IMAGE_XF]
    return tuple(int(d) for d in spec.shape)  # type: ignore[return-value]
