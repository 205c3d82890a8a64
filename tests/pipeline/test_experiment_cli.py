"""``imagepipe experiment``: arguments, and clear errors before any pipeline runs."""

import pytest

from imagepipe.pipeline import cli


def test_help_lists_every_experiment(capsys):
    with pytest.raises(SystemExit):
        cli.main(["experiment", "--help"])
    out = capsys.readouterr().out
    for name in ("architectures", "data-size", "cross-validation", "transfer-grid"):
        assert name in out
    assert "resnet50-grid" not in out  # the old name still runs, unlisted


@pytest.mark.parametrize("argv,message", [
    (["architectures", "--models", "arch5,vgg"], "unknown model 'vgg'; known models: arch10"),
    (["data-size", "--fractions", "0.5,1.5"], "fractions must be in (0, 1], got 1.5"),
    (["cross-validation", "--folds", "1"], "at least 2 folds, got 1"),
    (["transfer-grid", ".", "--weights", "none"], "must be imagenet or a weights file"),
    (["transfer-grid", ".", "--model", "arch5"],
     "model 'arch5' has no pretrained base, so the grid has no 'weights' row; --model must be "
     "one of: efficientnet_lite0, efficientnet_lite0_lite2, efficientnet_lite2, resnet50"),
    (["transfer-grid", ".", "--model", "vgg"], "unknown model 'vgg'; the transfer grid takes"),
])
def test_bad_arguments_fail_before_running(argv, message, tmp_path, capsys):
    code = cli.main(["experiment", *argv, "--output", str(tmp_path / "out"),
                     *(["--data-dir", str(tmp_path)] if argv[0] != "transfer-grid" else [])])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_missing_weights_file_and_missing_photo_folder_are_named(tmp_path, capsys):
    missing = tmp_path / "w.h5"
    assert cli.main(["experiment", "transfer-grid", str(tmp_path),
                     "--weights", str(missing)]) == 2
    assert f"weights file not found: {missing}" in capsys.readouterr().err
    missing_folder = tmp_path / "nowhere"
    assert cli.main(["experiment", "transfer-grid", str(missing_folder)]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_the_old_grid_name_says_it_was_renamed_and_runs_the_grid_with_resnet50(tmp_path,
                                                                               capsys):
    from imagepipe.pipeline.commands import experiment
    from imagepipe.testing import photo_fixtures
    assert cli.main(["experiment", "resnet50-grid", str(tmp_path), "--weights", "none",
                     "--output", str(tmp_path / "out")]) == 2  # refused as transfer-grid is
    err = capsys.readouterr().err
    assert ("`imagepipe experiment resnet50-grid` was renamed to `imagepipe experiment "
            "transfer-grid --model resnet50`; running that") in err
    assert "must be imagenet or a weights file" in err
    assert not (tmp_path / "out").exists()
    photos = str(tmp_path / "photos")
    photo_fixtures.write_photo_folder(photos, per_class=2, sizes=(40, 48), variants=["png_rgb"])
    for argv, model in ((["resnet50-grid"], "resnet50"),
                        (["transfer-grid"], "efficientnet_lite0"),
                        (["transfer-grid", "--model", "resnet50"], "resnet50")):
        args = cli.build_parser().parse_args(["experiment", *argv, photos, "--image-size", "40"])
        planned = experiment.planned(args)
        assert [config.training.model_name for config, _ in planned] == [model] * 4
        assert [config.training.model_options.weights for config, _ in planned] == [
            "none", "none", "imagenet", "imagenet"]
        assert {config.data.image_size for config, _ in planned} == {40}


@pytest.mark.parametrize("argv,module,arguments", [
    (["architectures", "--models", "arch5,arch10"], "architectures", (["arch5", "arch10"],)),
    (["data-size", "--fractions", "0.5,1"], "data_size", ([0.5, 1.0],)),
    (["cross-validation", "--folds", "3"], "cross_validation", ("KFold(folds=3)",)),
    (["transfer-grid", ".", "--weights", "w.pt", "--model", "resnet50"], "transfer_grid",
     ("w.pt", "resnet50")),
    (["resnet50-grid", ".", "--weights", "w.pt"], "transfer_grid", ("w.pt", "resnet50")),
])
def test_each_experiment_runs_with_its_own_arguments(argv, module, arguments, monkeypatch):
    import importlib
    from imagepipe.pipeline.commands import experiment
    runs = []
    monkeypatch.setattr(experiment, "_prepared", lambda args: ("data", "training"))
    monkeypatch.setattr(experiment, "_execute", lambda args, name, body: body(name) or 0)
    monkeypatch.setattr(importlib.import_module(f"imagepipe.pipeline.experiments.{module}"),
                        "run", lambda *given: runs.append(given))
    assert cli.main(["experiment", *argv]) == 0
    name, data, training, *rest = runs[0]
    assert (len(runs), data, training) == (1, "data", "training")
    assert name == argv[0].replace("resnet50-grid", "transfer-grid")
    assert [repr(a) if "KFold" in repr(a) else a for a in rest] == list(arguments)
