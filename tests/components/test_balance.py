"""Balanced training streams: equal class shares, fresh augmented copies, untouched eval."""

import collections

import numpy as np
import pytest
import tensorflow as tf

from imagepipe.components import photo_scene, reports
from imagepipe.components.trainer import balance, data
from imagepipe.testing import fixtures

COUNTS = {0: 50, 1: 10, 2: 30}  # the 35k/7k/21k shape, scaled down
ORIGINAL_LABEL = {0: 0, 1: 1, 2: 7}


def _elements(images: np.ndarray, labels: np.ndarray) -> tf.data.Dataset:
    """Training elements of float [N, 28, 28, 1] ``images`` in [0, 1] and their ``labels``."""
    return tf.data.Dataset.from_tensor_slices({
        data.IMAGE_XF: images.astype(np.float32),
        data.LABEL_XF: labels.astype(np.int64),
        data.EXAMPLE_ID_XF: [f"train/{i:03d}" for i in range(len(labels))],
    })


def _examples() -> tf.data.Dataset:
    labels = np.repeat(list(COUNTS), list(COUNTS.values()))
    images = fixtures.generate_images(np.array([ORIGINAL_LABEL[c] for c in labels]), seed=5)
    return _elements(images[..., None].astype(np.float32) / 255.0, labels)


def _epoch(stream):
    return [{k: v.numpy() for k, v in element.items()} for element in stream]


def test_every_epoch_sees_each_class_equally_and_copies_top_up_minorities():
    stream = balance.oversampled_stream(_examples(), COUNTS, seed=1001)
    for _ in range(2):
        elements = _epoch(stream)
        by_class = collections.Counter(int(e[data.LABEL_XF]) for e in elements)
        assert by_class == {0: 50, 1: 50, 2: 50}
        copies = collections.Counter(int(e[data.LABEL_XF]) for e in elements if e[balance.IS_COPY])
        assert copies == {1: 40, 2: 20}
        natural_ids = {e[data.EXAMPLE_ID_XF] for e in elements if not e[balance.IS_COPY]}
        assert len(natural_ids) == 90  # every natural image once per epoch


def test_class_shares_within_two_percent_over_batches():
    batches = balance.balanced_training_stream(_examples(), balance.OVERSAMPLE, COUNTS,
                                               batch_size=16, seed=7)
    labels = np.concatenate([y.numpy() for _, y in batches.repeat(3)])
    shares = np.bincount(labels) / len(labels)
    np.testing.assert_allclose(shares, [1 / 3] * 3, atol=0.02)


def test_augmented_copy_differs_from_its_source_and_keeps_its_label():
    sources = {e[data.EXAMPLE_ID_XF]: e for e in _epoch(_examples())}
    elements = _epoch(balance.oversampled_stream(_examples(), COUNTS, seed=1001))
    copies = [e for e in elements if e[balance.IS_COPY]]
    assert copies
    for copy in copies:
        source = sources[copy[data.EXAMPLE_ID_XF]]
        assert copy[data.LABEL_XF] == source[data.LABEL_XF]
        assert not np.allclose(copy[data.IMAGE_XF], source[data.IMAGE_XF])


def test_same_seed_same_stream_and_fresh_copies_each_epoch():
    first = balance.oversampled_stream(_examples(), COUNTS, seed=1001)
    second = balance.oversampled_stream(_examples(), COUNTS, seed=1001)
    epoch_a, epoch_b = _epoch(first), _epoch(second)
    assert [e[data.EXAMPLE_ID_XF] for e in epoch_a] == [e[data.EXAMPLE_ID_XF] for e in epoch_b]
    for a, b in zip(epoch_a, epoch_b):
        np.testing.assert_array_equal(a[data.IMAGE_XF], b[data.IMAGE_XF])
    next_epoch = _epoch(first)
    copies_a = [e[data.IMAGE_XF] for e in epoch_a if e[balance.IS_COPY]]
    copies_next = [e[data.IMAGE_XF] for e in next_epoch if e[balance.IS_COPY]]
    assert not np.allclose(np.stack(copies_a), np.stack(copies_next))
    other = _epoch(balance.oversampled_stream(_examples(), COUNTS, seed=1002))
    assert [e[data.EXAMPLE_ID_XF] for e in other] != [e[data.EXAMPLE_ID_XF] for e in epoch_a]


