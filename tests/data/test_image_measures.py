"""What the drift checks measure of one photo: its size as shown, brightness and colour."""

import io

import numpy as np
import pytest
from PIL import Image

from imagepipe.data import image_measures, images, spans
from imagepipe.testing import photo_fixtures


def _flat(colour, size=(40, 30)):
    return images.encode_png(Image.new("RGB", size, colour))


def test_a_flat_colour_measures_its_size_brightness_and_channels():
    red = image_measures.measure(_flat((255, 0, 0)), _flat((255, 0, 0)))
    assert red == pytest.approx({"width": 40.0, "height": 30.0, "brightness": 0.299,
                                 "red": 1.0, "green": 0.0, "blue": 0.0})
    assert image_measures.measure(_flat((255, 255, 255)), _flat((255, 255, 255)))[
        image_measures.BRIGHTNESS] == pytest.approx(1.0)


def test_the_size_is_the_one_shown_and_colour_comes_from_the_normalised_copy():
    image, mask = photo_fixtures.draw_object(0, np.random.default_rng(5), 200, 150)
    sideways = photo_fixtures.encode(image, "jpeg_exif_rotated", mask)
    assert images.upright_size(sideways) == (200, 150)  # stored 150 x 200, orientation 6
    normalised = images.stored_copy(sideways, max_side=64)
    measured = image_measures.measure(sideways, normalised)
    assert (measured["width"], measured["height"]) == (200.0, 150.0)
    pixels = np.asarray(Image.open(io.BytesIO(normalised)), np.float64) / 255
    assert measured["green"] == pytest.approx(pixels[..., 1].mean())


def test_sizes_share_quarter_octave_buckets_and_shares_twentieths():
    sizes = image_measures.bucket_edges(image_measures.WIDTH)
    assert sizes[0] == 8.0 and sizes[-1] == 32768.0
    assert np.searchsorted(sizes, 533.0) == np.searchsorted(sizes, 534.0)
    assert image_measures.bucket_edges(image_measures.RED) == tuple(i / 20 for i in range(21))


def test_the_span_of_a_photo_path():
    assert spans.of_path("span-12/pens/a.jpg") == 12
    assert spans.of_path("pens/a.jpg") == spans.NO_SPANS
    assert spans.of_path("span-3") == spans.NO_SPANS  # a file named like a span folder
