"""imagepipe evaluate: a pushed Fashion-MNIST model on a folder of photo-like pictures."""

import io
import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from imagepipe.components import features, pusher
from imagepipe.testing import fixtures, photo_render
from imagepipe.pipeline import cli, photo_eval

ORIGINAL_LABELS = np.array([0, 1, 7, 2, 1, 9, 3, 1, 5, 4, 1, 7] * 2)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A labelled folder of photo-like JPEGs rendered from generated images, plus one WebP."""
    root = tmp_path_factory.mktemp("photos")
    images = fixtures.generate_images(ORIGINAL_LABELS, seed=11)
    labels = np.asarray(features.class_map_table())[ORIGINAL_LABELS]
    photo_render.write_benchmark(str(root), images, labels, features.SUPER_CLASS_NAMES,
                                 [f"p{i:02d}" for i in range(len(labels))], seed=3)
    with Image.open(root / "lower" / "p01.jpg") as jpeg:
        jpeg.save(root / "lower" / "extra.webp", format="WEBP")
    return str(root)


def test_local_evaluation_counts_every_photo_and_writes_its_report(pipeline_run, photos,
                                                                   tmp_path):
    _, summary = pipeline_run
    model = photo_eval.local_model(summary.pushed_destination)
    assert model.class_names == list(features.SUPER_CLASS_NAMES)  # its class_names signature
    evaluation = photo_eval.evaluate(photos, model)
    assert evaluation.total == len(ORIGINAL_LABELS) + 1 and not evaluation.skipped
    rows = np.asarray(evaluation.confusion_matrix).sum(axis=1).tolist()
    assert rows == [8, 9, 8]  # upper, lower (+ the WebP), shoes
    written = photo_eval.write_report(evaluation, str(tmp_path), photos, model)
    assert [os.path.basename(p) for p in written] == [
        photo_eval.REPORT_JSON, photo_eval.CONFUSION_PNG, photo_eval.CONTACT_SHEET_PNG]
    report = json.load(open(written[0]))
    assert report["total"] == evaluation.total
    assert report["model"].endswith(f"(version {os.path.basename(summary.pushed_destination)})")
    # One row per photo, with the model's answer for it.
    assert sorted(r["path"] for r in report["photos"]) == sorted(
        os.path.relpath(os.path.join(d, f), photos).replace(os.sep, "/")
        for d, _, files in os.walk(photos) for f in files)
    for row in report["photos"]:
        assert row["true"] == row["path"].split("/")[0]
        assert set(row["probabilities"]) == set(features.SUPER_CLASS_NAMES)
        assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
        assert row["predicted"] == max(row["probabilities"], key=row["probabilities"].get)
        assert 0.0 <= row["lit_fraction"] <= 1.0
        assert row["near_empty"] == (row["lit_fraction"] < photo_eval.NEAR_EMPTY_LIT_FRACTION)
    # Recall and balanced accuracy counted again from the rows per photo.
    recall = {name: np.mean([r["predicted"] == name for r in report["photos"] if r["true"] == name])
              for name in features.SUPER_CLASS_NAMES}
    assert report["recall"] == pytest.approx(recall)
    assert report["balanced_accuracy"] == pytest.approx(np.mean(list(recall.values())))
    assert report["near_empty_share"] == pytest.approx(
        np.mean([r["near_empty"] for r in report["photos"]]))
    for png in written[1:]:
        assert tf.io.decode_png(tf.io.read_file(png)).shape[-1] in (3, 4)


def test_lit_fraction_is_what_the_model_saw(pipeline_run, photos):
    _, summary = pipeline_run
    model = photo_eval.local_model(summary.pushed_destination)
    black, lit = np.zeros((28, 28, 1), np.float32), np.zeros((28, 28, 1), np.float32)
    lit[:14] = 1.0
    assert photo_eval.lit_fraction(black) == 0.0 and photo_eval.lit_fraction(lit) == 0.5
    assert photo_eval.lit_fraction(np.zeros((8, 8, 3), np.float32)) is None  # not FMNIST-like
    encoded = [fixtures_png(value) for value in (0, 255)]
    seen = model.normalize(encoded)
    assert seen.shape == (2, 28, 28, 1)
    assert photo_eval.lit_fraction(seen[0]) == 0.0


def fixtures_png(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (28, 28), value).save(buffer, format="PNG")
    return buffer.getvalue()


def test_served_evaluation_equals_the_local_one_and_learns_the_classes(pipeline_run, photos,
                                                                        tmp_path):
    from imagepipe.serving import client as client_lib, repository, server
    _, summary = pipeline_run
    base = str(tmp_path / "fashion_mnist")
    pusher.publish(summary.pushed_destination, base, {"model_uri": summary.model_uri})
    local = photo_eval.evaluate(photos, photo_eval.local_model(base))
    model = repository.ModelRepository("fashion_mnist", base, poll_seconds=0.2)
    with server.LocalServer([model], port=0) as running:
        with client_lib.ServingClient(running.url, "fashion_mnist", retries=0) as client:
            served_model = photo_eval.served_model(client, "fashion_mnist")
            assert served_model.class_names is None and served_model.normalize is not None
            served = photo_eval.evaluate(photos, served_model)
    assert served.model.endswith(f"version {local.model.rsplit(' ', 1)[-1].rstrip(')')}")
    assert served.confusion_matrix == local.confusion_matrix
    assert served.class_names == local.class_names
    for a, b in zip(served.photos, local.photos):
        assert (a.path, a.predicted) == (b.path, b.predicted)
        assert a.lit_fraction == pytest.approx(b.lit_fraction, abs=1e-6)


def test_balanced_accuracy_is_the_mean_recall_of_the_classes_with_photos():
    matrix = [[3, 1, 0], [0, 2, 0], [0, 0, 0]]  # upper 3 of 4 right, lower 2 of 2, no shoes
    evaluation = photo_eval.PhotoEvaluation(["upper", "lower", "shoes"], matrix, [])
    assert evaluation.recall == {"upper": 0.75, "lower": 1.0}
    assert evaluation.balanced_accuracy == 0.875  # (0.75 + 1.0) / 2, by hand
    assert evaluation.accuracy == 5 / 6
    assert photo_eval.PhotoEvaluation(["a"], [[0]], []).balanced_accuracy == 0.0


def test_class_names_learnt_from_answers_fill_unseen_slots_with_folder_names():
    from imagepipe.serving.client import Prediction
    answers = [Prediction(0, "upper", [0.9, 0.05, 0.05]), Prediction(2, "shoes", [0.1, 0.1, 0.8])]
    assert photo_eval.model_class_names(answers, ["upper", "lower", "shoes"]) == [
        "upper", "lower", "shoes"]
    assert photo_eval.model_class_names(answers, ["upper"]) == ["upper", "class 1", "shoes"]
    with pytest.raises(ValueError, match=r"\['hats', 'lower'\] are not classes"):
        photo_eval.model_class_names(answers, ["upper", "lower", "hats"])


def test_evaluate_command_prints_the_metrics_and_summarizes_what_it_left_out(
        pipeline_run, photos, tmp_path, capsys):
    _, summary = pipeline_run
    folder = tmp_path / "photos"
    shutil.copytree(photos, folder)
    (folder / "upper" / "notes.txt").write_text("not a photo")
    (folder / "upper" / "broken.jpg").write_bytes(b"not a jpeg")
    (folder / "shoes" / ".hidden.jpg").write_bytes(b"x")
    class_map = tmp_path / "classes.json"
    class_map.write_text(json.dumps({"upper": ["upper"], "lower": ["lower", "skirts"],
                                     "shoes": "shoes"}))
    code = cli.main(["evaluate", "--photos", str(folder), "--model-dir",
                     summary.pushed_destination, "--class-map", str(class_map),
                     "--output", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0
    assert "balanced accuracy:" in out and "recall per class: upper" in out
    assert "near-empty normalization: " in out and "% of the photos" in out
    assert "warning: the class map names folder 'skirts', which is not in the photo folder" in out
    left_out = [line for line in out.splitlines() if "left out in" in line]
    assert len(left_out) == 2  # one count line per folder, not one line per file
    assert left_out[1].strip().startswith("left out in upper/: 2 (")
    assert f"class map: {class_map}" in out
    for name in (photo_eval.CONFUSION_PNG, photo_eval.CONTACT_SHEET_PNG):
        assert os.path.exists(tmp_path / "out" / name)


def test_evaluate_help_shows_the_class_map_format_and_the_default_output(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # no line breaks inside the folder name
    with pytest.raises(SystemExit):
        cli.main(["evaluate", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert '{"upper": ["t-shirts", "shirts"]' in help_text
    assert "default: imagepipe-output/photo-evaluation" in help_text


def test_a_class_the_model_does_not_know_is_named(pipeline_run, photos, tmp_path, capsys):
    _, summary = pipeline_run
    (tmp_path / "upper").mkdir()
    (tmp_path / "hats").mkdir()
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buffer, format="PNG")
    for folder in ("upper", "hats"):
        for i in range(2):
            (tmp_path / folder / f"{i}.png").write_bytes(buffer.getvalue())
    code = cli.main(["evaluate", "--photos", str(tmp_path), "--model-dir",
                     summary.pushed_destination, "--output", str(tmp_path / "out")])
    assert code == 2 and "['hats'] are not classes of the model" in capsys.readouterr().err


def test_recall_per_source_folder_is_the_folders_row_of_the_unmerged_matrix(pipeline_run,
                                                                           photos, tmp_path):
    """A class map that puts the shoes folder into upper: the shoes folder's predictions
    are the shoes row of the confusion matrix without the class map."""
    _, summary = pipeline_run
    model = photo_eval.local_model(summary.pushed_destination)
    plain = photo_eval.evaluate(photos, model)
    class_map = tmp_path / "merged.json"
    class_map.write_text(json.dumps({"upper": ["upper", "shoes"], "lower": "lower"}))
    merged = photo_eval.evaluate(photos, model, str(class_map))
    assert merged.merges_folders and not plain.merges_folders
    folders = {entry.folder: entry for entry in merged.folders()}
    assert [(f.folder, f.true_class) for f in folders.values()] == [
        ("shoes", "upper"), ("upper", "upper"), ("lower", "lower")]
    for folder in ("upper", "lower", "shoes"):
        row = plain.confusion_matrix[plain.class_names.index(folder)]
        assert list(folders[folder].predicted.values()) == row
    assert folders["upper"].recall == pytest.approx(plain.recall["upper"])
    assert folders["lower"].recall == pytest.approx(plain.recall["lower"])
    assert "recall per source folder" in photo_eval.format_evaluation(merged)
    assert "recall per source folder" not in photo_eval.format_evaluation(plain)
