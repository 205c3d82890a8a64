"""Drift between spans, run for real from the CLI: a skewed span holds the push until accepted.

Span 1 (a balanced mix) is pushed; span 2 arrives with two classes in three
(12 markers, 3 pencils, 3 pens): SpanDrift finds the class mix drifted and
the Pusher holds the blessed model back; the same run with --accept-drift
pushes it without ingesting or training again.
"""

import contextlib
import io
import json
import os

import pytest

from imagepipe.components import drift, drift_page, features, span_drift, span_statistics
from imagepipe.data import spans
from imagepipe.pipeline import cli, pipeline, results
from imagepipe.testing import photo_fixtures
# An autouse fixture: drops a progress handler an earlier CLI run left on the root logger.
from tests.pipeline.test_folder_spans import _no_stale_progress_handler  # noqa: F401

CLASSES = ("markers", "pencils", "pens")
TINY = ["--model", "arch5", "--epochs", "1", "--batch-size", "8", "--image-size", "32",
        "--no-early-stopping", "--balance", "none", "--min-accuracy", "0",
        "--max-accuracy-drop", "1"]


def _write_span(root: str, span: int, per_class: int, keep: dict) -> None:
    """Span ``span`` with ``per_class`` photos per class, then only ``keep[class]`` of them."""
    folder = os.path.join(root, spans.folder_name(span))
    photo_fixtures.write_photo_folder(folder, CLASSES, per_class=per_class, seed=span,
                                      sizes=(64, 64), variants=("jpeg_rgb",))
    for name, count in keep.items():
        photos = sorted(os.path.join(base, file)
                        for base, _, files in os.walk(os.path.join(folder, name))
                        for file in files)
        for path in photos[count:]:
            os.remove(path)