@pytest.mark.parametrize("mode", [balance.NONE, balance.CLASS_WEIGHT])
def test_other_modes_keep_the_natural_data(mode):
    stream = balance.balanced_training_stream(_examples(), mode, COUNTS, batch_size=8, seed=1)
    labels = np.concatenate([y.numpy() for _, y in stream])
    assert collections.Counter(labels.tolist()) == COUNTS


@pytest.mark.parametrize("stream,batches", [
    (lambda batch_size=None: balance.natural_stream(_examples(), 5, batch_size=batch_size), 6),
    (lambda batch_size=None: balance.oversampled_stream(_examples(), COUNTS, 5, config=None,
                                                        batch_size=batch_size), 10)])
def test_batches_gathered_at_once_are_the_batches_of_the_elements(stream, batches):
    per_element, gathered = stream().batch(16), stream(batch_size=16)
    for _ in range(2):  # a fresh plan each epoch, the same on both
        pairs = list(zip(per_element, gathered, strict=True))
        assert len(pairs) == batches  # 90 natural, 150 oversampled elements; the last batch short
        for a, b in pairs:
            assert a.keys() == b.keys()
            for key in a:
                np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())


@pytest.mark.parametrize("stream", [
    lambda examples: balance.natural_stream(examples, 5),
    lambda examples: balance.oversampled_stream(examples, COUNTS, 5)])
def test_the_same_seed_gives_the_same_epochs_whatever_order_the_files_hold(stream):
    # ExampleGen's reshuffled chunks read back in another order from run to run.
    shuffled = _examples().shuffle(90, seed=3, reshuffle_each_iteration=False)
    assert _ids(_epoch(shuffled)) != _ids(_epoch(_examples()))
    as_read, reordered = stream(_examples()), stream(shuffled)
    for _ in range(2):
        a, b = _epoch(as_read), _epoch(reordered)
        assert _ids(a) == _ids(b)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x[data.IMAGE_XF], y[data.IMAGE_XF])
            assert x[balance.IS_COPY] == y[balance.IS_COPY]


def _ids(elements):
    return [e[data.EXAMPLE_ID_XF] for e in elements]


def test_augmented_copies_are_not_gathered_in_batches():
    with pytest.raises(ValueError, match="one element at a time"):
        balance.oversampled_stream(_examples(), COUNTS, 5, batch_size=16)


def test_evaluation_stream_is_the_data_in_order():
    evaluated = np.concatenate([y.numpy() for _, y in data.evaluation_stream(_examples(), 7)])
    natural = np.array([e[data.LABEL_XF] for e in _epoch(_examples())])
    np.testing.assert_array_equal(evaluated, natural)


def test_class_weights_equalise_the_total_weight_of_each_class():
    weights = balance.class_weights(COUNTS)
    totals = {c: weights[c] * n for c, n in COUNTS.items()}
    assert len(set(round(t, 6) for t in totals.values())) == 1
    assert balance.fit_kwargs(balance.CLASS_WEIGHT, COUNTS) == {"class_weight": weights}
    assert balance.fit_kwargs(balance.OVERSAMPLE, COUNTS) == {}


def test_report_and_chart(tmp_path):
    report = balance.report(balance.OVERSAMPLE, COUNTS, ("upper", "lower", "shoes"))
    assert [row.per_epoch for row in report.classes] == [50, 50, 50]
    assert report.before_total == 90 and report.per_epoch_total == 150
    balance.write_report(report, str(tmp_path))
    png = tf.io.decode_png(tf.io.read_file(str(tmp_path / balance.REPORT_PNG)))
    assert png.shape[0] > 100 and png.shape[1] > 100
    assert reports.BalanceReport.read(str(tmp_path / reports.BALANCE_REPORT_FILE)) == report


