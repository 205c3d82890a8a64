"""Photos with the failure modes seen on real shop and phone photos still give the object.

Each photo is rendered (``imagepipe.testing.hard_photos``) from a generated
Fashion-MNIST-like image, so the object the normalization should find is known:
its output must be a lit, fitted, centred object, and where the photo shows
the whole garment, the garment's own silhouette.
"""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from imagepipe.components import features, normalize, photo_render
from imagepipe.testing import fixtures, hard_photos

LIT = 0.3  # a pixel is lit above this (Fashion-MNIST garments are mostly far above it)
# Modes whose photos show the whole garment: the output is its silhouette.
WHOLE_GARMENT = ("light_on_light", "dark_on_dark", "folds")
SHOE_LABELS = (5, 7, 9)
BAG = 8

_normalize = tf.function(normalize.fashion_mnist_like,
                         input_signature=[tf.TensorSpec([None, None, 3], tf.uint8)])


def _labels(mode: str) -> np.ndarray:
    if mode == "shoe_pair":
        return np.array(SHOE_LABELS * 3)
    return np.array([label for label in range(10) if label != BAG
                     and not (mode == "hanger" and label in SHOE_LABELS)] * 2)


def _sources(mode: str) -> np.ndarray:
    return fixtures.generate_images(_labels(mode), seed=12 if mode == "shoe_pair" else 11)


def _rendered(mode: str):
    rng = np.random.default_rng(3)
    names = [features.SUPER_CLASS_NAMES[features.class_map_table()[label]]
             for label in _labels(mode)]
    for source, name in zip(_sources(mode), names):
        photo = hard_photos.render(source, mode, rng, name)
        yield source, _normalize(tf.constant(photo)).numpy()[..., 0]


def _centre_of_mass(image: np.ndarray) -> np.ndarray:
    ys, xs = np.indices(image.shape)
    return np.array([(ys * image).sum(), (xs * image).sum()]) / image.sum()


def _iou(output: np.ndarray, source: np.ndarray) -> float:
    lit, garment = output > LIT, source > LIT * 255
    return (lit & garment).sum() / (lit | garment).sum()


@pytest.mark.parametrize("mode", hard_photos.MODES)
def test_every_failure_mode_gives_a_lit_fitted_centred_object(mode):
    shares = []
    for source, output in _rendered(mode):
        lit = output > LIT
        shares.append(lit.mean())
        assert 0.02 <= lit.mean() <= 0.8, f"{mode}: {lit.mean():.0%} of the pixels lit"
        rows, cols = np.where(lit)
        assert max(np.ptp(rows), np.ptp(cols)) + 1 >= 24, f"{mode}: object not fitted"
        expected = (_centre_of_mass(source) if mode in WHOLE_GARMENT
                    else np.array([13.5, 13.5]))
        # Worn, the body is part of the object: the box is centred, the mass lies with the garment.
        centre = (np.array([rows.min() + rows.max(), cols.min() + cols.max()]) / 2
                  if mode == "worn" else _centre_of_mass(output))
        offset = np.hypot(*(centre - expected))
        assert offset <= 4.5, f"{mode}: centre of mass {offset:.1f} px off"
    # A garment cut off by the frame may show only a strip; most show much more.
    assert np.median(shares) >= 0.2, np.round(shares, 2)


@pytest.mark.parametrize("mode", WHOLE_GARMENT)
def test_a_whole_garment_comes_out_as_its_own_silhouette(mode):
    overlaps = np.array([_iou(output, source) for source, output in _rendered(mode)])
    assert overlaps.min() >= 0.5 and np.mean(overlaps >= 0.8) >= 0.9, np.round(overlaps, 2)


