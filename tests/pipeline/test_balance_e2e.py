"""Balancing inside the real pipeline run: measured counts, split hygiene, the training stream."""

import glob
import os

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from imagepipe.components import features, reports
from imagepipe.components.trainer import balance, data


def _only(pattern):
    matches = sorted(glob.glob(pattern))
    assert matches, pattern
    return matches[-1]


def _transform_output(config):
    return tft.TFTransformOutput(
        _only(os.path.join(config.pipeline_root, "Transform", "transform_graph", "*")))


def _transformed(config, split, transform_output):
    """A raw split through the transform graph, read as the Trainer reads it."""
    artifact = _raw_examples_artifact(config)
    return data.read_transformed([os.path.join(artifact.uri, f"Split-{split}", "*")],
                                 _data_accessor(artifact), transform_output)


def test_analyzer_counts_equal_the_generated_training_data(pipeline_run):
    config, summary = pipeline_run
    counts = balance.read_class_counts(_transform_output(config))
    per_class = summary.ingest_report.splits["train"].per_class
    assert counts == {i: per_class[name] for i, name in enumerate(features.SUPER_CLASS_NAMES)}


def test_no_eval_or_test_example_reaches_the_training_stream(pipeline_run):
    config, _ = pipeline_run
    output = _transform_output(config)
    held_out = set()
    for split in ("eval", "test"):
        held_out |= {e[data.EXAMPLE_ID_XF].numpy() for e in _transformed(config, split, output)}
    stream = balance.oversampled_stream(_transformed(config, "train", output),
                                        balance.read_class_counts(output), seed=1001)
    trained = {e[data.EXAMPLE_ID_XF].numpy() for e in stream}
    assert held_out and trained and not trained & held_out


def test_balance_report_is_stored_with_training_and_summarised(pipeline_run):
    config, summary = pipeline_run
    assert summary.training.balance.mode == "oversample"
    rows = summary.training.balance.classes
    assert len({row.per_epoch for row in rows}) == 1
    run_dir = _only(os.path.join(config.pipeline_root, "Trainer", "model_run", "*"))
    stored = reports.BalanceReport.read(os.path.join(run_dir, reports.BALANCE_REPORT_FILE))
    assert stored == summary.training.balance
    assert summary.training.stream.images == (rows[0].per_epoch * len(rows),) * \
        summary.training.epochs_run  # what the stream delivered, counted
    png = tf.io.decode_png(tf.io.read_file(os.path.join(run_dir, balance.REPORT_PNG)))
    assert png.shape[-1] in (3, 4)


def _raw_examples_artifact(config):
    from tfx.types import artifact_utils, standard_artifacts  # pylint: disable=g-import-not-at-top
    artifact = standard_artifacts.Examples()
    artifact.uri = _only(os.path.join(config.pipeline_root, "ExampleGen", "examples", "*"))
    artifact.split_names = artifact_utils.encode_split_names(["train", "eval", "test"])
    return artifact


def _data_accessor(artifact):
    from tfx.components.trainer.fn_args_utils import DataAccessor  # noqa
    from tfx.components.util import tfxio_utils  # pylint: disable=g-import-not-at-top
    return DataAccessor(
        tf_dataset_factory=tfxio_utils.get_tf_dataset_factory_from_artifact([artifact], []),
        record_batch_factory=None, data_view_decode_fn=None)


def test_the_trainer_stream_has_the_pixels_the_served_model_sees(pipeline_run):
    """Transform does not materialize: the Trainer transforms raw examples; serving must agree."""
    config, summary = pipeline_run
    assert not glob.glob(os.path.join(config.pipeline_root, "Transform", "transformed_examples"))
    artifact = _raw_examples_artifact(config)
    stream = list(_transformed(config, "train", _transform_output(config)).take(40))
    spec = _transform_output(config).raw_feature_spec()
    raw = [tf.io.parse_single_example(record, spec) for record in tf.data.TFRecordDataset(
        glob.glob(os.path.join(artifact.uri, "Split-train", "*.gz")),
        compression_type="GZIP").take(40)]
    assert [e[data.EXAMPLE_ID_XF].numpy() for e in stream] == \
        [r[features.EXAMPLE_ID_KEY].numpy().reshape(-1)[0] for r in raw]
    served = tf.saved_model.load(summary.pushed_destination).signatures[
        features.NORMALIZED_SIGNATURE](**{features.SERVING_INPUT_KEY: tf.stack(
            [tf.reshape(r[features.IMAGE_KEY], []) for r in raw])})[features.NORMALIZED_OUTPUT]
    np.testing.assert_array_equal(np.stack([e[data.IMAGE_XF].numpy() for e in stream]),
                                  served.numpy())