def test_unknown_mode_is_named():
    with pytest.raises(ValueError, match="unknown balance mode 'smote'"):
        balance.check_mode("smote")


def test_photo_like_renders_an_exact_share_anew_each_epoch_and_keeps_labels():
    natural = _epoch(_examples())
    stream = balance.photo_like(_examples(), fraction=0.5, seed=3, epoch_size=90)
    first, second = _epoch(stream), _epoch(stream)
    for rendered in (first, second):
        assert sum(bool(e[balance.IS_PHOTO]) for e in rendered) == 45
        changed = [not np.allclose(a[data.IMAGE_XF], b[data.IMAGE_XF], atol=1e-3)
                   for a, b in zip(natural, rendered)]
        assert changed == [bool(e[balance.IS_PHOTO]) for e in rendered]
        assert [e[data.LABEL_XF] for e in rendered] == [e[data.LABEL_XF] for e in natural]
        for element in rendered:
            assert element[data.IMAGE_XF].shape == (28, 28, 1)
            assert 0.0 <= element[data.IMAGE_XF].min() and element[data.IMAGE_XF].max() <= 1.0
    assert [e[balance.IS_PHOTO] for e in first] != [e[balance.IS_PHOTO] for e in second]
    untouched = _epoch(balance.photo_like(_examples(), 0.0, 3, epoch_size=90))
    assert balance.IS_PHOTO not in untouched[0] and len(untouched) == 90


@pytest.mark.parametrize("mode,per_epoch", [(balance.OVERSAMPLE, 150), (balance.NONE, 90),
                                            (balance.CLASS_WEIGHT, 90)])
