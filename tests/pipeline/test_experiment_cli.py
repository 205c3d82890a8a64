"""``imagepipe experiment``: arguments, and clear errors before any pipeline runs."""

import pytest

from imagepipe.pipeline import cli


def test_help_lists_every_experiment(capsys):
    with pytest.raises(SystemExit):
        cli.main(["experiment", "--help"])
    out = capsys.readouterr().out
    for name in ("architectures", "data-size", "cross-validation", "resnet50-grid"):
        assert name in out


@pytest.mark.parametrize("argv,message", [
    (["architectures", "--models", "arch5,vgg"], "unknown model 'vgg'; known models: arch10"),
    (["data-size", "--fractions", "0.5,1.5"], "fractions must be in (0, 1], got 1.5"),
    (["cross-validation", "--folds", "1"], "at least 2 folds, got 1"),
    (["resnet50-grid", ".", "--weights", "none"], "must be imagenet or a weights file"),
])
def test_bad_arguments_fail_before_running(argv, message, tmp_path, capsys):
    code = cli.main(["experiment", *argv, "--output", str(tmp_path / "out"),
                     *(["--data-dir", str(tmp_path)] if argv[0] != "resnet50-grid" else [])])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_missing_weights_file_and_missing_photo_folder_are_named(tmp_path, capsys):
    missing = tmp_path / "w.h5"
    assert cli.main(["experiment", "resnet50-grid", str(tmp_path),
                     "--weights", str(missing)]) == 2
    assert f"weights file not found: {missing}" in capsys.readouterr().err
    missing_folder = tmp_path / "nowhere"
    assert cli.main(["experiment", "resnet50-grid", str(missing_folder)]) == 2
    assert "nowhere" in capsys.readouterr().err
