"""The unlabelled-folder ExampleGen: one split of photos with their paths, corrupt files listed."""

import glob
import json
import os

import pytest
import tensorflow as tf
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts

from imagepipe.components import features, reports
from imagepipe.components.unlabelled_ingest import component, driver, executor
from imagepipe.components.unlabelled_ingest import report as report_lib
from imagepipe.components.unlabelled_ingest import spec
from imagepipe.testing import photo_fixtures


@pytest.fixture()
def folder(tmp_path):
    root = photo_fixtures.write_photo_folder(str(tmp_path / "unlabelled"), ("x", "y"),
                                             per_class=2, seed=30).root
    with open(os.path.join(root, "broken.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 not really a JPEG")
    return root


def _run(root, output):
    built = component.UnlabelledExampleGen(root, max_side=64)
    properties = dict(built.exec_properties)  # the protos already JSON, as a run gets them
    examples = standard_artifacts.Examples()
    examples.uri = output
    executor.Executor().Do({}, {"examples": [examples]}, properties)
    return examples


def _written(output):
    files = glob.glob(os.path.join(output, f"Split-{spec.SPLIT}", "*.gz"))
    return [tf.train.Example.FromString(record.numpy())
            for record in tf.data.TFRecordDataset(files, compression_type="GZIP")]


def test_every_photo_is_one_example_and_the_corrupt_file_is_listed(folder, tmp_path):
    output = str(tmp_path / "examples")
    examples = _run(folder, output)

    written = _written(output)
    paths = sorted(e.features.feature[features.RELATIVE_PATH_KEY].bytes_list.value[0].decode()
                   for e in written)
    photos = sorted(os.path.relpath(path, folder).replace(os.sep, "/")
                    for path in glob.glob(os.path.join(folder, "*", "*")))
    assert paths == photos and len(paths) == 4
    for example in written:
        image = tf.io.decode_png(example.features.feature[features.IMAGE_KEY].bytes_list.value[0])
        assert image.shape[-1] == 3 and max(image.shape[:2]) <= 64
        assert features.LABEL_KEY not in example.features.feature
    report = report_lib.UnlabelledIngestReport.read(
        os.path.join(output, reports.INGEST_REPORT_FILE))
    assert (report.seen, report.ingested, report.skipped) == (5, 4, 1)
    assert [entry.path for entry in report.skipped_files] == ["broken.jpg"]
    assert examples.get_int_custom_property("num_examples") == 4
    assert examples.get_int_custom_property("num_skipped") == 1
    assert json.loads(examples.split_names) == [spec.SPLIT]


def test_the_fingerprint_follows_the_whole_listing(folder):
    splits = [example_gen_pb2.Input.Split(name="folder", pattern="*")]
    processor = driver.UnlabelledDriver(None).get_input_processor(splits, None, folder)
    assert processor.resolve_span_and_version() == (0, None)
    before = processor.get_input_fingerprint(0, None)
    with open(os.path.join(folder, "x", "new.png"), "wb") as f:
        f.write(b"later")
    processor.resolve_span_and_version()
    assert processor.get_input_fingerprint(0, None) != before
