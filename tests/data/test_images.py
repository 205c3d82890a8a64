"""Validating and normalising single images with Pillow."""

import io

import numpy as np
import pytest
from PIL import Image

from imagepipe.data import images
from imagepipe.testing import photo_fixtures


@pytest.fixture(scope="module")
def drawn():
    image, mask = photo_fixtures.draw_object(0, np.random.default_rng(5), 200, 150)
    return image, mask


@pytest.mark.parametrize("variant", sorted(photo_fixtures.VARIANTS))
def test_every_variant_normalises_to_the_upright_rgb_picture(drawn, variant):
    image, mask = drawn
    data = photo_fixtures.encode(image, variant, mask)
    info = images.inspect_image(data)
    out = images.normalise(data, max_side=None)
    assert out.mode == "RGB" and out.size == image.size, (info, out.size)
    got = np.asarray(out, np.float64)
    want = np.asarray(image, np.float64)
    on_object = np.asarray(mask) > 0
    if variant.endswith(("grayscale", "16bit")):
        want = np.repeat(np.asarray(image.convert("L"), np.float64)[..., None], 3, axis=2)
    assert np.abs(got - want)[on_object].mean() < 6.0, variant
    if variant in ("png_rgba",):  # transparency becomes white
        assert got[~on_object].min() == 255


def test_exif_orientation_is_honoured(drawn):
    image, mask = drawn
    data = photo_fixtures.encode(image, "jpeg_exif_rotated", mask)
    info = images.inspect_image(data)
    assert info.orientation == 6 and (info.width, info.height) == (150, 200)  # stored sideways
    assert images.normalise(data, max_side=None).size == (200, 150)  # shown upright


def test_gif_uses_the_first_frame(drawn):
    image, mask = drawn
    data = photo_fixtures.encode(image, "gif_animated", mask)
    info = images.inspect_image(data)
    assert info.frames == 2
    got = np.asarray(images.normalise(data, max_side=None), np.float64)
    assert np.abs(got - np.asarray(image, np.float64)).mean() < 4.0  # not the flipped frame


def test_sixteen_bit_values_are_scaled_not_clipped():
    values = np.array([[0, 257 * 100, 65535]], np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, format="PNG")
    out = np.asarray(images.normalise(buffer.getvalue()))
    assert out[0, :, 0].tolist() == [0, 100, 255]


def test_longer_side_is_bounded_keeping_the_aspect_ratio(drawn):
    image, mask = drawn
    for variant in ("jpeg_rgb", "png_rgb"):
        out = images.normalise(photo_fixtures.encode(image, variant, mask), max_side=80)
        assert out.size == (80, 60)
    small = images.normalise(photo_fixtures.encode(image, "png_rgb", mask), max_side=1000)
    assert small.size == (200, 150)  # never enlarged


def test_normalised_png_is_what_tensorflow_can_decode(drawn):
    image, mask = drawn
    png = images.normalised_png(photo_fixtures.encode(image, "tiff_cmyk", mask))
    assert png.startswith(b"\x89PNG") and Image.open(io.BytesIO(png)).mode == "RGB"


@pytest.mark.parametrize("data, reason", [
    (b"", images.EMPTY),
    (b"hello, world", images.NOT_AN_IMAGE),
    (b"\x00\x00\x00\x18ftypheic" + bytes(40), images.UNSUPPORTED_FORMAT),
    (photo_fixtures.decompression_bomb_png(), images.DECOMPRESSION_BOMB),
    (photo_fixtures.decompression_bomb_png(12000, 12000), images.DECOMPRESSION_BOMB),
    (b"\xff\xd8\xff\xe0 not really a jpeg", images.CORRUPT),
])
def test_bad_bytes_raise_with_a_reason(data, reason):
    with pytest.raises(images.BadImage) as raised:
        images.inspect_image(data)
    assert raised.value.reason == reason


def test_truncated_images_are_detected(drawn):
    image, mask = drawn
    for variant in ("jpeg_rgb", "png_rgb", "gif_animated", "bmp_rgb"):
        data = photo_fixtures.encode(image, variant, mask)
        with pytest.raises(images.BadImage) as raised:
            images.inspect_image(data[:len(data) // 2])
        assert raised.value.reason == images.TRUNCATED, variant
    webp = photo_fixtures.encode(image, "webp_rgb", mask)
    with pytest.raises(images.BadImage) as raised:
        images.inspect_image(webp[:len(webp) // 2])
    assert raised.value.reason == images.CORRUPT and "WEBP" in raised.value.detail


def test_pixel_limit_is_checked_before_decoding():
    with pytest.raises(images.BadImage, match=r"40x30 = 1,200 pixels, more than the limit of "
                                              r"1,000"):
        images.inspect_image(photo_fixtures.encode(Image.new("RGB", (40, 30)), "png_rgb"),
                             max_pixels=1000)


def test_unsupported_image_formats_are_named():
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, format="PPM")
    with pytest.raises(images.BadImage, match="PPM is not supported"):
        images.inspect_image(buffer.getvalue())


@pytest.mark.parametrize("max_pixels", [1_000_000, 100_000_000, 2_000_000_000])
def test_the_decompression_bomb_reason_quotes_the_limit_that_was_set(max_pixels):
    bomb = photo_fixtures.decompression_bomb_png(30000, 30000)  # 900 million pixels
    if 30000 * 30000 <= max_pixels:
        assert images.open_image(bomb, max_pixels).size == (30000, 30000)  # not decoded
        return
    with pytest.raises(images.BadImage) as info:
        images.open_image(bomb, max_pixels)
    assert info.value.reason == images.DECOMPRESSION_BOMB
    assert f"more than the limit of {max_pixels:,} (--max-pixels)" in str(info.value)
