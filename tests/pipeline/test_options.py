"""Options derived from the settings: the same flags, defaults and checks in every command."""

import collections

import pytest

from imagepipe.pipeline import cli
from imagepipe.pipeline.commands import options as options_lib

PIPELINE_COMMANDS = ("run fashion-mnist", "run folder", "experiment architectures",
                     "experiment data-size", "experiment cross-validation",
                     "experiment transfer-grid", "compile fashion-mnist", "compile folder")


def _parsers():
    return options_lib.command_parsers(cli.build_parser())


def _shown(parser):
    """flag -> (help text, choices) as --help shows them."""
    return {action.option_strings[0]: (action.help, tuple(action.choices or ()))
            for action in parser._actions if action.option_strings}  # pylint: disable=protected-access


def test_a_setting_has_the_same_flag_default_and_choices_in_every_command_of_its_data():
    parsers = _parsers()
    seen = collections.defaultdict(dict)
    for command in PIPELINE_COMMANDS:
        offered = parsers[command].get_default("_offered")
        target = offered.source.target
        shown = _shown(parsers[command])
        for option in offered.all_options():
            if option.flag in shown:
                seen[(target, option.dest)][command] = (option.flag, shown[option.flag])
    for (target, dest), by_command in seen.items():
        assert len(set(by_command.values())) == 1, (target, dest, by_command)
    training = {dest for (_, dest) in seen if dest.startswith("training.")}
    assert "training.epochs" in training and "training.model_options.dropout" in training


def test_the_folder_commands_show_the_folder_defaults():
    parsers = _parsers()
    for command in ("run folder", "compile folder", "experiment transfer-grid"):
        shown = _shown(parsers[command])
        assert shown["--epochs"][0].endswith("default 30"), command
        assert shown["--patience"][0].endswith("default 5"), command
        if "--model" in shown and command != "experiment transfer-grid":
            assert shown["--model"][0].endswith("default efficientnet_lite0"), command
        assert "--photo-augmentation" not in shown  # photos are photos already
    assert _shown(parsers["run fashion-mnist"])["--photo-augmentation"][0].endswith(
        "default 0.25")


def _option_tables_script():
    """scripts/option_tables.py, the generator of docs/cli.md's tables, loaded by path."""
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "option_tables.py")
    spec = importlib.util.spec_from_file_location("option_tables", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_page_option_tables_are_the_help_of_the_commands():
    script = _option_tables_script()
    with open(script.CLI_PAGE, encoding="utf-8") as f:
        text = f.read()
    generated = script.markdown_tables(cli.build_parser())
    assert generated in text, ("docs/cli.md's option tables differ from --help: run "
                               "`.venv/bin/python scripts/option_tables.py`")
    for command in script.DOCUMENTED:
        table = script.markdown_table(_parsers()[command])
        assert f"### `imagepipe {command}`\n\n{table}" in generated
        for flag in _shown(_parsers()[command]):
            assert flag == "-h" or f"| `{flag}" in table, (command, flag)
    assert script.main(["--check"]) == 0


def test_the_option_table_script_rewrites_only_its_section():
    script = _option_tables_script()
    page = f"# CLI\n\nby hand\n\n{script.TABLES_BEGIN}\nstale\n{script.TABLES_END}\n\nafter\n"
    tables = script.markdown_tables(cli.build_parser())
    updated = script.replace_tables(page, tables)
    assert updated == f"# CLI\n\nby hand\n\n{tables}\n\nafter\n"
    assert script.replace_tables(updated, tables) == updated


@pytest.mark.parametrize("argv,message", [
    (["run", "fashion-mnist", "--no-early-stopping", "--patience", "4"],
     "--patience has no effect with --no-early-stopping"),
    (["run", "fashion-mnist", "--tune-trials", "3"], "--tune-trials has no effect without --tune"),
    (["run", "fashion-mnist", "--fine-tune-learning-rate", "0.001"],
     "--fine-tune-learning-rate has no effect without --fine-tune-epochs"),
    (["run", "fashion-mnist", "--model", "resnet50", "--fine-tune-epochs", "2"],
     "--fine-tune-epochs unfreezes the top of a pretrained base: it needs --weights"),
    (["run", "fashion-mnist", "--augment"], "model 'arch5' does not take --augment"),
    (["run", "fashion-mnist", "--epochs", "0"], "epochs must be at least 1, got 0"),
    (["run", "fashion-mnist", "--photo-augmentation", "2"],
     "photo_augmentation must be at most 1, got 2"),
    (["compile", "fashion-mnist", "--target", "vertex", "--image", "i", "--pipeline-root",
      "gs://b/r", "--data-dir", "gs://b/d", "--dropout", "1"], "dropout must be smaller than 1"),
    (["experiment", "data-size", "--model", "arch10", "--dropout", "0.3"],
     "model 'arch10' does not take --dropout"),
])
def test_options_that_cannot_act_are_refused_before_anything_runs(argv, message, tmp_path,
                                                                   capsys):
    extra = [] if argv[0] == "compile" else ["--output", str(tmp_path / "out")]
    data = ["--data-dir", str(tmp_path)] if "--data-dir" not in argv else []
    assert cli.main(argv + extra + data) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_submit_offers_the_runtime_settings_with_their_checks(capsys, tmp_path):
    from imagepipe.pipeline.commands import submit
    flags = {option.flag for _, option in submit.runtime_options()}
    assert flags == {"--model", "--epochs", "--balance", "--min-accuracy"}
    assert cli.main(["submit", "--project", "p", "--region", "r", "--spec",
                     str(tmp_path / "x.json"), "--epochs", "0"]) == 2
    assert "--epochs: " in capsys.readouterr().err
    assert cli.main(["submit", "--project", "p", "--region", "r", "--spec",
                     str(tmp_path / "x.json"), "--model", "vgg"]) == 2
    assert "unknown model 'vgg'" in capsys.readouterr().err
