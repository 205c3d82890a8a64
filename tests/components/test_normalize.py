"""Photo normalization: any picture becomes a centred, dark-background 28x28 image."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from imagepipe.components import normalize
from imagepipe.components.normalize import foreground, ops
from imagepipe.data import fashion_mnist
from imagepipe.testing import fixtures


def _photo(height, width, box, background, colour, channels=3):
    """A flat object of ``colour`` at box (top, left, bottom, right) on ``background``."""
    image = np.empty((height, width, channels), np.uint8)
    image[:] = background
    top, left, bottom, right = box
    image[top:bottom, left:right] = colour
    return image


def _normalized(image):
    return normalize.fashion_mnist_like(tf.constant(image)).numpy()[..., 0]


def _centre_of_mass(image):
    ys, xs = np.indices(image.shape)
    total = image.sum()
    return (ys * image).sum() / total, (xs * image).sum() / total


@pytest.mark.parametrize("background,colour", [
    ((250, 250, 245), (40, 60, 160)),   # dark garment on a light shop background
    ((10, 10, 10), (220, 200, 180)),     # light garment on a dark background
    ((180, 200, 230), (120, 20, 20)),    # dark red on light blue
])
def test_object_ends_light_on_black_centred_and_fitted(background, colour):
    photo = _photo(300, 200, (30, 20, 120, 80), background, colour)  # off-centre, top left
    out = _normalized(photo)
    assert out.shape == (28, 28)
    assert out[:, :4].max() < 0.05 and out[:, -4:].max() < 0.05  # dark background beside it
    assert out[8:20, 8:20].mean() > 0.3  # object is light
    rows, cols = np.where(out > 0.2)
    assert rows.max() - rows.min() + 1 >= 27  # longest side (90 px tall) fitted to 28
    cy, cx = _centre_of_mass(out)
    assert abs(cy - 13.5) < 1.0 and abs(cx - 13.5) < 1.0


@pytest.mark.parametrize("shape", [(7, 5), (28, 28), (40, 900), (3000, 2000)])
def test_tiny_huge_and_non_square_images(shape):
    height, width = shape
    box = (height // 4, width // 4, max(height // 4 + 1, 3 * height // 4),
           width // 4 + max(1, width // 4))  # half the height, a quarter of the width
    out = _normalized(_photo(height, width, box, 255, 0, channels=1))
    assert out.shape == (28, 28) and np.isfinite(out).all()
    corners = [out[0, 0], out[0, -1], out[-1, 0], out[-1, -1]]
    assert out.max() > 0.5 and max(corners) < 0.05


def test_rgba_and_empty_images():
    rgba = _photo(50, 50, (10, 10, 40, 40), (255, 255, 255, 255), (0, 0, 0, 255), channels=4)
    assert _normalized(rgba)[14, 14] > 0.5
    blank = np.full((30, 30, 3), 200, np.uint8)
    out = _normalized(blank)
    assert out.shape == (28, 28) and out.max() < 0.05


def test_close_to_identity_on_fashion_mnist_like_images():
    images, _ = fixtures.labelled_images(num_per_label=3)
    outs = np.stack([_normalized(im[..., None]) for im in images])
    diffs = np.abs(outs - images / 255.0).mean(axis=(1, 2))
    assert np.median(diffs) < 0.03 and np.mean(diffs < 0.05) >= 0.8


def test_exact_identity_on_real_fashion_mnist_when_available():
    try:
        images = fashion_mnist.read_part_images(fashion_mnist.DEBIAN_DIR, "t10k")[:200]
    except FileNotFoundError:
        pytest.skip("the Debian Fashion-MNIST package is not installed")
    diffs = np.array([np.abs(_normalized(im[..., None]) - im / 255.0).mean() for im in images])
    assert np.median(diffs) < 1e-4 and diffs.mean() < 0.02


def _encoded_batch():
    """Generated Fashion-MNIST-like PNGs with photos of other sizes and modes mixed in."""
    import io
    from imagepipe.data import png
    from imagepipe.testing import photo_fixtures
    images = fixtures.generate_images(np.arange(60) % 10, seed=3)
    encoded = [png.encode_gray(image) for image in images]
    rng = np.random.default_rng(5)
    for index, variant in enumerate(("RGB", "L", "RGB")):
        photo, _ = photo_fixtures.draw_object(index, rng, 70 + index, 50)
        buffer = io.BytesIO()
        photo.convert(variant).save(buffer, format="PNG")
        encoded.insert(index * 20, buffer.getvalue())
    # A Fashion-MNIST-sized grayscale photo (dark garment on white): the photo path, in a batch.
    encoded.insert(50, png.encode_gray(255 - images[0]))
    return encoded


def test_batched_decoding_gives_the_per_image_pixels():
    from imagepipe.components import preprocessing
    encoded = _encoded_batch()
    batched = tf.function(preprocessing.decode_images)(tf.constant(encoded)).numpy()
    one_by_one = np.stack([preprocessing.decode_image(tf.constant(e)).numpy() for e in encoded])
    np.testing.assert_allclose(batched, one_by_one, atol=2e-4)
    eager = normalize.fashion_mnist_like_batch(tf.constant(fixtures.generate_images(
        np.arange(30) % 10, seed=4)[..., None]))
    per_image = np.stack([normalize.fashion_mnist_like(tf.constant(image[..., None])).numpy()
                          for image in fixtures.generate_images(np.arange(30) % 10, seed=4)])
    np.testing.assert_array_equal(eager.numpy(), per_image)  # eagerly: the same arithmetic


def test_an_image_gets_the_same_pixels_whatever_else_is_in_its_batch():
    from imagepipe.components import preprocessing
    encoded = _encoded_batch()
    decode = tf.function(preprocessing.decode_images)
    together = decode(tf.constant(encoded)).numpy()
    for start in (0, 7, 40):
        alone = decode(tf.constant(encoded[start:start + 5])).numpy()
        np.testing.assert_array_equal(alone, together[start:start + 5])


def _dark_floor_photos(count, seed):
    """Light objects on an unevenly lit dark floor, each box needing a resize (32 x 22)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:40, 0:50]
    photos = []
    for _ in range(count):
        floor = (1 + 4 * ys / 40 + 3 * xs / 50 + rng.normal(0, 0.8, ys.shape)) / 255
        floor[8:30, 10:42] = 0.8 + rng.normal(0, 0.04, (22, 32))
        photos.append(np.clip(floor, 0, 1).astype(np.float32)[..., None])
    return np.stack(photos)


