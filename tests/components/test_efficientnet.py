"""efficientnet_lite0, alone and beside Lite2: the converted ImageNet weights and every option."""

import glob
import os

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from imagepipe.components import models
from imagepipe.components.models import efficientnet, efficientnet_lite, imagenet_check
from imagepipe.components.settings import ModelOptions
from imagepipe.components.trainer import frozen_features

REAL_PHOTOS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "photos",
                           "clothing", "validation")
needs_real_photos = pytest.mark.skipif(not os.path.isdir(REAL_PHOTOS),
                                       reason="../shared/photos/clothing is not here")


def _build(size=32, model="efficientnet_lite0", **options):
    spec = models.ModelSpec((size, size, 3), 3, "image_xf", options=ModelOptions(**options))
    return models.build(model, spec)


@needs_real_photos
def test_the_converted_imagenet_classifier_names_garments_on_real_clothing_photos():
    # Two photos of each clothing folder; hats included. Scrambled weights name one class
    # for everything (bench/imagenet_top5_bench.py shows both on every photo).
    paths = [p for folder in sorted(glob.glob(os.path.join(REAL_PHOTOS, "*")))
             for p in sorted(glob.glob(os.path.join(folder, "*.jpg")))[:2]]
    assert len(paths) >= 16
    model = imagenet_check.classifier(efficientnet.weights_file("imagenet"))
    results = imagenet_check.top5(model, paths)
    hits = [r for r in results if r.garment_in_top5]
    assert len(hits) >= 0.85 * len(results), [(r.path, r.top5) for r in results]
    assert len({r.top5[0] for r in results}) >= 5  # not one class for everything


