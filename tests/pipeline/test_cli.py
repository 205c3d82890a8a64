"""The imagepipe command line: arguments, clear errors and progress display."""

import io
import logging

import pytest

from imagepipe.pipeline import cli, local_runner
from imagepipe.pipeline.commands import run


def test_run_builds_the_config_from_arguments(tmp_path):
    args = cli.build_parser().parse_args([
        "run", "fashion-mnist", "--model", "proposed", "--epochs", "5", "--output",
        str(tmp_path), "--data-dir", str(tmp_path), "--min-accuracy", "0.9",
        "--beam-arg=--x=1"])
    config = run.build_config(args)
    assert config.training.model_name == "proposed" and config.training.epochs == 5
    assert config.training.photo_augmentation == 0.25  # the Fashion-MNIST source's default
    assert config.pipeline_root == f"{tmp_path}/pipeline_root"
    assert config.serving_dir == f"{tmp_path}/serving"
    assert config.metadata_path == f"{tmp_path}/metadata.sqlite"
    assert config.data.data_dir == str(tmp_path) and config.data.split_seed == 1001
    assert config.evaluation.min_accuracy == 0.9
    assert config.beam_pipeline_args == ("--x=1",) and config.code_fingerprint


def test_missing_data_folder_is_named(tmp_path, capsys):
    code = cli.main(["run", "fashion-mnist", "--data-dir", str(tmp_path / "nowhere"),
                     "--output", str(tmp_path / "out")])
    assert code == 2
    assert f"Fashion-MNIST folder not found: {tmp_path / 'nowhere'}" in capsys.readouterr().err


def test_unknown_model_lists_known_models(tmp_path, capsys):
    code = cli.main(["run", "fashion-mnist", "--model", "vgg", "--data-dir", str(tmp_path),
                     "--output", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown model 'vgg'" in err and "arch5" in err


def test_models_lists_the_registry(capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert "arch5" in out and "proposed" in out
    lines = out.splitlines()
    columns = {line.index(" fashion-mnist ") if " fashion-mnist " in line
               else line.index(" photos ") for line in lines[1:]}
    assert columns == {lines[0].index(" for ")}, out  # the longest name keeps the columns


def test_help_names_the_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "fashion-mnist", "--help"])
    out = capsys.readouterr().out
    for option in ("--model", "--epochs", "--output", "--min-accuracy", "--source", "--beam-arg"):
        assert option in out


def test_progress_shows_components_and_epochs_only():
    now = [0.0]
    stream = io.StringIO()
    handler = local_runner.ProgressHandler(stream, clock=lambda: now[0])
    logger = logging.getLogger("progress-test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    now[0] = 1.0
    logger.info("Component %s is running.", "Trainer")
    logger.info("some noisy line")
    now[0] = 4.0
    logger.info("Epoch %d/%d: %s", 1, 3, "loss 0.1")
    now[0] = 7.5
    logger.info("Component %s is finished.", "Trainer")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("▶ Trainer started")
    assert lines[1].endswith("Epoch 1/3: loss 0.1")
    assert lines[2] == "[    7.5 s] ✔ Trainer finished in 6.5 s"