def test_a_resized_dark_floor_photo_gets_its_own_pixels_in_a_graph_batch():
    # A graph regroups the floor plane's sum for one image, not for a batch of unknown size:
    # resized images are therefore computed one by one, each a batch of one.
    photos = _dark_floor_photos(6, seed=11)
    assert normalize.light_on_black(tf.constant(photos)).numpy().all()
    batched = tf.function(normalize.light_on_black_batch, input_signature=[
        tf.TensorSpec([None, None, None, 1], tf.float32)])(tf.constant(photos)).numpy()
    single = tf.function(normalize.fashion_mnist_like, input_signature=[
        tf.TensorSpec([None, None, 1], tf.float32)])
    for photo, together in zip(photos, batched):
        np.testing.assert_array_equal(together, single(tf.constant(photo)).numpy())


def test_grown_within_adds_the_weak_pixels_joined_to_the_strong_ones_only():
    strong = np.zeros((1, 40, 40), bool)
    strong[0, 18:22, 2:6] = True  # a print at the left end of a long, faint garment
    weak = np.zeros((1, 40, 40), bool)
    weak[0, 15:25, 2:38] = True  # the garment: joined to the print
    weak[0, 30:38, 30:38] = True  # a shadow apart from it
    grown = foreground.grown_within(tf.constant(strong), tf.constant(weak)).numpy()
    np.testing.assert_array_equal(grown, strong | np.pad(weak[:, :30], [[0, 0], [0, 10], [0, 0]]))


def test_joined_keeps_close_thin_stripes_holding_a_thick_piece_and_drops_a_lone_hook():
    mask = np.zeros((1, 40, 40), bool)
    mask[0, 2:14:4, 2:20] = mask[0, 3:14:4, 2:20] = True  # stripes two pixels thin, two apart
    mask[0, 6:10, 8:12] = True  # a button on them
    mask[0, 28:33, 28:33] = True  # a hook: a ring one pixel thin around a hole
    mask[0, 29:32, 29:32] = False
    closing = dataclasses.replace(normalize.DEFAULT, closing=5)
    joined = foreground.joined(tf.constant(mask), closing).numpy()
    striped = np.zeros_like(mask)
    striped[0, 2:12, 2:20] = True  # the stripes and their gaps, the garment
    np.testing.assert_array_equal(joined, striped)
    np.testing.assert_array_equal(  # alone, the opening leaves the button
        foreground.joined(tf.constant(mask)), foreground.opened(tf.constant(mask)))
    np.testing.assert_array_equal(foreground.closed(tf.constant(mask), closing)[0, 28:33, 28:33],
                                  True)


def test_corners_are_the_four_corner_squares_of_the_shorter_side_s_share():
    image = np.zeros((1, 20, 10, 3), np.float32)
    squares = [(slice(0, 2), slice(0, 2)), (slice(0, 2), slice(8, 10)),
               (slice(18, 20), slice(0, 2)), (slice(18, 20), slice(8, 10))]
    for value, (rows, columns) in enumerate(squares, start=1):
        image[0, rows, columns] = value
    image[0, 2:18, 2:8] = 9.0  # the middle and the rest of the border are never sampled
    image[0, 0, 2:8] = image[0, 2:18, 0] = 9.0
    samples = ops.corners(tf.constant(image), 0.2).numpy()  # 2 pixels of the 10-pixel side
    assert samples.shape == (1, 16, 3)
    np.testing.assert_array_equal(samples[0, :, 0], np.repeat([1.0, 2.0, 3.0, 4.0], 4))
