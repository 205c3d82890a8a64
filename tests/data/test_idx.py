"""The IDX reader on valid, truncated, wrong-magic and count-mismatch files."""

import gzip
import os

import numpy as np
import pytest

from imagepipe.data import fashion_mnist, idx
from imagepipe.testing import fixtures


def test_round_trip_gzip_and_plain(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    for compress in (True, False):
        path = str(tmp_path / f"images-{compress}")
        idx.write_idx(path, images, compress=compress)
        np.testing.assert_array_equal(idx.read_images(path, (28, 28)), images)
    with open(str(tmp_path / "images-True"), "rb") as f:
        assert f.read(2) == b"\x1f\x8b"


def test_labels_round_trip(tmp_path):
    labels = np.array([0, 9, 3], np.uint8)
    path = str(tmp_path / "labels.gz")
    idx.write_idx(path, labels)
    np.testing.assert_array_equal(idx.read_labels(path, 10), labels)


def test_truncated_data_names_the_file(tmp_path):
    content = idx.encode_idx(np.zeros((3, 28, 28), np.uint8))
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(content[:-100])
    with pytest.raises(idx.IdxFormatError, match="train-images-idx3-ubyte.*truncated data"):
        idx.read_images(str(path))


def test_truncated_gzip_names_the_file(tmp_path):
    raw = gzip.compress(idx.encode_idx(np.zeros((3, 28, 28), np.uint8)))
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(idx.IdxFormatError, match="t10k-images-idx3-ubyte.gz.*gzip"):
        idx.read_images(str(path))


def test_truncated_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(idx.encode_idx(np.zeros((3, 28, 28), np.uint8))[:10])
    with pytest.raises(idx.IdxFormatError, match="short.*truncated header"):
        idx.read_images(str(path))


def test_wrong_magic_names_the_file(tmp_path):
    labels_path = str(tmp_path / "labels.gz")
    idx.write_idx(labels_path, np.zeros(5, np.uint8))
    with pytest.raises(idx.IdxFormatError, match="labels.gz.*wrong magic number 0x00000801"):
        idx.read_images(labels_path)


def test_trailing_bytes(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(idx.encode_idx(np.zeros(4, np.uint8)) + b"xx")
    with pytest.raises(idx.IdxFormatError, match="2 unexpected bytes"):
        idx.read_labels(str(path))


def test_wrong_image_size(tmp_path):
    path = str(tmp_path / "images")
    idx.write_idx(path, np.zeros((2, 32, 32), np.uint8))
    with pytest.raises(idx.IdxFormatError, match="32x32, expected 28x28"):
        idx.read_images(path, (28, 28))


def test_label_out_of_range(tmp_path):
    path = str(tmp_path / "labels")
    idx.write_idx(path, np.array([1, 2, 12], np.uint8))
    with pytest.raises(idx.IdxFormatError, match="label 12 at index 2"):
        idx.read_labels(path, 10)


def test_count_mismatch_names_both_files(tmp_path):
    fixtures.write_fashion_mnist(str(tmp_path), train_per_label=2, test_per_label=1)
    idx.write_idx(str(tmp_path / "t10k-labels-idx1-ubyte.gz"), np.zeros(4, np.uint8))
    with pytest.raises(idx.IdxFormatError,
                       match=r"t10k-images-idx3-ubyte.gz holds 10 images but .*t10k-labels"):
        fashion_mnist.read_idx_directory(str(tmp_path))


def test_missing_file_is_named(tmp_path):
    fixtures.write_fashion_mnist(str(tmp_path), train_per_label=2, test_per_label=1)
    os.remove(tmp_path / "train-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte.gz"):
        fashion_mnist.read_idx_directory(str(tmp_path))


def test_directory_reads_both_parts_with_stable_ids(tmp_path):
    counts = fixtures.write_fashion_mnist(str(tmp_path), train_per_label=3, test_per_label=2)
    data = fashion_mnist.read_idx_directory(str(tmp_path))
    assert len(data) == counts["train"] + counts["t10k"] == 50
    assert data.ids[0] == "train/00000" and data.ids[-1] == "t10k/00019"
    assert sorted(np.bincount(data.labels).tolist()) == [5] * 10
    assert data.images.shape == (50, 28, 28) and data.images.dtype == np.uint8


def test_uncompressed_files_are_found(tmp_path):
    fixtures.write_fashion_mnist(str(tmp_path), train_per_label=2, test_per_label=1,
                                 compress=False)
    assert len(fashion_mnist.read_idx_directory(str(tmp_path))) == 30
