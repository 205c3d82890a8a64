"""Experiments end to end on tiny generated data: real pipeline runs, tables, PNGs, HTML."""

import json
import os

import pytest
import tensorflow as tf

from imagepipe.components import settings
from imagepipe.components.sources.fashion_mnist import FashionMnistSettings
from imagepipe.components.sources.photo_folder import FolderSettings
from imagepipe.pipeline import pipeline, results
from imagepipe.pipeline.experiments import (architectures, common, cross_validation, data_size,
                                            report as report_lib)

FAST = settings.TrainingSettings(epochs=1, batch_size=32)


def _experiment(name, tmp_path):
    lines = []
    experiment = common.Experiment(name, common.ExperimentSettings(
        output=str(tmp_path / name), code_fingerprint="test"), progress=lines.append)
    return experiment, lines


def _data(directory):
    return FashionMnistSettings(source="idx", data_dir=directory)


def _check_written(report, folder, runs):
    """The report folder holds the page, the results and decodable PNGs; tables have a row per run."""
    html_path = report.write(folder)
    names = os.listdir(folder)
    for required in (report_lib.REPORT_MD, report_lib.REPORT_HTML, report_lib.RESULTS_JSON):
        assert required in names
    pngs = [n for n in names if n.endswith(".png")]
    assert pngs
    for name in pngs:
        image = tf.io.decode_png(tf.io.read_file(os.path.join(folder, name)))
        assert image.shape[0] > 50 and image.shape[1] > 50
        assert name in open(html_path).read() and f"]({name})" in report.markdown()
    headers, rows = report.tables[0]
    assert len(rows) == runs and all(len(row) == len(headers) for row in rows)
    json.load(open(os.path.join(folder, report_lib.RESULTS_JSON)))
    return headers, rows, pngs


def test_architectures_compares_models_on_the_same_cached_splits(tiny_fashion_mnist, tmp_path):
    experiment, lines = _experiment("architectures", tmp_path)
    report = architectures.run(experiment, _data(tiny_fashion_mnist), FAST, ["arch4", "arch10"])
    headers, rows, pngs = _check_written(report, experiment.report_dir, runs=2)
    assert [row[0] for row in rows] == ["arch4", "arch10"]
    assert headers[:5] == ["model", "test accuracy", "recall upper", "recall lower",
                           "recall shoes"]
    assert {"curves_arch4.png", "confusion_arch4.png", "curves_arch10.png",
            "confusion_arch10.png"} <= set(pngs)
    second = results.latest_run(experiment.metadata_path, experiment.pipeline_name)
    for node in ("ExampleGen", "Transform"):
        assert second.components[node] == "CACHED"  # the same splits for every model
    assert second.components["Trainer"] == "COMPLETE"
    assert "latest_blessed_model_resolver" not in second.components  # one model evaluated
    assert any("arch10" in line for line in lines)


def test_data_size_trains_on_nested_fractions(tiny_fashion_mnist, tmp_path):
    experiment, _ = _experiment("data-size", tmp_path)
    report = data_size.run(experiment, _data(tiny_fashion_mnist), FAST, fractions=[0.5, 0.25])
    _, rows, pngs = _check_written(report, experiment.report_dir, runs=2)
    assert [row[0] for row in rows] == ["25%", "50%"]
    images = [int(row[1].replace(",", "")) for row in rows]
    assert 0 < images[0] < images[1] < 315  # 315 training images in all
    assert "accuracy_vs_data.png" in pngs
    assert report.results["enough_fraction"] in (0.25, 0.5)


def test_cross_validation_folds_are_disjoint_complete_and_each_scored(tiny_fashion_mnist,
                                                                      tmp_path):
    experiment, _ = _experiment("cross-validation", tmp_path)
    folds = 3
    report = cross_validation.run(experiment, _data(tiny_fashion_mnist), FAST,
                                  pipeline.KFold(folds))
    _, rows, pngs = _check_written(report, experiment.report_dir, runs=folds + 1)
    assert rows[-1][0] == "mean ± std" and "±" in rows[-1][3]
    assert sum(int(row[1]) for row in rows[:-1]) == 450  # every kept example scored once

    run_id, outputs = results.node_outputs(experiment.metadata_path, experiment.pipeline_name)
    assert {"ExampleValidator", "Transform"} <= set(outputs)  # the product's own DAG
    assert not {"Pusher", pipeline.RESOLVER_ID} & set(outputs)
    examples = outputs["ExampleGen"]["examples"][0].uri
    membership = cross_validation.fold_ids(examples, folds)
    all_ids = set().union(*membership.values())
    assert sum(len(ids) for ids in membership.values()) == len(all_ids) == 450  # disjoint
    assert max(len(i) for i in membership.values()) - min(len(i) for i in membership.values()) <= 1
    for fold in range(folds):
        training = common.read_training_summary(outputs, pipeline.fold_trainer_id(fold))
        assert training.training_examples == 450 - len(membership[f"fold{fold}"])
        assert training.settings.early_stopping is False and training.early_stopping is None
        assert training.class_counts_from == "recounted"
    assert {"fold_accuracy.png", "confusion_all_folds.png"} <= set(pngs)
    assert report.results["run_id"] == run_id


