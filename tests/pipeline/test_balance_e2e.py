"""Balancing inside the real pipeline run: measured counts, split hygiene, balance report."""

import glob
import os

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
    root = _only(os.path.join(config.pipeline_root, "Transform", "transformed_examples", "*"))
    files = glob.glob(os.path.join(root, f"Split-{split}", "*.gz"))
    spec = transform_output.transformed_feature_spec()
    return (tf.data.TFRecordDataset(files, compression_type="GZIP")
            .map(lambda record: tf.io.parse_single_example(record, spec))
            .map(lambda e: {k: tf.reshape(v, [-1])[0] if k != data.IMAGE_XF else v
                            for k, v in e.items()}))


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
