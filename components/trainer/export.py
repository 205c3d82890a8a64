"""Export of a trained model with the signatures every imagepipe model carries.

* ``serving_default``: encoded image bytes (what REST clients send as
  ``{"b64": ...}``) -> class ids, class names and probabilities;
* ``from_examples``: serialized tf.Examples -> the same outputs (TFMA,
  InfraValidator);
* ``bulk_inference``: serialized tf.Examples -> class ids and probabilities,
  no string output (BulkInferrer: tfx_bsl's RunInference cannot split one);
* ``transform_features``: serialized tf.Examples -> transformed features;
* ``transform_labels``: serialized tf.Examples -> the mapped label only,
  no image decoded (TFMA takes the label from it);
* ``normalized_images``: encoded image bytes -> the normalized image the
  model classifies (``imagepipe evaluate`` shows it beside the photo);
* ``class_names``: no input -> the class names in class id order (what
  ``imagepipe evaluate`` compares the folders with).

Beside the model, ``assets.extra/tf_serving_warmup_requests`` holds a few
``serving_default`` requests that TensorFlow Serving (and ``imagepipe serve``)
replays before a version is marked AVAILABLE, so that the first real request
does not pay for lazy initialization.
"""

from __future__ import annotations

import functools
import os
from typing import Dict, Optional, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from imagepipe.components import features, normalize, preprocessing
from imagepipe.components.record import SettingsError
from imagepipe.components.settings import TEST_TIME_JOINED, TEST_TIME_MIRROR, TEST_TIME_NONE

IMAGE_XF = features.transformed_name(features.IMAGE_KEY)
LABEL_XF = features.transformed_name(features.LABEL_KEY)

# TF Serving's fixed location of warm-up requests inside a model version.
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
WARMUP_BATCH_SIZES = (1, 32)


def served_logits(model: keras.Model, images: tf.Tensor, test_time: str = TEST_TIME_NONE,
                  image_bytes: Optional[tf.Tensor] = None) -> tf.Tensor:
    """The logits the exported model classifies (``--test-time``).

    Args:
      model: the trained logits model.
      images: float32 [N, H, W, C], the transformed images.
      test_time: ``none``: the model's logits of the images; ``mirror``: the
        mean of those and of the logits of the left-right mirror images;
        ``joined``: that mean, averaged with the same of the photos
        normalized a second time, their background sampled at their corners
        and their pieces joined (``normalize.JOINED``, decisions 0029, 0030).
      image_bytes: [N] encoded images that ``images`` were decoded from, for
        ``joined``; without them (images already light on black, whose two
        normalizations are the same) ``joined`` is ``mirror``.
    """
    logits = mirrored_logits(model, images) if test_time in (
        TEST_TIME_MIRROR, TEST_TIME_JOINED) else model(images, training=False)
    if test_time == TEST_TIME_JOINED and image_bytes is not None:
        joined = preprocessing.decode_images(image_bytes, params=normalize.JOINED)
        logits = (logits + mirrored_logits(model, joined)) / 2.0
    return logits


def mirrored_logits(model: keras.Model, images: tf.Tensor) -> tf.Tensor:
    """The mean of the model's logits of [N, H, W, C] ``images`` and of their mirror images."""
    return (model(images, training=False)
            + model(tf.image.flip_left_right(images), training=False)) / 2.0


def check_test_time(test_time: str, image_shape: Sequence[int]) -> None:
    """Fails unless the model's inputs suit ``test_time``: ``joined`` needs Fashion-MNIST's.

    Raises:
      SettingsError: naming the mode and the model's image shape.
    """
    fashion_mnist = (features.FASHION_MNIST_IMAGE_SIZE, features.FASHION_MNIST_IMAGE_SIZE, 1)
    if test_time == TEST_TIME_JOINED and tuple(image_shape) != fashion_mnist:
        raise SettingsError(f"--test-time {TEST_TIME_JOINED} normalizes photos a second time the "
                            f"Fashion-MNIST way: it needs a model of {fashion_mnist} images, "
                            f"this one takes {tuple(image_shape)}; use mirror or none")


def _predictions(logits: tf.Tensor, class_names: Sequence[str],
                 class_bias: Optional[Sequence[float]]) -> Dict[str, tf.Tensor]:
    if class_bias is not None:
        logits = logits + tf.constant(np.asarray(class_bias, np.float32))
    probabilities = tf.nn.softmax(logits, axis=-1)
    class_ids = tf.argmax(probabilities, axis=-1)
    return {
        features.CLASS_IDS_OUTPUT: class_ids,
        features.CLASS_NAMES_OUTPUT: tf.gather(tf.constant(list(class_names)), class_ids),
        features.PROBABILITIES_OUTPUT: probabilities,
    }


# The signatures hold no Python control flow on tensors: AutoGraph's source conversion of them
# and of the transform layer's code they call was seconds of every export for nothing.
_signature = functools.partial(tf.function, autograph=False)


