"""Transform for photo folders: encoded image -> RGB float at the model's input size.

``preprocessing_fn`` runs inside TFX Transform and, through the exported
transform graph, inside every served photo model: the same TensorFlow code
decodes and resizes at training and at serving time. Referenced by the
pipeline as ``imagepipe.components.photo_preprocessing.preprocessing_fn``.

Where decoding happens (the one decision that keeps training and serving equal):

* TensorFlow decodes only JPEG, PNG, GIF and BMP, and ignores EXIF
  orientation; a SavedModel for TF Serving cannot call Pillow
  (``tf.py_function`` does not survive export). So ingestion
  (:mod:`imagepipe.data.images`, Pillow) normalises every accepted file once:
  first frame, EXIF orientation applied, any colour mode (grayscale, palette,
  RGBA, CMYK, 16-bit) to 8-bit RGB with transparency on white, longer side at
  most ``max_side`` (512 by default); it stores that as PNG in ``image`` and
  keeps the file's own bytes in ``image_original``.
* This graph decodes ``image`` (any JPEG/PNG/GIF/BMP with 1-4 channels, alpha
  composited on white), scales to [0, 1] and resizes to ``image_size`` x
  ``image_size`` keeping the aspect ratio, by padding (black borders) or by
  centre-cropping. The served model therefore accepts JPEG, PNG, GIF and BMP
  directly; clients with WebP, TIFF, CMYK or 16-bit files, or phone photos
  that rely on EXIF orientation, send ``imagepipe.data.images.normalised_png``
  of their file (the stored copy's bytes), which gives exactly the pixels
  seen in training.

Settings come from the Transform's ``custom_config``, a
:class:`~imagepipe.components.settings.TransformCustomConfig` whose settings are
:class:`~imagepipe.components.settings.PhotoTransformSettings` (``image_size``,
``resize_mode``), read strictly.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

import tensorflow as tf

from imagepipe.components import features, preprocessing
from imagepipe.components.settings import (RESIZE_CROP, RESIZE_MODES, RESIZE_PAD,
                                           PhotoTransformSettings,
                                           TransformCustomConfig)

PAD = RESIZE_PAD
CROP = RESIZE_CROP


def decode_rgb(encoded: tf.Tensor) -> tf.Tensor:
    """Decodes one JPEG/PNG/GIF/BMP (first frame) to float32 RGB [H, W, 3] in [0, 1].

    Grayscale becomes RGB; an alpha channel is composited on white.
    """
    image = tf.io.decode_image(encoded, channels=0, expand_animations=False)
    image = tf.image.convert_image_dtype(image, tf.float32)
    channels = tf.shape(image)[-1]
    rgb = tf.cond(channels >= 3, lambda: image[..., :3],
                  lambda: tf.tile(image[..., :1], [1, 1, 3]))
    alpha = tf.cond(tf.equal(channels % 2, 0), lambda: image[..., -1:],
                    lambda: tf.ones_like(image[..., :1]))
    return tf.ensure_shape(rgb * alpha + (1.0 - alpha), [None, None, 3])


def _centre_crop(image: tf.Tensor, size: int) -> tf.Tensor:
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = size / tf.reduce_min(shape)
    scaled = tf.cast(tf.math.ceil(shape * scale), tf.int32)
    scaled = tf.maximum(scaled, size)
    image = tf.image.resize(image, scaled, antialias=True)
    top = (scaled[0] - size) // 2
    left = (scaled[1] - size) // 2
    return image[top:top + size, left:left + size]


def _fit_with_pad(image: tf.Tensor, size: int) -> tf.Tensor:
    """``tf.image.resize_with_pad(image, size, size, antialias=True)``, the same arithmetic.

    Written out with ``tf.pad`` (and the crop above with a slice) because the
    ``tf.image`` versions add runtime asserts, stateful ops: a graph holding
    one is never pruned, so Transform's analysis, which needs only the
    labels, read and decoded every photo.
    """
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    ratio = tf.maximum(shape[1] / size, shape[0] / size)
    resized_float = shape / ratio
    resized = tf.image.resize(image, tf.cast(tf.floor(resized_float), tf.int32), antialias=True)
    top, left = tf.unstack(tf.maximum(0, tf.cast(tf.floor((size - resized_float) / 2), tf.int32)))
    height, width = tf.shape(resized)[0], tf.shape(resized)[1]
    return tf.pad(resized, [[top, size - height - top], [left, size - width - left], [0, 0]])


def fit(image: tf.Tensor, size: int, mode: str = PAD) -> tf.Tensor:
    """Resizes float [H, W, 3] to [size, size, 3], keeping the aspect ratio.

    Args:
      image: float32 [H, W, 3].
      size: the output's side in pixels.
      mode: ``pad`` (the whole image, black borders) or ``crop`` (the centre,
        filling the square).
    """
    if mode == PAD:
        image = _fit_with_pad(image, size)
    elif mode == CROP:
        image = _centre_crop(image, size)
    else:
        raise ValueError(f"unknown resize mode {mode!r}; known: {', '.join(RESIZE_MODES)}")
    return tf.ensure_shape(tf.clip_by_value(image, 0.0, 1.0), [size, size, 3])


def decode_photos(encoded: tf.Tensor, size: int = features.PHOTO_IMAGE_SIZE,
                  mode: str = PAD) -> tf.Tensor:
    """Decodes a batch of encoded photos ([N] or [N, 1]) to float32 [N, size, size, 3]."""
    encoded = tf.reshape(encoded, [-1])
    return tf.map_fn(lambda e: fit(decode_rgb(e), size, mode), encoded,
                     fn_output_signature=tf.TensorSpec([size, size, 3], tf.float32))


def settings(custom_config: Optional[Mapping[str, Any]]) -> PhotoTransformSettings:
    """The image size and resize mode from the Transform's custom_config, strictly.

    Raises:
      SettingsError: a missing, unknown or bad key; the message names it.
    """
    config = TransformCustomConfig.from_dict(custom_config or {},
                                             "the photo Transform's custom_config")
    return PhotoTransformSettings.from_dict(config.settings,
                                            "the photo Transform's custom_config.settings")


def preprocessing_fn(inputs: Dict[str, tf.Tensor],
                     custom_config: Optional[Mapping[str, Any]] = None) -> Dict[str, tf.Tensor]:
    """The Transform preprocessing function of photo folders.

    Args:
      inputs: raw features as parsed from the folder ExampleGen's tf.Examples.
      custom_config: a TransformCustomConfig (see the module docstring).

    Returns:
      ``image_xf`` float32 [N, size, size, 3] in [0, 1], ``label_xf`` int64 [N]
      class id (mapped at ingest), and ``example_id_xf`` string [N]. The class
      distribution of the analysed split is measured on the side, as for
      Fashion-MNIST.
    """
    config = settings(custom_config)
    labels = tf.reshape(tf.cast(inputs[features.LABEL_KEY], tf.int64), [-1])
    outputs = {
        features.transformed_name(features.IMAGE_KEY): decode_photos(
            inputs[features.IMAGE_KEY], config.image_size, config.resize_mode),
        features.transformed_name(features.LABEL_KEY): labels,
    }
    preprocessing.measure_class_distribution(labels)
    if features.EXAMPLE_ID_KEY in inputs:
        outputs[features.transformed_name(features.EXAMPLE_ID_KEY)] = tf.reshape(
            inputs[features.EXAMPLE_ID_KEY], [-1])
    return outputs
