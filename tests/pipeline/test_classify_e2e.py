"""BulkInferrer in the DAG, run for real from the CLI: ``imagepipe run folder PATH --classify DIR``.

A tiny folder (three classes, six photos each, one epoch) trains and pushes a
model; the unlabelled folder's photos (nested, one corrupt file among them)
are classified by the blessed model after the Evaluator, one row per photo.
"""

import contextlib
import csv
import io
import json
import os

import pytest

from imagepipe.data import images
from imagepipe.pipeline import cli, results
from imagepipe.testing import photo_fixtures
# An autouse fixture: drops a progress handler an earlier CLI run left on the root logger.
from tests.pipeline.test_folder_spans import _no_stale_progress_handler  # noqa: F401
from tests.pipeline.test_drift_e2e import CLASSES, TINY


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("classify")
    root, unlabelled = str(base / "shop"), str(base / "unlabelled")
    output = str(tmp_path_factory.mktemp("classify_output"))
    photo_fixtures.write_photo_folder(root, CLASSES, per_class=6, seed=1, sizes=(64, 64),
                                      variants=("jpeg_rgb",))
    photo_fixtures.write_photo_folder(unlabelled, ("day1", "day2"), per_class=2, seed=2,
                                      sizes=(64, 64))
    with open(os.path.join(unlabelled, "day1", "broken.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 cut off")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main(["run", "folder", root, *TINY, "--output", output,
                         "--classify", unlabelled])
    summary = results.latest_run(os.path.join(output, "metadata.sqlite"),
                                 "imagepipe-folder-shop")
    photos = sorted(f"{day}/{name}" for day in ("day1", "day2")
                    for name in os.listdir(os.path.join(unlabelled, day)) if name != "broken.jpg")
    return code, printed.getvalue(), summary, photos


def test_one_row_per_photo_and_the_corrupt_file_listed(run):
    code, printed, summary, photos = run
    assert code == 0, printed
    assert summary.pushed and summary.components["BulkInferrer"] == "COMPLETE"
    with open(summary.classifications + ".jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    classified = [row for row in rows if "class" in row]
    assert sorted(row["path"] for row in classified) == photos and len(photos) == 4
    for row in classified:
        assert list(row["probabilities"]) == list(CLASSES)
        assert row["class"] in CLASSES
        assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert [(row["path"], row["skipped"]) for row in rows if "skipped" in row] == [
        ("day1/broken.jpg", images.CORRUPT)]
    with open(summary.classifications + ".csv", encoding="utf-8", newline="") as f:
        assert len(list(csv.reader(f))) == 1 + 4 + 1
    with open(summary.classifications + ".skipped.csv", encoding="utf-8", newline="") as f:
        assert [line[0] for line in csv.reader(f)] == ["path", "day1/broken.jpg"]


def test_the_run_summary_names_the_rows_files(run):
    _, printed, summary, _ = run
    assert f"{summary.classifications}.csv and .jsonl" in printed


def test_a_vertex_spec_compiles_with_the_classification(tmp_path):
    root, unlabelled = str(tmp_path / "shop"), str(tmp_path / "unlabelled")
    photo_fixtures.write_photo_folder(root, CLASSES, per_class=3, seed=1, sizes=(64, 64))
    os.makedirs(unlabelled)
    spec = str(tmp_path / "spec.json")
    assert cli.main(["compile", "folder", root, "--target", "vertex", "--image", "i",
                     "--pipeline-root", "gs://b/r", "--classify", unlabelled,
                     "--output", spec]) == 0
    with open(spec, encoding="utf-8") as f:
        text = f.read()
    assert "imagepipe.Classifications" in text and "bulk_inference" in text