def test_check_folds_names_overlaps_and_gaps():
    assert "disjoint" in cross_validation.check_folds({"fold0": {"a"}, "fold1": {"b"}}, 2)
    with pytest.raises(AssertionError, match="fold1 shares 1 examples"):
        cross_validation.check_folds({"fold0": {"a", "b"}, "fold1": {"b"}}, 2)
    with pytest.raises(AssertionError, match="hold 2 examples, the data set 3"):
        cross_validation.check_folds({"fold0": {"a"}, "fold1": {"b"}}, 3)
    with pytest.raises(ValueError, match="at least 2 folds"):
        cross_validation.fold_names(1)


def test_enough_data_is_the_smallest_fraction_near_the_best():
    assert data_size.enough_data([0.1, 0.5, 1.0], [0.90, 0.989, 0.99], 0.005) == 0.5
    with pytest.raises(ValueError, match="fractions must be in"):
        data_size.check_fractions([0.5, 1.5])


def _grid_weights(tmp_path):
    """The grid's --weights for resnet50: a user's file (nothing ships ResNet50's)."""
    from imagepipe.components.models import resnet
    return resnet.make_weights_file(str(tmp_path / "resnet50_notop.h5"))


def _check_grid_tables(report, grid_module):
    """The 2x2 tables (ours beside the report's) and a row per cell with the new columns."""
    validation_grid, test_grid, runs = report.tables
    assert validation_grid[0] == ["", "no augmentation", "augmentation",
                                  "report: no augmentation", "report: augmentation"]
    assert validation_grid[1][0][3:] == ["39%", "45%"]
    assert validation_grid[1][1][0] == "weights" and validation_grid[1][1][3:] == ["90%", "95%"]
    assert all(cell.endswith("%") for row in test_grid[1] for cell in row[1:])
    headers, rows = runs
    assert [row[0] for row in rows] == [cell.label for cell in grid_module.CELLS]
    assert headers[1:5] == ["report val accuracy", "best val accuracy", "test accuracy",
                            "balanced accuracy"]
    assert {"s / epoch", "training s", "run s"} <= set(headers)
    recall = [i for i, h in enumerate(headers) if h.startswith("recall ")]
    assert len(recall) == 3
    for row in rows:
        recalls = [float(row[i].rstrip("%")) for i in recall if row[i] != "n/a"]
        assert float(row[4].rstrip("%")) == pytest.approx(sum(recalls) / len(recalls), abs=0.02)
    assert "39% / 45% / 90% / 95%" in report.markdown()


# One model: each run is four pipelines (about 4 minutes on 2 cores). The default base,
# efficientnet_lite0 with its installed ImageNet weights, runs the same folder pipeline in
# test_pretrained_folder_e2e.py and test_training_settings_effects.py.
@pytest.mark.parametrize("model,unfrozen", [("resnet50", 10)])
def test_transfer_grid_runs_the_four_cells_on_a_photo_folder(model, unfrozen, tmp_path):
    from imagepipe.testing import photo_fixtures
    from imagepipe.components.sources import photo_folder as folder_source
    from imagepipe.pipeline.experiments import transfer_grid
    folder = str(tmp_path / "photos")
    photo_fixtures.write_photo_folder(folder, per_class=8, seed=3, sizes=(40, 64))
    weights = _grid_weights(tmp_path)
    experiment, lines = _experiment("transfer-grid", tmp_path)
    training = settings.TrainingSettings(epochs=1, batch_size=8, fine_tune_epochs=1)
    data = folder_source.FOLDER.complete(FolderSettings(data_dir=folder, image_size=32))
    report = transfer_grid.run(experiment, data, training, weights, model)
    html_path = report.write(experiment.report_dir)
    _check_grid_tables(report, transfer_grid)
    assert report.results["model"] == model and model in report.title
    assert any(model in line for line in lines)
    for record in report.results["runs"]:
        training = record["summary"]["training"]
        assert training["settings"]["model_name"] == model
        options = training["settings"]["model_options"]
        assert options["weights"] == (weights if record["label"].startswith("weights")
                                      else "none")
        assert options["augment"] == record["label"].endswith("augmentation")
        fine = training["fine_tuning"]
        if options["weights"] == "none":
            assert fine is None  # nothing frozen, no second phase
        else:
            assert fine["epochs_run"] == 1 and fine["unfrozen_layers"] > 0
            assert unfrozen is None or fine["unfrozen_layers"] == unfrozen
    pngs = [n for n in os.listdir(experiment.report_dir) if n.endswith(".png")]
    assert len(pngs) == 8  # curves and a confusion matrix per cell
    for name in pngs:
        tf.io.decode_png(tf.io.read_file(os.path.join(experiment.report_dir, name)))
        assert name in open(html_path).read()