def _glare_photo(source: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A dark garment on a plain floor with a glare spot beside it, brighter than anything."""
    photo = np.clip(rng.normal(0.45, 0.01, (120, 150, 3)), 0, 1)
    alpha = np.asarray(Image.fromarray(source).resize((80, 80)), np.float64)[..., None] / 255
    photo[20:100, 10:90] = photo[20:100, 10:90] * (1 - alpha) + 0.1 * alpha
    ys, xs = np.indices((120, 150))
    spot = np.exp(-(((ys - 60) / 10.0) ** 2 + ((xs - 125) / 16.0) ** 2))
    return (np.clip(photo + 1.5 * spot[..., None], 0, 1) * 255).astype(np.uint8)


def test_a_glare_spot_is_neither_the_object_nor_its_white():
    rng = np.random.default_rng(4)
    for source in _sources("glare"):
        output = _normalize(tf.constant(_glare_photo(source, rng))).numpy()[..., 0]
        assert _iou(output, source) >= 0.7
        assert np.percentile(output[source > LIT * 255], 75) > 0.5  # the garment is light


def test_a_light_garment_on_a_dark_floor_is_not_taken_for_glare():
    """Near-white and grey like glare, but what is left without it is less than it or surrounds it."""
    rng = np.random.default_rng(5)
    for source in _sources("light_on_light")[:6]:
        photo = np.clip(rng.normal(0.12, 0.01, (120, 150, 3)), 0, 1)
        alpha = np.asarray(Image.fromarray(source).resize((80, 80)), np.float64)[..., None] / 255
        photo[20:100, 35:115] = photo[20:100, 35:115] * (1 - alpha) + 0.93 * alpha
        output = _normalize(tf.constant((photo * 255).astype(np.uint8))).numpy()[..., 0]
        assert _iou(output, source) >= 0.7


def test_both_shoes_of_a_pair_are_kept():
    for _, output in _rendered("shoe_pair"):
        columns = (output > LIT).any(axis=0)
        # Two shoes side by side: lit columns on both sides of the middle.
        assert columns[:11].any() and columns[17:].any()


def test_the_background_model_ignores_a_garment_cut_off_by_the_frame():
    photo = np.full((120, 100, 3), 230, np.uint8)
    photo[50:, 10:] = (40, 50, 120)  # a dark garment runs off the bottom and the right
    background = normalize.photo_background(tf.constant(photo[..., 0] / 255.0, tf.float32))
    assert np.allclose(background.numpy()[:45], 230 / 255.0, atol=0.08)
    assert background.numpy()[50:, 10:].min() > 0.6  # not tilted into the garment (0.16)
    output = normalize.fashion_mnist_like(tf.constant(photo)).numpy()[..., 0]
    assert (output > LIT).mean() > 0.3


def test_a_uniform_photo_stays_dark_and_anything_on_it_is_found():
    blank = np.full((64, 64, 3), 180, np.uint8)
    assert normalize.fashion_mnist_like(tf.constant(blank)).numpy().max() < 0.05
    speck = blank.copy()
    speck[30:34, 30:34] = 60
    assert normalize.fashion_mnist_like(tf.constant(speck)).numpy().max() > 0.5


def test_a_batch_of_photos_gets_each_photo_s_own_pixels():
    """The training stream normalizes rendered photos in batches; serving one at a time."""
    sources = fixtures.generate_images(np.array([0, 1, 3, 5, 7, 9]), seed=2)
    photos = photo_render.render_photos(tf.constant(sources[..., None] / 255.0, tf.float32),
                                   tf.constant([4, 2])).numpy()
    # A light-on-black picture in the same batch takes the direct path, the photos theirs.
    side = photos.shape[1]
    on_black = np.zeros((side, side, 3), np.float32)
    on_black[:28, :28] = sources[0][..., None] / 255.0
    batch = np.concatenate([photos, on_black[None]])
    batched = normalize.fashion_mnist_like_batch(tf.constant(batch)).numpy()
    for image, output in zip(batch, batched):
        np.testing.assert_allclose(output, normalize.fashion_mnist_like(tf.constant(image)),
                                   atol=1e-5)
    # The training renderer shows the whole garment, maybe mirrored: its silhouette comes back.
    for source, output in zip(sources, batched[:-1, ..., 0]):
        assert max(_iou(output, source), _iou(output, source[:, ::-1])) > 0.6


def _on_a_floor(source: np.ndarray, garment: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 photo: ``garment`` [80, 80, 1] shades in ``source``'s silhouette on a light floor."""
    photo = np.clip(rng.normal(0.6, 0.01, (120, 120, 3)), 0, 1)
    alpha = np.asarray(Image.fromarray(source).resize((80, 80)), np.float64)[..., None] / 255
    photo[20:100, 20:100] = photo[20:100, 20:100] * (1 - alpha) + garment * alpha
    return (np.clip(photo, 0, 1) * 255).astype(np.uint8)


def _printed_garment_photo(source: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A garment a little darker than its floor, with a dark print on its chest, as on real photos."""
    garment = np.full((80, 80, 1), 0.42)
    garment[25:55, 25:55] = 0.0
    garment += rng.normal(0.0, 0.03, garment.shape)  # the weave
    return _on_a_floor(source, garment, rng)


def test_weak_share_joins_a_faint_garment_to_its_print():
    """The print stands out far more than the body; with hysteresis the body joins it.

    ``weak_share`` 1.0 (the default, decision 0028) keeps the print alone.
    """
    rng = np.random.default_rng(6)
    hysteresis = dataclasses.replace(normalize.DEFAULT, weak_share=0.5)
    joined, print_only = [], []
    for source in fixtures.generate_images(np.array([0, 2, 4, 6]), seed=11):
        photo = tf.constant(_printed_garment_photo(source, rng))
        for params, overlaps in ((hysteresis, joined), (normalize.DEFAULT, print_only)):
            output = normalize.fashion_mnist_like(photo, 28, params).numpy()[..., 0]
            # The body is dim beside the print: any light pixel is the object's.
            lit, garment = output > 0.08, source > LIT * 255
            overlaps.append((lit & garment).sum() / (lit | garment).sum())
    assert min(joined) >= 0.6 and max(print_only) <= 0.5, (joined, print_only)


def _striped_garment_photo(source: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A garment striped dark and light in stripes as thin as a seam, with one button."""
    garment = np.full((80, 80, 1), 0.56)
    garment[(np.arange(80) // 2) % 2 == 0] = 0.1
    garment[30:35, 38:43] = 0.1
    garment += rng.normal(0.0, 0.02, garment.shape)
    return _on_a_floor(source, garment, rng)


def test_closing_finds_a_finely_striped_garment_whole():
    """Thin stripes, opened away like seams, leave the button; closed first, they are the garment.

    ``closing`` 1 (the default, decision 0029) keeps the button and a few specks only.
    """
    closing = dataclasses.replace(normalize.DEFAULT, closing=5)
    whole, specks = [], []
    for source in fixtures.generate_images(np.array([0, 2, 3, 4, 6]), seed=11):
        photo = tf.constant(_striped_garment_photo(source, np.random.default_rng(6)))
        for params, overlaps in ((closing, whole), (normalize.DEFAULT, specks)):
            output = normalize.fashion_mnist_like(photo, 28, params).numpy()[..., 0]
            lit, garment = output > 0.08, source > LIT * 255
            overlaps.append((lit & garment).sum() / (lit | garment).sum())
    assert min(whole) >= 0.8 and max(specks) <= 0.5, (whole, specks)


def _top_filling_the_frame(rng: np.random.Generator):
    """uint8 photo of a top whose shoulders and sleeves cover its upper border, and its mask.

    Most of the upper border is the garment, so the background sampled there is
    the garment's colour; the corners are still the floor.
    """
    photo = np.clip(rng.normal(0.75, 0.01, (128, 96, 3)), 0, 1)
    garment = np.zeros((128, 96), bool)
    garment[:16, 20:76] = True  # shoulders, clear of the top corners
    garment[16:52, :] = True  # sleeves out to both sides
    garment[52:110, 15:81] = True  # the body
    photo[garment] = np.clip(rng.normal(0.35, 0.02, (garment.sum(), 3)), 0, 1)
    return (photo * 255).astype(np.uint8), garment


def test_corners_find_a_top_filling_the_frame_whole():
    """Sampled at the corners, the background is the floor; on the upper border, the garment.

    ``corners`` 0 (the default) draws the floor's corners as the object instead.
    """
    photo, garment = _top_filling_the_frame(np.random.default_rng(1))
    rows, columns = np.flatnonzero(garment.any(axis=1)), np.flatnonzero(garment.any(axis=0))
    cropped = garment[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    width = round(28 * cropped.shape[1] / cropped.shape[0])
    expected = np.zeros((28, 28), bool)
    expected[:, (28 - width) // 2:(28 - width) // 2 + width] = np.asarray(
        Image.fromarray(cropped.astype(np.uint8) * 255).resize((width, 28))) > 127
    overlaps = []
    for params in (dataclasses.replace(normalize.DEFAULT, corners=0.15), normalize.DEFAULT):
        lit = normalize.fashion_mnist_like(tf.constant(photo), 28, params).numpy()[..., 0] > LIT
        overlaps.append((lit & expected).sum() / (lit | expected).sum())
    assert overlaps[0] >= 0.8 and overlaps[1] <= 0.2, overlaps
