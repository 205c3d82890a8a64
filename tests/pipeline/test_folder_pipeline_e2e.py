"""The photo-folder pipeline, run for real with LocalDagRunner on a generated messy folder."""

import io
import os

import numpy as np
import pytest
import tensorflow as tf

from imagepipe.components import features, reports, settings
from imagepipe.components.sources.photo_folder import FolderSettings
from imagepipe.data import class_map, photo_folder
from imagepipe.testing import photo_fixtures
from imagepipe.pipeline import config, local_runner, results, summary as summary_lib
from tests.conftest import tiny_config

PER_CLASS = 50
ALL_COMPONENTS = {"ExampleGen", "SpanDrift", "StatisticsGen", "SchemaGen", "ExampleValidator",
                  "Transform", "Trainer", "latest_blessed_model_resolver", "Evaluator", "Pusher"}


@pytest.fixture(scope="module")
def messy_folder(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("folder") / "writing-things")
    folder = photo_fixtures.write_messy_folder(root, per_class=PER_CLASS, seed=11,
                                               sizes=(96, 160))
    yield folder
    photo_fixtures.remove(root)


def folder_config(folder, output: str) -> config.PipelineConfig:
    """What `imagepipe run folder ROOT --image-size 64 --resize crop` builds, small and fast."""
    return tiny_config(
        folder.root, output, pipeline_name="imagepipe-folder-test",
        serving_model_name="writing-things",
        data=FolderSettings(data_dir=folder.root,
                                     class_map=class_map.from_folders(folder.class_names),
                                     image_size=64, max_side=128, resize_mode="crop"),
        training=settings.TrainingSettings(model_name="arch5", epochs=10, batch_size=16,
                                           early_stopping_patience=4),
        evaluation=settings.EvaluationSettings(min_accuracy=0.45))


@pytest.fixture(scope="module")
def folder_run(messy_folder, tmp_path_factory):
    output = str(tmp_path_factory.mktemp("folder_run"))
    pipeline_config = folder_config(messy_folder, output)
    local_runner.run(pipeline_config)
    return pipeline_config, results.latest_run(pipeline_config.metadata_path,
                                               pipeline_config.pipeline_name)


def test_every_component_ran_and_the_model_was_pushed(folder_run):
    pipeline_config, summary = folder_run
    assert set(summary.components) == ALL_COMPONENTS
    assert all(state == "COMPLETE" for state in summary.components.values()), summary.components
    assert summary.blessed and summary.pushed, (summary.accuracy, summary.confusion_matrix)
    assert summary.pushed_destination.startswith(
        os.path.join(pipeline_config.serving_dir, "writing-things"))
    assert os.path.exists(os.path.join(summary.pushed_destination, "saved_model.pb"))


def test_ingest_report_lists_every_skipped_path_and_counts_add_up(messy_folder, folder_run):
    _, summary = folder_run
    report = summary.ingest_report
    assert {e.path: e.reason for e in report.skipped_files} == messy_folder.expected_skipped
    assert report.ingested == len(messy_folder.expected_photos) == 3 * PER_CLASS
    assert report.seen == report.ingested + report.skipped == messy_folder.seen
    assert os.path.exists(summary.ingest_report_path)
    for split in report.splits.values():
        assert min(split.per_class.values()) >= 1
    assert report.split_totals == {"train": 105, "eval": 24, "test": 21}


def _examples(pipeline_root: str, split: str):
    pattern = os.path.join(pipeline_root, "ExampleGen", "examples", "*",
                           f"Split-{split}", "*")
    dataset = tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP")
    return [record.numpy() for record in dataset]


def test_examples_keep_the_original_bytes_with_path_and_hash(messy_folder, folder_run):
    pipeline_config, _ = folder_run
    records = _examples(pipeline_config.pipeline_root, "train")
    assert len(records) == 105
    example = tf.train.Example.FromString(records[0])
    feature = example.features.feature
    path = feature[features.RELATIVE_PATH_KEY].bytes_list.value[0].decode()
    original = feature[features.ORIGINAL_IMAGE_KEY].bytes_list.value[0]
    with open(os.path.join(messy_folder.root, path), "rb") as f:
        assert f.read() == original
    assert feature[features.CONTENT_HASH_KEY].bytes_list.value[0].decode() == \
        photo_folder.content_hash(original)
    class_name = feature[features.LABEL_NAME_KEY].bytes_list.value[0].decode()
    assert class_name == messy_folder.expected_photos[path]
    assert feature[features.LABEL_KEY].int64_list.value[0] == \
        messy_folder.class_names.index(class_name)


