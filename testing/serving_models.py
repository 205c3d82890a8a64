"""A small served image model for tests and benchmarks: decodes what it is sent, as ours do.

Its ``serving_default`` has the signature of every imagepipe model (encoded
image bytes in; class ids, class names and probabilities out) and really
decodes each image (``tf.io.decode_image``, then an 8x8 resize), so a request
that reaches it costs what the image's pixels cost. It saves in a second, with
no pipeline run.
"""

from __future__ import annotations

import os
import tensorflow as tf

from imagepipe.components import features

CLASS_NAMES = ("dark", "light")


def _classify(encoded: tf.Tensor) -> tf.Tensor:
    """Probabilities of dark and light from the image's mean brightness."""
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
    small = tf.image.resize(tf.image.convert_image_dtype(image, tf.float32), [8, 8])
    light = tf.reduce_mean(small)
    return tf.stack([1.0 - light, light])


def write_image_model(base: str, version: int = 1) -> str:
    """Saves the model as ``base/<version>``; returns that folder."""
    names = tf.constant(list(CLASS_NAMES))

    @tf.function(input_signature=[
        tf.TensorSpec([None], tf.string, name=features.SERVING_INPUT_KEY)])
    def serving_default(image_bytes):
        probabilities = tf.map_fn(_classify, image_bytes,
                                  fn_output_signature=tf.TensorSpec([2], tf.float32))
        class_ids = tf.argmax(probabilities, axis=-1)
        return {features.CLASS_IDS_OUTPUT: class_ids,
                features.CLASS_NAMES_OUTPUT: tf.gather(names, class_ids),
                features.PROBABILITIES_OUTPUT: probabilities}

    path = os.path.join(base, str(version))
    module = tf.Module()
    module.serving_default = serving_default
    tf.saved_model.save(module, path, signatures={features.SERVING_SIGNATURE: serving_default})
    return path
