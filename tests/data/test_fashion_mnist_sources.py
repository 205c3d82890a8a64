"""The TFDS source and the canonical download with MD5 checks."""

import hashlib
import os

import numpy as np
import pytest

from imagepipe.data import fashion_mnist
from imagepipe.testing import fixtures


def test_tfds_source_reads_both_splits_as_the_idx_source_does():
    import tensorflow_datasets as tfds
    with tfds.testing.mock_data(num_examples=12):
        data = fashion_mnist.read_tfds(download=False)
    assert len(data) == 24
    assert data.images.shape == (24, 28, 28) and data.images.dtype == np.uint8
    assert data.ids[0] == "train/00000" and data.ids[12] == "t10k/00000"
    assert int(data.labels.max()) < 10


def _serve_files(directory):
    return "file://" + str(directory) + "/"


def test_download_verifies_md5(tmp_path, monkeypatch):
    source = tmp_path / "mirror"
    fixtures.write_fashion_mnist(str(source), train_per_label=2, test_per_label=1)
    digests = {name: hashlib.md5((source / name).read_bytes()).hexdigest()
               for name in fashion_mnist.CANONICAL_MD5}
    monkeypatch.setattr(fashion_mnist, "CANONICAL_MD5", digests)
    paths = fashion_mnist.download_canonical(str(tmp_path / "dest"), _serve_files(source),
                                             names=tuple(digests))
    assert [os.path.basename(p) for p in paths] == list(digests)
    assert len(fashion_mnist.read_idx_directory(str(tmp_path / "dest"))) == 30


def test_download_with_wrong_md5_is_deleted_and_reported(tmp_path, monkeypatch):
    source = tmp_path / "mirror"
    fixtures.write_fashion_mnist(str(source), train_per_label=2, test_per_label=1)
    name = "train-labels-idx1-ubyte.gz"
    monkeypatch.setattr(fashion_mnist, "CANONICAL_MD5", {name: "0" * 32})
    with pytest.raises(IOError, match=f"{name}: MD5 .* differs"):
        fashion_mnist.download_canonical(str(tmp_path / "dest"), _serve_files(source),
                                         names=(name,))
    assert not os.listdir(tmp_path / "dest")
