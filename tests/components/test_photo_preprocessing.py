"""The photo Transform: any accepted photo -> RGB float at the configured size."""

import io
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from PIL import Image
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from imagepipe.components import features, photo_preprocessing
from imagepipe.data import images
from imagepipe.testing import photo_fixtures


def _encode(array: np.ndarray, fmt: str = "PNG", mode: str = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format=fmt)
    return buffer.getvalue()


def test_decode_rgb_handles_gray_alpha_and_colour():
    gray = np.full((4, 6), 100, np.uint8)
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 0  # fully transparent red: white
    rgba[0, 0] = (0, 0, 255, 255)  # one opaque blue pixel
    for data, expected in ((_encode(gray), (100, 100, 100)), (_encode(rgba), (255, 255, 255))):
        out = photo_preprocessing.decode_rgb(tf.constant(data)).numpy()
        assert out.shape == (4, 6, 3)
        np.testing.assert_allclose(out[1, 1] * 255, expected, atol=0.5)
    out = photo_preprocessing.decode_rgb(tf.constant(_encode(rgba))).numpy()
    np.testing.assert_allclose(out[0, 0] * 255, (0, 0, 255), atol=0.5)
    colour = np.random.default_rng(0).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    for fmt in ("PNG", "BMP", "GIF"):
        assert photo_preprocessing.decode_rgb(tf.constant(_encode(colour, fmt))).shape == (5, 7, 3)


def test_pad_keeps_the_whole_photo_with_black_borders():
    wide = np.full((50, 100, 3), 255, np.uint8)
    out = photo_preprocessing.decode_photos(tf.constant([_encode(wide)]), 40, "pad").numpy()[0]
    assert out.shape == (40, 40, 3)
    assert out[20, :].min() > 0.99  # the photo spans the width
    assert out[0, 20].max() == 0.0 and out[-1, 20].max() == 0.0  # black bars top and bottom


def test_crop_fills_the_square_with_the_centre():
    wide = np.zeros((50, 100, 3), np.uint8)
    wide[:, 20:80] = 255  # white around the centre square, black at the sides
    out = photo_preprocessing.decode_photos(tf.constant([_encode(wide)]), 40, "crop").numpy()[0]
    assert out.shape == (40, 40, 3)
    assert out.min() > 0.95  # only the white centre is left


def _custom_config(**values):
    return {"settings": {"image_size": 224, "resize_mode": "pad", **values},
            "code_fingerprint": "x"}


def test_unknown_resize_mode_tiny_size_and_unknown_keys_are_refused():
    with pytest.raises(ValueError, match="resize_mode: unknown value 'stretch'; known: pad"):
        photo_preprocessing.settings(_custom_config(resize_mode="stretch"))
    with pytest.raises(ValueError, match="image_size must be at least 8"):
        photo_preprocessing.settings(_custom_config(image_size=4))
    with pytest.raises(ValueError, match="unknown key 'imagesize'"):
        photo_preprocessing.settings(_custom_config(imagesize=64))
    with pytest.raises(ValueError, match="missing keys 'settings', 'code_fingerprint'"):
        photo_preprocessing.settings(None)
    chosen = photo_preprocessing.settings(_custom_config(image_size=96))
    assert (chosen.image_size, chosen.resize_mode) == (96, "pad")


def test_every_format_gives_the_same_pixels_through_its_normalised_copy():
    image, mask = photo_fixtures.draw_object(2, np.random.default_rng(1), 160, 120)
    reference = photo_preprocessing.decode_photos(
        tf.constant([images.normalised_png(photo_fixtures.encode(image, "png_rgb"))]), 32).numpy()
    for variant in ("tiff_rgb", "bmp_rgb", "jpeg_exif_rotated", "webp_rgb", "tiff_cmyk"):
        copy = images.normalised_png(photo_fixtures.encode(image, variant, mask))
        out = photo_preprocessing.decode_photos(tf.constant([copy]), 32).numpy()
        assert np.abs(out - reference).mean() < 0.02, variant


def test_clients_send_exactly_the_stored_copy():
    image, mask = photo_fixtures.draw_object(0, np.random.default_rng(3), 300, 200)
    original = photo_fixtures.encode(image, "webp_rgba", mask)
    stored = images.stored_copy(original)
    assert stored.startswith(b"\x89PNG") and images.normalised_png(original) == stored


def test_preprocessing_fn_runs_in_tf_transform(tmp_path):
    rng = np.random.default_rng(2)
    rows = []
    for i, label in enumerate([0, 1, 1, 2, 2, 2]):
        image, _ = photo_fixtures.draw_object(label, rng, 90, 60)
        rows.append({features.IMAGE_KEY: [images.encode_png(image)], features.LABEL_KEY: [label],
                     features.EXAMPLE_ID_KEY: [f"c{label}/{i}.jpg".encode()]})
    spec = {features.IMAGE_KEY: tf.io.FixedLenFeature([1], tf.string),
            features.LABEL_KEY: tf.io.FixedLenFeature([1], tf.int64),
            features.EXAMPLE_ID_KEY: tf.io.FixedLenFeature([1], tf.string)}
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    fn = lambda inputs: photo_preprocessing.preprocessing_fn(  # noqa: E731
        inputs, _custom_config(image_size=24, resize_mode="crop"))
    with tft_beam.Context(temp_dir=str(tmp_path / "tmp")):
        (transformed, _), transform_fn = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(fn)
        _ = transform_fn | tft_beam.WriteTransformFn(str(tmp_path / "tft"))
    image_xf = features.transformed_name(features.IMAGE_KEY)
    label_xf = features.transformed_name(features.LABEL_KEY)
    assert transformed[0][image_xf].shape == (24, 24, 3)
    assert [int(row[label_xf]) for row in transformed] == [0, 1, 1, 2, 2, 2]
    vocabulary = tft.TFTransformOutput(str(tmp_path / "tft")).vocabulary_file_by_name(
        features.CLASS_DISTRIBUTION_VOCAB)
    assert os.path.exists(vocabulary)


@pytest.mark.parametrize("resize_mode", ["pad", "crop"])
def test_transform_analysis_reads_only_the_labels(resize_mode):
    specs = {features.IMAGE_KEY: tf.TensorSpec([None, 1], tf.string),
             features.LABEL_KEY: tf.TensorSpec([None, 1], tf.int64),
             features.EXAMPLE_ID_KEY: tf.TensorSpec([None, 1], tf.string)}
    fn = lambda inputs: photo_preprocessing.preprocessing_fn(  # noqa: E731
        inputs, _custom_config(image_size=32, resize_mode=resize_mode))
    assert tft.get_analyze_input_columns(fn, specs, force_tf_compat_v1=False) == [
        features.LABEL_KEY]