@pytest.mark.parametrize("variant,blocks,parameters,side", [
    # The published state dicts' values, less their num_batches_tracked counters.
    (efficientnet_lite.LITE0, 16, 4_694_024, 224),
    (efficientnet_lite.LITE2, 21, 6_150_168, 260),
])
def test_each_variant_has_its_published_blocks_and_parameters(variant, blocks, parameters, side):
    base = efficientnet_lite.lite_base(side, variant)
    assert len(efficientnet_lite.blocks(variant)) == blocks
    assert efficientnet_lite.imagenet_classifier(base).count_params() == parameters
    assert base.output.shape[1:] == (-(-side // 32), -(-side // 32), 1280)


def test_lite2_scales_b0s_widths_and_depths_but_keeps_first_and_last_stage():
    stages = efficientnet_lite.LITE2.stages()
    assert [s.filters_out for s in stages] == [16, 24, 48, 88, 120, 208, 352]
    assert [s.repeats for s in stages] == [1, 3, 3, 4, 4, 5, 1]
    assert efficientnet_lite.LITE0.stages() == efficientnet_lite.B0_STAGES


def test_imagenet_weights_load_into_the_base_and_none_leaves_it_random():
    pretrained, scratch = _build(weights="imagenet"), _build(weights="none")
    stem = lambda m: m.get_layer(efficientnet_lite.LITE0.name).get_layer(
        "conv_stem").get_weights()[0]
    assert not np.allclose(stem(pretrained), stem(scratch))
    assert not pretrained.get_layer(efficientnet_lite.LITE0.name).trainable
    assert scratch.get_layer(efficientnet_lite.LITE0.name).trainable
    assert len(pretrained.trainable_weights) == 2  # the head only: the logits' kernel and bias


def test_augment_input_size_and_dropout_change_the_model():
    plain, augmented = _build(weights="imagenet"), _build(weights="imagenet", augment=True)
    assert "augmentation" not in [layer.name for layer in plain.layers]
    assert "augmentation" in [layer.name for layer in augmented.layers]
    resized = _build(size=48, weights="imagenet", input_size=64)
    assert resized.get_layer(efficientnet_lite.LITE0.name).input_shape[1:3] == (64, 64)
    assert _build(weights="imagenet", dropout=0.5).get_layer("head_dropout").rate == 0.5
    assert plain.get_layer("head_dropout").rate == efficientnet_lite.LITE0.dropout


@pytest.mark.parametrize("blocks", [0, 1, 3])
def test_fine_tune_blocks_unfreezes_that_many_top_blocks_and_no_batch_norm(blocks):
    model = _build(weights="imagenet", fine_tune_blocks=blocks)
    unfrozen = models.fine_tune("efficientnet_lite0", model, model_options := ModelOptions(
        weights="imagenet", fine_tune_blocks=blocks))
    base = model.get_layer(efficientnet_lite.LITE0.name)
    trainable = {layer.name for layer in base.layers if layer.trainable and layer.weights}
    assert unfrozen == len(trainable)
    assert not any("bn" in name for name in trainable)
    touched = {name.split("_")[1] for name in trainable if name.startswith("blocks_")}
    assert touched == {str(15 - i) for i in range(blocks)}
    assert ("conv_head" in trainable) == (blocks > 0), model_options


def test_the_served_input_is_raw_pixels_preprocessed_inside_the_graph():
    model = _build(weights="imagenet")
    layer = model.get_layer("preprocess_input")
    np.testing.assert_allclose(layer(tf.constant([[0.0, 127 / 255, 1.0]])).numpy(),
                               [[-127 / 128, 0.0, 1.0]], atol=1e-6)


def test_a_frozen_base_is_cut_at_its_features_and_the_head_gives_the_same_logits():
    model = _build(weights="imagenet")
    cut = frozen_features.split(model, augmented=False)
    assert cut is not None and cut.head.count_params() == 1280 * 3 + 3
    images = tf.random.stateless_uniform([4, 32, 32, 3], seed=[1, 2])
    examples = tf.data.Dataset.from_tensor_slices({"image_xf": images,
                                                   "label_xf": tf.constant([0, 1, 2, 0])})
    features = next(iter(frozen_features.extract(cut.extractor, examples).batch(4)))
    np.testing.assert_array_equal(features["label_xf"], [0, 1, 2, 0])
    np.testing.assert_allclose(cut.head(features["image_xf"], training=False),
                               model(images, training=False), rtol=1e-4, atol=1e-5)


def test_no_cut_with_augmentation_or_a_base_that_trains():
    assert frozen_features.split(_build(weights="imagenet", augment=True), augmented=True) is None
    assert frozen_features.split(_build(weights="none"), augmented=False) is None


def _pair(size=32, **options):
    return _build(size, efficientnet.PAIR_NAME, **options)


def test_the_pair_joins_both_bases_pooled_features_each_as_it_is_alone():
    pair, lite0 = _pair(weights="imagenet"), _build(weights="imagenet")
    assert pair.get_layer("features").output.shape[1:] == (2 * 1280,)
    assert not pair.get_layer("efficientnet_lite0").trainable
    assert not pair.get_layer("efficientnet_lite2").trainable
    assert len(pair.trainable_weights) == 2  # the head only
    images = tf.random.stateless_uniform([2, 32, 32, 3], seed=[3, 4])
    joined = keras.Model(pair.input, pair.get_layer("features").output)(images)
    alone = keras.Model(lite0.input, lite0.get_layer("features").output)(images)
    np.testing.assert_allclose(joined[:, :1280], alone, rtol=1e-5, atol=1e-6)
    assert float(tf.reduce_max(tf.abs(joined[:, 1280:] - alone))) > 0.01  # Lite2's own


def test_the_pair_is_cut_at_its_joined_features_and_fine_tunes_both_bases():
    pair = _pair(weights="imagenet")
    cut = frozen_features.split(pair, augmented=False)
    assert cut is not None and cut.head.count_params() == 2 * 1280 * 3 + 3
    unfrozen = models.fine_tune(efficientnet.PAIR_NAME, pair,
                                ModelOptions(weights="imagenet", fine_tune_blocks=2))
    for variant, top in ((efficientnet_lite.LITE0, {"14", "15"}),
                         (efficientnet_lite.LITE2, {"19", "20"})):
        trainable = {layer.name for layer in pair.get_layer(variant.name).layers
                     if layer.trainable and layer.weights}
        assert {name.split("_")[1] for name in trainable if name.startswith("blocks_")} == top
        assert "conv_head" in trainable
    assert unfrozen == 2 * (2 * 3 + 1)  # per base: 2 blocks x 3 convolutions, the head conv


def test_the_pair_refuses_a_weights_file_naming_it_and_the_single_models():
    with pytest.raises(ValueError, match=r"takes --weights imagenet or none: /x/w\.pth holds "
                                         r"one base's weights; pass it with --model "
                                         r"efficientnet_lite0 or efficientnet_lite2"):
        _pair(weights="/x/w.pth")
    assert "/x/w.pth" in models.architecture(efficientnet.PAIR_NAME).check_weights("/x/w.pth")
    assert models.architecture(efficientnet.PAIR_NAME).native_size == 260


def test_the_pairs_input_size_and_dropout_reach_both_bases_and_its_head():
    pair = _pair(size=48, weights="none", input_size=64, dropout=0.4)
    for variant in (efficientnet_lite.LITE0, efficientnet_lite.LITE2):
        assert pair.get_layer(variant.name).input_shape[1:3] == (64, 64)
    assert pair.get_layer("head_dropout").rate == 0.4
    assert _pair(weights="none").get_layer("head_dropout").rate == efficientnet.PAIR_DROPOUT
