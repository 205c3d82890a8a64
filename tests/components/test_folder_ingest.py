"""The folder ExampleGen's pieces: examples, the plan, clear stops, the fingerprint."""

import os

import pytest
import tensorflow as tf
from tfx.proto import example_gen_pb2

from imagepipe.components import features
from imagepipe.components.folder_ingest import driver, examples, planning
from imagepipe.data import images, photo_folder
from imagepipe.testing import photo_fixtures

SPLITS = (("train", 14), ("eval", 3), ("test", 3))


@pytest.fixture()
def folder(tmp_path):
    return photo_fixtures.write_photo_folder(str(tmp_path / "photos"), ("a", "b", "c"),
                                             per_class=5, seed=4)


def _value(example, key):
    feature = example.features.feature[key]
    return feature.int64_list.value[0] if key == features.LABEL_KEY else \
        feature.bytes_list.value[0]


def test_example_holds_original_bytes_normalised_copy_label_path_and_hash(folder):
    folder_scan, assignment, report = planning.plan(
        folder.root, (("a", ("a",)), ("b", ("b",)), ("c", ("c",))), SPLITS, 1, 10 ** 8)
    photo = next(p for p in folder_scan.photos if p.format == "WEBP")
    example = examples.build_example(folder.root, photo, 2, max_side=64, max_pixels=10 ** 8)
    with open(os.path.join(folder.root, photo.path), "rb") as f:
        original = f.read()
    assert _value(example, features.ORIGINAL_IMAGE_KEY) == original
    assert _value(example, features.ORIGINAL_FORMAT_KEY) == b"WEBP"
    assert _value(example, features.CONTENT_HASH_KEY).decode() == \
        photo_folder.content_hash(original)
    assert _value(example, features.RELATIVE_PATH_KEY).decode() == photo.path
    assert _value(example, features.EXAMPLE_ID_KEY).decode() == photo.path
    assert _value(example, features.LABEL_KEY) == 2
    assert _value(example, features.LABEL_NAME_KEY).decode() == photo.class_name
    normalised = tf.io.decode_png(_value(example, features.IMAGE_KEY)).numpy()
    assert normalised.shape[2] == 3 and max(normalised.shape[:2]) == 64
    assert set(example.features.feature) == set(features.PHOTO_RAW_FEATURE_KEYS)
    assert report.ingested == 15 and set(assignment.values()) == {"train", "eval", "test"}


def test_a_file_changed_after_the_scan_stops_the_run(folder):
    folder_scan = photo_folder.scan(folder.root)
    photo = folder_scan.photos[0]
    with open(os.path.join(folder.root, photo.path), "ab") as f:
        f.write(b"\x00")
    with pytest.raises(examples.ChangedFileError, match="changed while it was being"):
        examples.build_example(folder.root, photo, 0, 64, 10 ** 8)


def test_plan_stops_clearly_when_a_class_has_no_usable_image(folder):
    for directory, _, names in os.walk(os.path.join(folder.root, "c")):
        for name in names:
            with open(os.path.join(directory, name), "wb") as f:
                f.write(b"")
    with pytest.raises(photo_folder.FolderError) as raised:
        planning.plan(folder.root, (("a", ("a",)), ("b", ("b",)), ("c", ("c",))), SPLITS,
                      1, images.DEFAULT_MAX_PIXELS)
    message = str(raised.value)
    assert ("class 'c' has no usable image: 5 files skipped (c/2024-holiday/IMG_0004.tif: "
            "empty; c/IMG_0001.jpg: empty;") in message
    assert f"imagepipe inspect {folder.root}" in message


def test_driver_fingerprints_the_whole_listing(folder):
    splits = [example_gen_pb2.Input.Split(name="folder", pattern="*")]
    processor = driver.FolderInputProcessor(folder.root, splits)
    assert processor.resolve_span_and_version() == (0, None)
    first = processor.get_input_fingerprint(0, None)
    assert first.startswith(f"folder:{folder.root},entries:15,")
    os.symlink("missing.jpg", os.path.join(folder.root, "a", "dangling.jpg"))
    processor.resolve_span_and_version()
    assert processor.get_input_fingerprint(0, None) != first