def test_evaluation_uses_the_folder_classes(folder_run):
    _, summary = folder_run
    assert summary.class_names == ["markers", "pencils", "pens"]
    assert summary.accuracy >= 0.45
    assert set(summary.recall) == {"markers", "pencils", "pens"}
    matrix = np.array(summary.confusion_matrix)
    assert matrix.shape == (3, 3) and matrix.sum() == summary.example_count == 21
    for i, name in enumerate(summary.class_names):  # top-1 recall, as the matrix counts
        assert summary.recall[name] == pytest.approx(matrix[i, i] / matrix[i].sum())
    assert summary.training.class_names == ("markers", "pencils", "pens")


def test_summary_shows_the_folder_report(folder_run):
    _, summary = folder_run
    report = summary.ingest_report
    text = summary_lib.format_summary(summary, 100.0)
    assert (f"{report.seen} entries seen = 150 ingested + {report.skipped} skipped (each "
            f"listed in {summary.ingest_report_path})") in text
    # One count line per folder and reason; every path is in the report, not the summary.
    assert "    skipped: pens/ 1 file (decompression_bomb), see ingest_report.json" in text
    assert "pens/panorama.png" not in text
    groups = reports.skipped_by_folder((e.path, e.reason) for e in report.skipped_files)
    counted = [line for line in text.splitlines() if line.startswith("    skipped: ")]
    assert len(counted) == sum(len(reasons) for reasons in groups.values())
    assert "    markers  " in text  # the confusion matrix rows use the folder's classes


def test_served_model_gives_the_same_answer_as_evaluation(folder_run):
    pipeline_config, summary = folder_run
    model = tf.saved_model.load(summary.pushed_destination)
    records = _examples(pipeline_config.pipeline_root, "test")
    images = [tf.train.Example.FromString(r).features.feature[features.IMAGE_KEY]
              .bytes_list.value[0] for r in records]
    served = model.signatures[features.SERVING_SIGNATURE](
        **{features.SERVING_INPUT_KEY: tf.constant(images)})
    evaluated = model.signatures[features.FROM_EXAMPLES_SIGNATURE](examples=tf.constant(records))
    np.testing.assert_allclose(served[features.PROBABILITIES_OUTPUT].numpy(),
                               evaluated[features.PROBABILITIES_OUTPUT].numpy(), atol=1e-6)
    names = {n.decode() for n in served[features.CLASS_NAMES_OUTPUT].numpy()}
    assert names <= {"markers", "pencils", "pens"}


def test_served_model_accepts_what_tensorflow_decodes(folder_run):
    _, summary = folder_run
    serve = tf.saved_model.load(summary.pushed_destination).signatures[
        features.SERVING_SIGNATURE]
    image, _ = photo_fixtures.draw_object(1, np.random.default_rng(0), 300, 200)
    requests = []
    for fmt in ("JPEG", "PNG", "GIF", "BMP"):
        buffer = io.BytesIO()
        image.save(buffer, format=fmt)
        requests.append(buffer.getvalue())
    outputs = serve(**{features.SERVING_INPUT_KEY: tf.constant(requests)})
    probabilities = outputs[features.PROBABILITIES_OUTPUT].numpy()
    assert probabilities.shape == (4, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_rerun_on_the_unchanged_folder_reuses_the_cache(messy_folder, folder_run):
    pipeline_config, first = folder_run
    local_runner.run(pipeline_config)
    second = results.latest_run(pipeline_config.metadata_path, pipeline_config.pipeline_name)
    for node in ("ExampleGen", "StatisticsGen", "SchemaGen", "Transform", "Trainer"):
        assert second.components[node] == "CACHED", second.components
    assert second.run_id != first.run_id


def test_evaluate_reads_the_folder_models_own_classes(messy_folder, folder_run, tmp_path):
    from imagepipe.pipeline import photo_eval
    _, summary = folder_run
    model = photo_eval.local_model(summary.pushed_destination)
    assert model.class_names == list(messy_folder.class_names)  # not Fashion-MNIST's
    evaluation = photo_eval.evaluate(messy_folder.root, model)
    scan = photo_folder.scan(messy_folder.root)
    assert len(evaluation.photos) == len(scan.photos) == evaluation.total
    assert {p.true_class for p in evaluation.photos} == set(messy_folder.class_names)
    # Its input is a 64x64 colour image, not a Fashion-MNIST-like one: no near-empty figure.
    assert evaluation.near_empty_share is None
    assert sum(sum(r.values()) for r in evaluation.skipped_by_folder().values()) == len(
        scan.skipped)
    written = photo_eval.write_report(evaluation, str(tmp_path), messy_folder.root, model)
    assert len(written) == 3