@pytest.mark.parametrize("fraction", [0.0, 0.25])
def test_stream_counters_count_what_each_epoch_delivered(mode, per_epoch, fraction):
    counters = balance.StreamCounters()
    stream = balance.balanced_training_stream(_examples(), mode, COUNTS, batch_size=16, seed=7,
                                              photo_fraction=fraction, counters=counters)
    before = counters.snapshot()
    delivered = sum(int(y.shape[0]) for _, y in stream)
    after = counters.snapshot()
    counted = {name: after[name] - before[name] for name in after}
    assert delivered == counted["images"] == per_epoch
    assert counted["batches"] == -(-per_epoch // 16)
    assert counted["augmented_copies"] == (60 if mode == balance.OVERSAMPLE else 0)
    assert counted["photos_rendered"] == round(fraction * per_epoch)


@pytest.mark.parametrize("mode", balance.MODES)
def test_streams_keras_iterates_per_epoch_run_without_the_autotuner(mode):
    # Its sleeping thread made every iterator teardown (each new epoch) wait up to a minute.
    train = balance.balanced_training_stream(_examples(), mode, COUNTS, batch_size=8, seed=1,
                                             photo_fraction=0.25)
    validation = data.evaluation_stream(_examples(), 8)
    for stream in (train, validation):
        assert stream.options().autotune.enabled is False
    assert sum(int(y.shape[0]) for _, y in train) == balance.epoch_size(mode, COUNTS)


def test_only_the_classes_of_a_known_garment_kind_are_staged():
    """Same seed, with and without class 2 as shoes: only class 2's photos change."""
    def photos(garment_kinds):
        stream = balance.photo_like(_examples(), fraction=1.0, seed=3, epoch_size=90,
                                    garment_kinds=garment_kinds)
        return _epoch(stream)

    plain = photos(())
    shoes = photos((photo_scene.NO_KIND, photo_scene.NO_KIND, photo_scene.SHOE))
    changed = collections.Counter(
        int(a[data.LABEL_XF]) for a, b in zip(plain, shoes)
        if not np.array_equal(a[data.IMAGE_XF], b[data.IMAGE_XF]))
    assert set(changed) == {2}
    # Each of class 2's 30 photos is staged (a pair or worn) with probability
    # PhotoConfig.pair + PhotoConfig.worn (0.65).
    assert 12 <= changed[2] <= 28


KINDS = photo_scene.garment_kinds(["upper", "lower", "shoes"])


def _changed_per_class(first, second):
    return collections.Counter(
        int(a[data.LABEL_XF]) for a, b in zip(first, second)
        if not np.allclose(a[data.IMAGE_XF], b[data.IMAGE_XF]))


def test_copies_of_bottoms_and_shoes_are_recut_before_augmentation_and_nothing_else():
    def epoch(garment_kinds):
        return _epoch(balance.oversampled_stream(_examples(), COUNTS, seed=4,
                                                 garment_kinds=garment_kinds))

    plain, recut = epoch(()), epoch(KINDS)
    changed = _changed_per_class(plain, recut)
    assert set(changed) == {1, 2}  # tops are never recut, and draw the same copies
    # Copies per epoch: 40 bottoms, recut with probability shorts + skirt + legs_apart (0.8),
    # and 20 shoes, drawn as a pair with probability pair (0.5). Natural images stay as they are.
    assert 24 <= changed[1] <= 40 and 4 <= changed[2] <= 16
    for before, after in zip(plain, recut):
        if not before[balance.IS_COPY]:
            np.testing.assert_array_equal(before[data.IMAGE_XF], after[data.IMAGE_XF])
        assert after[balance.IS_RESHAPED] == after[balance.IS_COPY]  # not recut again
    assert balance.IS_RESHAPED not in plain[0]
    assert [e[data.LABEL_XF] for e in recut] == [e[data.LABEL_XF] for e in plain]


def test_without_photo_augmentation_garments_are_not_recut():
    def labelled_images(garment_kinds):
        stream = balance.balanced_training_stream(
            _examples(), balance.OVERSAMPLE, COUNTS, batch_size=16, seed=2,
            photo_fraction=0.0, garment_kinds=garment_kinds)
        return [(x.numpy(), y.numpy()) for x, y in stream]

    for (plain, _), (with_kinds, _) in zip(labelled_images(()), labelled_images(KINDS)):
        np.testing.assert_array_equal(plain, with_kinds)


BAR_COUNTS = {0: 60, 1: 12}  # class 1 a minority, so that it is copied


def _bars() -> tf.data.Dataset:
    """Upright bars (trouser legs, as it were), BAR_COUNTS of each class."""
    image = np.zeros((28, 28, 1), np.float32)
    image[4:24, 12:16] = 1.0
    labels = np.repeat(list(BAR_COUNTS), list(BAR_COUNTS.values()))
    return _elements(np.repeat(image[None], len(labels), axis=0), labels)


def _tilt_in_turns(image: np.ndarray) -> float:
    """How far the image's principal axis leans from upright, a fraction of a full turn."""
    rows, columns = np.mgrid[:image.shape[0], :image.shape[1]]
    bar = (image[..., 0] > 0.5).astype(np.float64)  # brightness moves the background too
    weights = bar / bar.sum()
    row_mean, column_mean = (weights * rows).sum(), (weights * columns).sum()
    covariance_rc = (weights * (rows - row_mean) * (columns - column_mean)).sum()
    spread = (weights * ((rows - row_mean) ** 2 - (columns - column_mean) ** 2)).sum()
    return abs(0.5 * np.arctan2(2 * covariance_rc, spread)) / (2 * np.pi)


@pytest.mark.parametrize("copy_rotation", [0.02, 0.2])
def test_copies_lean_no_further_than_copy_rotation(copy_rotation):
    stream = balance.balanced_training_stream(_bars(), balance.OVERSAMPLE, BAR_COUNTS,
                                              batch_size=200, seed=3,
                                              copy_rotation=copy_rotation)
    images, labels = next(iter(stream))
    tilts = [_tilt_in_turns(image) for image, label in zip(images.numpy(), labels.numpy())
             if label == 1]
    assert len(tilts) == 60  # 12 bars and 48 copies
    assert max(tilts) <= copy_rotation + 0.005
    assert max(tilts) >= copy_rotation * 0.6  # the range is used, not just allowed
