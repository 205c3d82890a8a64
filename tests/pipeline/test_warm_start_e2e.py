"""--warm-start, run for real: span 1 trains from scratch, span 2's model starts from it."""

import json
import os

import pytest

from imagepipe.components import reports, settings
from imagepipe.components.sources.photo_folder import FolderSettings
from imagepipe.data import class_map, spans
from imagepipe.pipeline import local_runner, pipeline, results, summary as summary_lib
from imagepipe.testing import photo_fixtures
from tests.conftest import tiny_config
# An autouse fixture: drops a progress handler an earlier CLI run left on the root logger.
from tests.pipeline.test_folder_spans import _no_stale_progress_handler  # noqa: F401

CLASSES = ("markers", "pencils", "pens")


def _write_span(root: str, span: int) -> None:
    photo_fixtures.write_photo_folder(os.path.join(root, spans.folder_name(span)), CLASSES,
                                      per_class=20, seed=span, sizes=(64, 96),
                                      variants=("jpeg_rgb", "png_rgb"))


def _config(root: str, output: str, window: str, warm: bool):
    return tiny_config(
        root, output, pipeline_name="imagepipe-warm-start-test", serving_model_name="shop",
        data=FolderSettings(data_dir=root, class_map=class_map.from_folders(CLASSES),
                            image_size=32, max_side=64, spans=window),
        training=settings.TrainingSettings(model_name="arch5", epochs=40, batch_size=8,
                                           early_stopping=False, balance="none",
                                           warm_start=warm),
        evaluation=settings.EvaluationSettings(min_accuracy=0.0, max_accuracy_drop=1.0))


def _run(pipeline_config):
    local_runner.run(pipeline_config)
    summary = results.latest_run(pipeline_config.metadata_path, pipeline_config.pipeline_name)
    _, outputs = results.node_outputs(pipeline_config.metadata_path,
                                      pipeline_config.pipeline_name)
    with open(os.path.join(outputs["Trainer"]["model_run"][0].uri,
                           reports.HISTORY_FILE)) as f:
        history = json.load(f)
    return summary, history


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("warm") / "shop")
    output = str(tmp_path_factory.mktemp("warm_output"))
    _write_span(root, 1)
    first = _run(_config(root, output, "latest", warm=True))
    _write_span(root, 2)
    warm = _run(_config(root, output, "all", warm=True))
    scratch = _run(_config(root, output, "all", warm=False))
    return first, warm, scratch


def test_the_first_run_has_no_blessed_model_and_trains_from_scratch(runs):
    (summary, _), _, _ = runs
    assert summary.spans == "1" and summary.pushed
    assert summary.training.settings.warm_start
    assert summary.training.warm_started_from is None
    assert "warm start: no blessed model yet, trained from scratch" in (
        summary_lib.format_summary(summary, 1.0))


def test_the_next_run_starts_from_the_pushed_model(runs):
    (first, _), (warm, _), _ = runs
    assert warm.spans == "1,2"
    assert warm.training.warm_started_from == os.path.join(first.model_uri, "Format-Serving")
    text = summary_lib.format_summary(warm, 1.0)
    assert f"warm start: initialised from the latest blessed model {first.model_uri}" in text
    assert "spans trained on: 1, 2 (ingested now: 2; from the span cache: 1)" in text


def test_the_pipeline_keeps_spans_in_the_span_cache_under_its_root(tmp_path):
    _write_span(str(tmp_path / "shop"), 1)
    config = _config(str(tmp_path / "shop"), str(tmp_path / "out"), "all", warm=False)
    by_id = {c.id: c for c in pipeline.create_components(config)}
    assert by_id["ExampleGen"].exec_properties["span_cache"] == (
        f"{config.pipeline_root}/ExampleGen/span-cache")


def test_a_warm_start_begins_far_lower_than_from_scratch_on_the_same_data(runs):
    _, (_, warm_history), (scratch, scratch_history) = runs
    assert not scratch.training.settings.warm_start
    assert scratch.training.warm_started_from is None
    assert "warm start" not in summary_lib.format_summary(scratch, 1.0)
    assert warm_history[0]["loss"] < 0.7 * scratch_history[0]["loss"], (
        warm_history[0], scratch_history[0])
    assert warm_history[0]["accuracy"] > scratch_history[0]["accuracy"] + 0.2


def test_warm_start_feeds_the_resolver_to_the_trainer_for_fashion_mnist_too(tmp_path):
    for warm in (True, False):
        config = tiny_config(str(tmp_path), str(tmp_path / "out"),
                             training=settings.TrainingSettings(model_name="arch5",
                                                                warm_start=warm))
        by_id = {c.id: c for c in pipeline.create_components(config)}
        base = by_id["Trainer"].inputs.get("base_model")
        assert (base is not None) == warm
        if warm:
            assert base.producer_component_id == pipeline.RESOLVER_ID


def test_cross_validation_refuses_warm_start(tmp_path):
    config = tiny_config(str(tmp_path), str(tmp_path / "out"),
                         training=settings.TrainingSettings(warm_start=True))
    with pytest.raises(ValueError, match="cannot warm-start"):
        pipeline.create_components(config, pipeline.KFold(3))