def _run(root: str, output: str, *extra: str):
    """Runs ``imagepipe run folder``; returns (exit code, printed text, run summary, the
    versions then in the serving folder)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main(["run", "folder", root, *TINY, "--output", output, *extra])
    summary = results.latest_run(os.path.join(output, "metadata.sqlite"),
                                 f"imagepipe-folder-{os.path.basename(root)}")
    versions = sorted(os.listdir(os.path.join(output, "serving", "shop")))
    return code, printed.getvalue(), summary, versions


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("drift") / "shop")
    output = str(tmp_path_factory.mktemp("drift_output"))
    _write_span(root, 1, per_class=6, keep={})
    first = _run(root, output)
    _write_span(root, 2, per_class=12, keep={"pencils": 3, "pens": 3})
    held = _run(root, output)
    accepted = _run(root, output, "--accept-drift")
    return first, held, accepted, output


def test_the_first_span_has_nothing_to_compare_with_and_is_pushed(runs):
    (code, text, summary, versions), _, _, _ = runs
    assert code == 0 and summary.pushed
    assert summary.drift.previous_span is None and not summary.drift.drifted
    assert "drift: span 1 not compared (no earlier span in the window" in text
    assert "blessed and pushed to" in text and "push held" not in text
    assert versions == [os.path.basename(summary.pushed_destination)]


def test_a_skewed_span_raises_the_drift_anomaly_and_holds_the_push(runs):
    first, (code, text, summary, versions), _, _ = runs
    assert code == 0 and summary.spans == "1,2"
    assert summary.blessed and not summary.pushed
    report = summary.drift
    assert (report.previous_span, report.newest_span, report.drifted) == (1, 2, True)
    label = next(m for m in report.measures if m.feature == features.LABEL_NAME_KEY)
    assert (label.measure, round(label.value, 3), label.over) == (drift.L_INFINITY, 0.333, True)
    assert any(a.startswith("label_name: The Linfty distance") for a in report.anomalies)
    assert "drift: span 2 against span 1: DRIFT (threshold 0.2)" in text
    assert "    L-infinity distance: label_name 0.333 (over)\n" in text
    assert "    Jensen-Shannon divergence: width " in text
    assert ("    anomaly: label_name: The Linfty distance between current and previous is "
            "0.333333") in text
    assert summary.push_held.startswith("drift of span 2 against span 1 over the threshold 0.2 "
                                        "(label_name L-infinity distance 0.333")
    assert f"push held: {summary.push_held}; rerun with --accept-drift to push" in text
    assert versions == first[3]  # nothing new published


def test_the_statistics_per_span_and_the_drift_report_are_written(runs):
    _, (_, text, summary, _), _, output = runs
    assert f"drift report: {summary.drift_page}" in text
    with open(summary.drift_page, encoding="utf-8") as f:
        page = f.read()
    assert "Drift: the push is held back" in page and "Linfty distance" in page
    drift_uri = os.path.dirname(summary.drift_page)
    with open(os.path.join(drift_uri, drift.REPORT_FILE), encoding="utf-8") as f:
        assert json.load(f)["newest_span"] == 2
    assert os.path.exists(os.path.join(drift_uri, "Split-span-2", "SchemaDiff.pb"))
    _, outputs = results.node_outputs(os.path.join(output, "metadata.sqlite"),
                                      "imagepipe-folder-shop")
    statistics_uri = outputs[pipeline.DRIFT_ID][span_drift.STATISTICS_KEY][0].uri
    by_span = span_statistics.SpanStatisticsReport.read(
        os.path.join(statistics_uri, span_statistics.SUMMARY_FILE))
    assert [(s.span, s.classes) for s in by_span.spans] == [
        (1, {"markers": 6, "pencils": 6, "pens": 6}),
        (2, {"markers": 12, "pencils": 3, "pens": 3})]
    for span in (1, 2):
        assert os.path.exists(os.path.join(statistics_uri, f"Split-span-{span}",
                                           span_statistics.STATISTICS_FILE))
    assert drift_page.HTML_FILE == os.path.basename(summary.drift_page)


def test_accept_drift_pushes_the_held_model_without_ingesting_or_training_again(runs):
    _, (_, _, held, before), (code, text, summary, versions), _ = runs
    assert code == 0 and summary.pushed and summary.drift.drifted
    assert summary.model_uri == held.model_uri
    assert summary.drift_accepted == held.push_held
    assert f"drift accepted (--accept-drift): {held.push_held}" in text
    assert "push held" not in text
    assert len(versions) == 2 and before[0] in versions
    assert os.path.basename(summary.pushed_destination) == versions[-1]
    cached = {node for node, state in summary.components.items() if state == "CACHED"}
    assert {pipeline.EXAMPLE_GEN_ID, pipeline.DRIFT_ID, pipeline.TRANSFORM_ID,
            pipeline.TRAINER_ID} <= cached
    assert summary.components[pipeline.PUSHER_ID] == "COMPLETE"


def _folder_config(tmp_path, **data):
    from imagepipe.components.sources.photo_folder import FolderSettings
    from imagepipe.data import class_map
    from tests.conftest import tiny_config
    return tiny_config(str(tmp_path), str(tmp_path / "out"), data=FolderSettings(
        data_dir=str(tmp_path), class_map=class_map.from_folders(CLASSES), **data))


def test_span_drift_reads_the_examples_and_feeds_the_pusher(tmp_path):
    by_id = {c.id: c for c in pipeline.create_components(
        _folder_config(tmp_path, drift_threshold=0.35, accept_drift=True))}
    drift_check, pusher = by_id[pipeline.DRIFT_ID], by_id[pipeline.PUSHER_ID]
    assert drift_check.inputs[span_drift.EXAMPLES_KEY].producer_component_id == \
        pipeline.EXAMPLE_GEN_ID
    assert pusher.inputs["drift"].producer_component_id == pipeline.DRIFT_ID
    assert drift_check.exec_properties[span_drift.THRESHOLD_KEY] == 0.35
    assert pusher.exec_properties["accept_drift"] == 1
    defaults = {c.id: c for c in pipeline.create_components(_folder_config(tmp_path))}
    assert defaults[pipeline.DRIFT_ID].exec_properties[span_drift.THRESHOLD_KEY] == \
        drift.DEFAULT_THRESHOLD
    assert defaults[pipeline.PUSHER_ID].exec_properties["accept_drift"] == 0


def test_no_drift_check_without_spans_or_without_a_push(tmp_path):
    from tests.conftest import tiny_config
    fashion = {c.id: c for c in pipeline.create_components(
        tiny_config(str(tmp_path), str(tmp_path / "out")))}
    assert pipeline.DRIFT_ID not in fashion and "drift" not in fashion[pipeline.PUSHER_ID].inputs
    folds = {c.id for c in pipeline.create_components(_folder_config(tmp_path),
                                                      pipeline.KFold(3))}
    assert pipeline.DRIFT_ID not in folds