def test_transfer_grid_needs_pretrained_weights(tmp_path):
    from imagepipe.pipeline.experiments import transfer_grid
    with pytest.raises(ValueError, match="must be imagenet or a weights file"):
        transfer_grid.check_weights("none")
    with pytest.raises(FileNotFoundError, match="weights file not found"):
        transfer_grid.check_weights(str(tmp_path / "missing.h5"))


def test_transfer_grid_takes_only_models_with_a_pretrained_base():
    from imagepipe.components import models
    from imagepipe.pipeline.experiments import transfer_grid
    qualifying = transfer_grid.pretrained_models()
    assert qualifying == ["efficientnet_lite0", "efficientnet_lite0_lite2", "efficientnet_lite2",
                          "resnet50"]
    assert all(models.architecture(n).fine_tune is not None for n in qualifying)
    assert transfer_grid.check_model("efficientnet_lite0") == "efficientnet_lite0"
    with pytest.raises(ValueError, match="model 'arch5' has no pretrained base.*"
                                         "one of: efficientnet_lite0, efficientnet_lite0_lite2, "
                                         "efficientnet_lite2, resnet50"):
        transfer_grid.check_model("arch5")
    with pytest.raises(ValueError, match="unknown model 'vgg'.*efficientnet_lite2, resnet50"):
        transfer_grid.check_model("vgg")


def test_balanced_accuracy_is_the_mean_recall_of_the_classes_that_have_one():
    assert common.balanced_accuracy({"a": 1.0, "b": 0.5, "c": None}) == 0.75
    assert common.balanced_accuracy({"a": None}) is None
    summary = results.RunSummary(run_id="r", components={}, confusion_matrix=[[3, 1], [0, 2]])
    assert common.balanced_accuracy(common.top1_recall(summary, ["a", "b"])) == 0.875


def test_architectures_default_to_every_fashion_mnist_model_in_natural_order():
    assert architectures.default_models() == ["arch4", "arch5", "arch10", "proposed"]


def test_recall_in_reports_comes_from_the_confusion_matrix():
    summary = results.RunSummary(run_id="r", components={}, confusion_matrix=[[0, 0, 5],
                                                                              [1, 3, 0],
                                                                              [0, 0, 0]],
                                 recall={"a": 1.0, "b": 1.0, "c": 1.0})
    assert common.top1_recall(summary, ["a", "b", "c"]) == {"a": 0.0, "b": 0.75, "c": None}
    summary.confusion_matrix = []
    assert common.top1_recall(summary, ["a", "b"]) == {"a": 1.0, "b": 1.0}
    assert cross_validation.mean_std([0.99, None, 0.97]) == "98.00% ± 1.41"


def test_safe_names_of_run_labels():
    assert common.safe_name("no weights + augmentation") == "no-weights-augmentation"
    assert common.safe_name("25%") == "25" and common.safe_name("%") == "run"


def test_a_report_replaces_the_previous_one(tmp_path):
    first = report_lib.Report("first").image("old.png", report_lib.bar_chart(["a"], [0.5], "x",
                                                                             "t"), "old")
    first.write(str(tmp_path))
    (tmp_path / "notes.txt").write_text("mine")
    second = report_lib.Report("second").table(["h"], [["1"]])
    second.write(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["index.html", "notes.txt", "report.md",
                                            "results.json"]
    assert "| h |" in (tmp_path / "report.md").read_text()
