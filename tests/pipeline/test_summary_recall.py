"""The run summary's per-class figures are its confusion matrix's, also for a degenerate model.

TFMA computes the Evaluator's metrics here for real (``tfma.analyze_raw_data``,
with the pipeline's own metrics) on the answers of a model that predicts
``shoes`` for everything; the summary is read back from TFMA's output as a run's is.
"""

import pandas as pd
import pytest
import tensorflow_model_analysis as tfma

from imagepipe.components import settings
from imagepipe.components.sources.fashion_mnist import FashionMnistSettings
from imagepipe.pipeline import config as config_lib
from imagepipe.pipeline import pipeline, results, summary

# 2 upper, 3 lower and 1 shoes in the test split; every one predicted as shoes.
LABELS = [0, 0, 1, 1, 1, 2]
ALWAYS_SHOES = [0.01, 0.01, 0.98]


def _eval_config(tmp_path):
    """The pipeline's own EvalConfig, reading labels and predictions from a DataFrame."""
    config = config_lib.PipelineConfig(
        pipeline_name="p", pipeline_root=str(tmp_path), serving_dir=str(tmp_path),
        metadata_path=str(tmp_path / "m.sqlite"), code_fingerprint="test",
        data=FashionMnistSettings(source="idx", data_dir=str(tmp_path)),
        evaluation=settings.EvaluationSettings(min_accuracy=0.0,
                                               compare_with_latest_blessed=False))
    eval_config = pipeline.eval_config(config)
    spec = eval_config.model_specs[0]
    for field in ("signature_name", "preprocessing_function_names", "model_type"):
        spec.ClearField(field)
    spec.label_key, spec.prediction_key = "label", "prediction"
    return eval_config, list(pipeline.class_names(config))


@pytest.fixture(scope="module")
def degenerate(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("evaluation")
    eval_config, class_names = _eval_config(tmp_path)
    frame = pd.DataFrame({"label": LABELS, "prediction": [ALWAYS_SHOES] * len(LABELS)})
    output = str(tmp_path / "evaluation")
    tfma.analyze_raw_data(frame, eval_config, output_path=output)
    return results.read_evaluation(results.RunSummary(
        run_id="r", components={}, class_names=class_names), output)


def test_recall_and_precision_are_the_confusion_matrix_of_a_one_class_model(degenerate):
    names = degenerate.class_names
    assert degenerate.confusion_matrix == [[0, 0, 2], [0, 0, 3], [0, 0, 1]]
    assert degenerate.recall == {names[0]: 0.0, names[1]: 0.0, names[2]: 1.0}
    assert degenerate.precision == {names[0]: None, names[1]: None,
                                    names[2]: pytest.approx(1 / 6)}
    assert degenerate.accuracy == pytest.approx(1 / 6)


def test_the_printed_summary_says_what_the_matrix_says(degenerate):
    text = summary.format_summary(degenerate, 1.0)
    names = degenerate.class_names
    assert (f"recall per class: {names[0]} 0.00%, {names[1]} 0.00%, {names[2]} 100.00%"
            in text)


def test_a_class_without_test_images_has_no_recall():
    assert results.matrix_recall([[3, 1], [0, 0]], ["a", "b"]) == {"a": 0.75, "b": None}
    assert results.matrix_precision([[3, 1], [0, 0]], ["a", "b"]) == {"a": 1.0, "b": 0.0}