def build_signatures(model: keras.Model, tf_transform_output: tft.TFTransformOutput,
                     class_names: Sequence[str],
                     class_bias: Optional[Sequence[float]] = None,
                     test_time: str = TEST_TIME_NONE
                     ) -> Dict[str, tf.types.experimental.ConcreteFunction]:
    """Builds the seven serving signatures of ``model``.

    The transform layer is attached to the model so that it is tracked and
    saved with it.

    Args:
      model: the trained logits model.
      tf_transform_output: the Transform output whose graph the model serves.
      class_names: the class names in class id order.
      class_bias: one value per class added to the logits before the softmax
        in every predicting signature (``components/trainer/class_bias.py``);
        None: the logits as they are.
      test_time: what every predicting signature classifies (:func:`served_logits`).
    """
    model.tft_layer = tf_transform_output.transform_features_layer()
    raw_spec = tf_transform_output.raw_feature_spec()
    image_spec = {features.IMAGE_KEY: raw_spec[features.IMAGE_KEY]}

    @_signature(input_signature=[
        tf.TensorSpec([None], tf.string, name=features.SERVING_INPUT_KEY)])
    def serve_images(image_bytes):
        transformed = model.tft_layer({features.IMAGE_KEY: tf.reshape(image_bytes, [-1, 1])})
        return _predictions(served_logits(model, transformed[IMAGE_XF], test_time, image_bytes),
                            class_names, class_bias)

    @_signature(input_signature=[
        tf.TensorSpec([None], tf.string, name=features.SERVING_INPUT_KEY)])
    def normalized_images(image_bytes):
        transformed = model.tft_layer({features.IMAGE_KEY: tf.reshape(image_bytes, [-1, 1])})
        return {features.NORMALIZED_OUTPUT: transformed[IMAGE_XF]}

    @_signature(input_signature=[])
    def names():
        return {features.CLASS_NAMES_OUTPUT: tf.constant(list(class_names))}

    @_signature(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(examples):
        parsed = tf.io.parse_example(examples, image_spec)
        transformed = model.tft_layer(parsed)
        return _predictions(served_logits(model, transformed[IMAGE_XF], test_time,
                                          tf.reshape(parsed[features.IMAGE_KEY], [-1])),
                            class_names, class_bias)

    @_signature(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def bulk_inference(examples):
        outputs = serve_examples(examples)
        return {key: outputs[key] for key in (features.CLASS_IDS_OUTPUT,
                                              features.PROBABILITIES_OUTPUT)}

    @_signature(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(examples):
        parsed = tf.io.parse_example(examples, raw_spec)
        return model.tft_layer(parsed)

    @_signature(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_labels(examples):
        parsed = tf.io.parse_example(examples, {features.LABEL_KEY: raw_spec[features.LABEL_KEY]})
        # The graph maps each feature on its own. An image left out would be fed a default
        # value and decoded anyway (TFT runs the whole graph); an empty batch decodes nothing.
        no_images = tf.zeros([0, 1], tf.string)
        return {LABEL_XF: model.tft_layer({**parsed, features.IMAGE_KEY: no_images})[LABEL_XF]}

    return {
        features.SERVING_SIGNATURE: serve_images.get_concrete_function(),
        features.FROM_EXAMPLES_SIGNATURE: serve_examples.get_concrete_function(),
        features.BULK_INFERENCE_SIGNATURE: bulk_inference.get_concrete_function(),
        features.TRANSFORM_SIGNATURE: transform_features.get_concrete_function(),
        features.LABELS_SIGNATURE: transform_labels.get_concrete_function(),
        features.NORMALIZED_SIGNATURE: normalized_images.get_concrete_function(),
        features.CLASS_NAMES_SIGNATURE: names.get_concrete_function(),
    }


def export_model(model: keras.Model, tf_transform_output: tft.TFTransformOutput,
                 class_names: Sequence[str], export_dir: str,
                 class_bias: Optional[Sequence[float]] = None,
                 test_time: str = TEST_TIME_NONE) -> None:
    """Saves ``model`` as a SavedModel with the seven imagepipe signatures.

    ``class_bias``, when given, is added to the logits of every predicting
    signature, which classify what ``test_time`` says (see :func:`build_signatures`).
    """
    signatures = build_signatures(model, tf_transform_output, class_names, class_bias,
                                  test_time)
    # Without the optimizer's state (Adam's two slots per weight: 2x the weights again),
    # which serving never reads; the signatures are the same.
    model.save(export_dir, save_format="tf", signatures=signatures, include_optimizer=False)
    write_warmup_requests(export_dir)


def write_warmup_requests(export_dir: str, batch_sizes: Sequence[int] = WARMUP_BATCH_SIZES,
                          image_size: int = features.FASHION_MNIST_IMAGE_SIZE) -> str:
    """Writes TF Serving warm-up requests into ``export_dir/assets.extra``.

    One ``serving_default`` PredictRequest per batch size, each holding that
    many copies of a black PNG (the model's own transform decodes and resizes
    it), as a TFRecord file of ``PredictionLog`` protos.

    Args:
      export_dir: the SavedModel folder.
      batch_sizes: batch size of each request.
      image_size: side of the black square image, in pixels.

    Returns:
      The path of the warm-up file.
    """
    image = tf.io.encode_png(tf.zeros([image_size, image_size, 1], tf.uint8)).numpy()
    path = os.path.join(export_dir, WARMUP_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path) as writer:
        for batch_size in batch_sizes:
            request = predict_pb2.PredictRequest()
            request.model_spec.signature_name = features.SERVING_SIGNATURE
            request.inputs[features.SERVING_INPUT_KEY].CopyFrom(
                tf.make_tensor_proto([image] * batch_size, dtype=tf.string))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path
