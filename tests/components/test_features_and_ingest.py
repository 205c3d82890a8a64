"""The class map and the ExampleGen's deterministic split and ingest report."""

import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf

from imagepipe.components import features
from imagepipe.components.ingest.examples import (ChunkToShard, encode_examples, make_example,
                                                  shard_path)
from imagepipe.components.ingest.report import build_report
from imagepipe.data import fashion_mnist, png, splits
from imagepipe.testing import fixtures


def test_class_map_groups_the_report_classes_and_leaves_out_bag():
    names = features.FASHION_MNIST_LABEL_NAMES
    members = features.super_class_members()
    assert members["upper"] == ("t-shirt/top", "pullover", "dress", "coat", "shirt")
    assert members["lower"] == ("trouser",)
    assert members["shoes"] == ("sandal", "sneaker", "ankle boot")
    assert [names[i] for i in features.excluded_labels()] == ["bag"]
    assert features.class_map_table() == (0, 1, 0, 0, 0, 2, 0, 2, features.UNMAPPED_CLASS, 2)


def test_transformed_name():
    assert features.transformed_name(features.IMAGE_KEY) == "image_xf"


def test_split_assignment_has_exact_proportions_and_is_seeded():
    first = splits.split_assignment(63000, [14, 3, 3], seed=1001)
    assert np.bincount(first).tolist() == [44100, 9450, 9450]
    np.testing.assert_array_equal(first, splits.split_assignment(63000, [14, 3, 3], seed=1001))
    assert not np.array_equal(first, splits.split_assignment(63000, [14, 3, 3], seed=1002))


def test_report_counts_what_was_left_out_and_each_split():
    images, labels = fixtures.labelled_images(num_per_label=10)
    data = fashion_mnist.LabelledImages(images, labels,
                                        tuple(f"x/{i}" for i in range(len(labels))))
    kept = np.isin(labels, list(features.FASHION_MNIST_CLASS_MAP))
    assignment = splits.split_assignment(int(kept.sum()), [14, 3, 3], 1001)
    report = build_report("idx", data, features.FASHION_MNIST_CLASS_MAP,
                          ["train", "eval", "test"], assignment, kept, 1001)
    assert report.left_out == {"bag": 10}
    assert report.images_read == 100 and report.kept == report.kept_examples == 90
    assert sum(report.split_totals.values()) == 90
    per_class = {name: sum(s.per_class[name] for s in report.splits.values())
                 for name in features.SUPER_CLASS_NAMES}
    assert per_class == {"upper": 50, "lower": 10, "shoes": 30}
    read_back = type(report).from_json(report.to_json())  # one writer, one reader
    assert read_back == report and list(read_back.splits) == ["train", "eval", "test"]


def test_example_holds_png_label_name_and_id():
    images, labels = fixtures.labelled_images(num_per_label=1)
    example = make_example(images[9], int(labels[9]), "train/00009")
    feature = example.features.feature
    decoded = tf.io.decode_png(feature[features.IMAGE_KEY].bytes_list.value[0]).numpy()
    np.testing.assert_array_equal(decoded[..., 0], images[9])
    assert feature[features.LABEL_KEY].int64_list.value == [9]
    assert feature[features.LABEL_NAME_KEY].bytes_list.value == [b"ankle boot"]
    assert feature[features.EXAMPLE_ID_KEY].bytes_list.value == [b"train/00009"]


def test_a_batch_encodes_the_examples_made_one_by_one():
    images, labels = fixtures.labelled_images(num_per_label=2)
    ids = [f"train/{i:05d}" for i in range(len(labels))]
    batch = encode_examples(images, labels, ids)
    assert len(batch) == len(labels)
    for serialized, image, label, example_id in zip(batch, images, labels, ids):
        assert tf.train.Example.FromString(serialized) == make_example(image, int(label),
                                                                       example_id)


def test_each_chunk_becomes_one_gzipped_shard_named_by_its_number(tmp_path):
    images, labels = fixtures.labelled_images(num_per_label=3)
    data = fashion_mnist.LabelledImages(images, labels,
                                        tuple(f"train/{i:05d}" for i in range(len(labels))))
    chunks = [np.arange(0, 12), np.arange(12, 24), np.arange(24, 30)]
    split_uri = str(tmp_path / "Split-train")
    tf.io.gfile.makedirs(split_uri)
    with beam.Pipeline() as pipeline:
        _ = (pipeline | beam.Create(list(enumerate(chunks)), reshuffle=True)
             | beam.ParDo(ChunkToShard(lambda: data, split_uri, len(chunks))))
    assert sorted(path.name for path in tmp_path.joinpath("Split-train").iterdir()) == [
        "data_tfrecord-00000-of-00003.gz", "data_tfrecord-00001-of-00003.gz",
        "data_tfrecord-00002-of-00003.gz"]
    for index, chunk in enumerate(chunks):
        records = [record.numpy() for record in tf.data.TFRecordDataset(
            shard_path(split_uri, index, len(chunks)), compression_type="GZIP")]
        assert [tf.train.Example.FromString(record) for record in records] == [
            make_example(images[i], int(labels[i]), data.ids[i]) for i in chunk]


@pytest.mark.parametrize("shape", [(28, 28), (5, 17), (1, 1)])
def test_png_encoding_is_lossless_for_pillow_and_tensorflow(shape):
    import io
    from PIL import Image
    image = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    encoded = png.encode_gray(image)
    np.testing.assert_array_equal(np.array(Image.open(io.BytesIO(encoded))), image)
    np.testing.assert_array_equal(tf.io.decode_png(encoded).numpy()[..., 0], image)
    np.testing.assert_array_equal(tf.io.decode_image(encoded).numpy()[..., 0], image)
