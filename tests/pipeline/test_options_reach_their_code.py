"""Every option of every command reaches the component that acts on it, or is refused.

For each command that builds pipelines (``run``, ``experiment``, ``compile``) and
each option it offers (derived from the settings), the option is given a value
other than its default; the pipelines the command would run are built with
``create_components`` and the value is read back where it acts: the Trainer's
and Tuner's custom_config as their executors merge it (the lifted runtime
settings included), the Evaluator's properties and TFMA config, the ExampleGen's,
Transform's, SpanDrift's, the Pusher's and the unlabelled ExampleGen's properties. What the Trainer then does
with each training setting is tests/components/test_training_settings_effects.py.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Tuple

import pytest
from tensorflow_model_analysis.proto import config_pb2 as tfma_config
from tfx.utils import proto_utils

from imagepipe.components import parameterized
from imagepipe.components.settings import TrainerCustomConfig, TunerCustomConfig
from imagepipe.pipeline import cli, pipeline
from imagepipe.pipeline.commands import compile as compile_command
from imagepipe.pipeline.commands import experiment as experiment_command
from imagepipe.pipeline.commands import options as options_lib
from imagepipe.pipeline.commands import run as run_command
from imagepipe.testing import photo_fixtures

RESNET = "needs resnet50"

# option dest -> (command-line value, extra arguments it needs)
VALUES: Dict[str, Tuple[str, List[str]]] = {
    "data.source": ("tfds", []),
    "data.data_dir": ("", []),  # filled per command: another folder
    "data.split_seed": ("7", []),
    "data.class_map": ("", []),  # filled: a class map file
    "data.max_pixels": ("123456", []),
    "data.image_size": ("48", []),
    "data.resize_mode": ("crop", []),
    "data.spans": ("latest", []),
    "data.drift_threshold": ("0.5", []),
    "data.accept_drift": (None, []),
    "data.max_file_mb": ("64", []),
    "data.follow_links": (None, []),
    "data.classify": ("", []),  # filled: an unlabelled folder
    "training.model_name": ("proposed", []),
    "training.epochs": ("5", []),
    "training.batch_size": ("8", []),
    "training.learning_rate": ("0.0005", []),
    "training.early_stopping": (None, []),
    "training.early_stopping_patience": ("4", []),
    "training.balance": ("class_weight", []),
    "training.class_bias": ("balanced", []),
    "training.average_epochs": ("3", []),
    "training.test_time": ("mirror", []),
    "training.photo_augmentation": ("0.5", []),
    "training.copy_rotation": ("0.1", []),
    "training.train_fraction": ("0.5", []),
    "training.fine_tune_epochs": ("2", [RESNET, "--weights", "imagenet"]),
    "training.fine_tune_learning_rate": ("0.0002", [RESNET, "--weights", "imagenet",
                                                    "--fine-tune-epochs", "1"]),
    "training.warm_start": (None, []),
    "training.seed": ("9", []),
    "training.model_options.weights": ("imagenet", []),
    "training.model_options.augment": (None, []),
    "training.model_options.mirror": (None, ["--weights", "imagenet"]),
    "training.model_options.input_size": ("64", []),
    "training.model_options.fine_tune_blocks": ("5", [RESNET, "--weights", "imagenet",
                                                      "--fine-tune-epochs", "1"]),
    "training.model_options.dropout": ("0.35", []),
    "training.model_options.width": ("0.5", []),
    "tuning.max_trials": ("3", ["--tune"]),
    "tuning.trial_epochs": ("3", ["--tune"]),
    "evaluation.min_accuracy": ("0.5", []),
    "evaluation.max_accuracy_drop": ("0.01", []),
}


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """Data folders the commands can point at, and a class map file."""
    root = tmp_path_factory.mktemp("places")
    photos = root / "photos"
    photo_fixtures.write_photo_folder(str(photos), ("pens", "pencils", "markers"), per_class=3,
                                      seed=1, variants=["png_rgb"])
    class_map = root / "classes.json"
    class_map.write_text(json.dumps({"writing": ["pens", "pencils"], "markers": ["markers"]}))
    (root / "fmnist").mkdir()
    (root / "other").mkdir()
    return {"photos": str(photos), "class_map": str(class_map), "fmnist": str(root / "fmnist"),
            "other": str(root / "other")}


def _commands(places, tmp_path) -> Dict[str, Tuple[List[str], Callable]]:
    """command -> (base arguments, function from parsed arguments to [(config, plan)])."""
    out = ["--output", str(tmp_path / "out")]
    fmnist = ["--data-dir", places["fmnist"]]
    compiled = ["--target", "kubeflow", "--image", "i", "--pipeline-root", "gs://b/r"]

    def run_configs(args):
        return [(run_command.build_config(args), pipeline.HOLD_OUT)]

    def compile_configs(args):
        return [(compile_command.build_config(args), pipeline.HOLD_OUT)]

    experiments = experiment_command.planned
    return {
        "run fashion-mnist": (["run", "fashion-mnist", *fmnist, *out], run_configs),
        "run folder": (["run", "folder", places["photos"], *out], run_configs),
        "experiment architectures": (["experiment", "architectures", *fmnist, *out],
                                     experiments),
        "experiment data-size": (["experiment", "data-size", *fmnist, *out], experiments),
        "experiment cross-validation": (["experiment", "cross-validation", "--folds", "2",
                                         *fmnist, *out], experiments),
        "experiment transfer-grid": (["experiment", "transfer-grid", places["photos"], *out],
                                     experiments),
        "compile fashion-mnist": (["compile", "fashion-mnist", *compiled, *fmnist],
                                  compile_configs),
        "compile folder": (["compile", "folder", places["photos"], *compiled],
                           compile_configs),
    }


def _parse(argv: List[str]):
    return cli.build_parser().parse_args(argv)


def _default_model(command: str) -> str:
    return "efficientnet_lite0" if command.endswith("folder") else "arch5"


def _value_args(command: str, option: options_lib.Option, places) -> List[str]:
    value, extra = VALUES[option.dest]
    if option.dest == "data.data_dir":
        value = places["other"]
    if option.dest == "data.class_map":
        value = places["class_map"]
    if option.dest == "data.classify":
        value = places["other"]
    if option.dest == "training.model_options.weights" and command.endswith("folder"):
        value = "none"  # a folder's default is imagenet
    if option.dest == "training.test_time" and option.default == value:
        value = "none"  # where the value is the default, none differs from it
    takers = ["resnet50"] if RESNET in extra else _models_taking(option)
    extra = [e for e in extra if e != RESNET]
    resnet: List[str] = []
    if takers and command == "experiment architectures":
        resnet = ["--models", ",".join(takers)]
    elif takers and _default_model(command) not in takers and \
            command != "experiment transfer-grid":
        resnet = ["--model", takers[0]]
    if command == "experiment transfer-grid":  # the grid has a --weights of its own
        extra = [e for e in extra if e not in ("--weights", "imagenet")]
    flag = [option.flag] if value is None else [option.flag, value]
    if option.field.name == "data_dir" and command in ("run folder", "compile folder",
                                                       "experiment transfer-grid"):
        return []  # positional: the base arguments already name the folder
    return flag + extra + resnet


def _models_taking(option: options_lib.Option) -> List[str]:
    """For a model option, the models that take it (none: not a model option)."""
    from imagepipe.components import models
    if not option.dest.startswith("training.model_options."):
        return []
    return [n for n in models.names() if option.field.name in models.architecture(n).takes]


def _trainer_settings(components) -> List[Any]:
    found = []
    for component in components:
        if isinstance(component, (parameterized.ParameterizedTrainer,
                                  parameterized.ParameterizedTuner)):
            merged = parameterized.merge_trainer_properties(component.exec_properties)
            kind = TunerCustomConfig if isinstance(
                component, parameterized.ParameterizedTuner) else TrainerCustomConfig
            found.append(kind.from_json(merged))
    return found


def _landed(option: options_lib.Option, components) -> List[Any]:
    """What the components carry for ``option``: one value per place it acts."""
    group, path = option.dest.split(".", 1)
    by_id = {c.id: c for c in components}
    if group in ("training", "tuning"):
        values = []
        for config in _trainer_settings(components):
            if group == "tuning" and not hasattr(config, "tuning"):
                continue
            value = config.training if group == "training" else config.tuning
            for part in path.split("."):
                value = getattr(value, part)
            values.append(value)
        return values
    evaluators = [c for c in components if isinstance(c, parameterized.ParameterizedEvaluator)]
    if path == "min_accuracy":
        return [e.exec_properties["min_accuracy"] for e in evaluators]
    if path == "max_accuracy_drop":
        configs = [proto_utils.json_to_proto(e.exec_properties["eval_config"],
                                             tfma_config.EvalConfig()) for e in evaluators]
        return [round(-c.metrics_specs[0].metrics[0].threshold.change_threshold.absolute.value, 6)
                for c in configs]
    example_gen = by_id[pipeline.EXAMPLE_GEN_ID].exec_properties
    transform = json.loads(by_id[pipeline.TRANSFORM_ID].exec_properties["custom_config"])
    return [{
        "source": type(by_id[pipeline.EXAMPLE_GEN_ID]).__name__,
        "data_dir": example_gen.get("input_base") or example_gen.get("tfds_data_dir"),
        "split_seed": example_gen.get("split_seed"),
        "class_map": example_gen.get("class_map"),
        "max_pixels": example_gen.get("max_pixels"),
        "image_size": (transform["settings"] or {}).get("image_size"),
        "resize_mode": (transform["settings"] or {}).get("resize_mode"),
        "spans": example_gen.get("spans"),
        "drift_threshold": _property(by_id, pipeline.DRIFT_ID, "threshold"),
        "accept_drift": _property(by_id, pipeline.PUSHER_ID, "accept_drift"),
        "max_file_mb": example_gen.get("max_file_bytes"),
        "follow_links": example_gen.get("follow_links"),
        "classify": _property(by_id, pipeline.UNLABELLED_GEN_ID, "input_base"),
    }[path]]


def _property(by_id, node_id: str, name: str) -> Any:
    """A node's execution property; None when the pipeline has no such node."""
    return by_id[node_id].exec_properties.get(name) if node_id in by_id else None


def _built(command: str, argv: List[str], places, tmp_path):
    base, configs_of = _commands(places, tmp_path)[command]
    return [pipeline.create_components(config, plan)
            for config, plan in configs_of(_parse(base + argv))]


def _changed(before: List[Any], after: List[Any]) -> bool:
    return bool(after) and len(before) == len(after) and any(
        a != b for a, b in zip(before, after))


COMMANDS = ("run fashion-mnist", "run folder", "experiment architectures",
            "experiment data-size", "experiment cross-validation", "experiment transfer-grid",
            "compile fashion-mnist", "compile folder")


def test_every_derived_option_has_a_value_here(places, tmp_path):
    offered = set()
    for command in COMMANDS:
        base, _ = _commands(places, tmp_path)[command]
        offered |= {o.dest for o in _parse(base)._offered.all_options()}  # pylint: disable=protected-access
    assert offered == set(VALUES)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_of_the_command_reaches_its_component(command, places, tmp_path):
    base, _ = _commands(places, tmp_path)[command]
    options = _parse(base)._offered.all_options()  # pylint: disable=protected-access
    not_reached = []
    for option in options:
        argv = _value_args(command, option, places)
        if not argv:
            continue
        extra = argv[2 if VALUES[option.dest][0] is not None else 1:]
        before = [_landed(option, components)
                  for components in _built(command, extra, places, tmp_path)]
        after = [_landed(option, components)
                 for components in _built(command, argv, places, tmp_path)]
        # Every run of the command carries the option (the grid's cells without weights
        # have no fine-tuning phase: at least one run must show the change).
        if len(before) != len(after) or not any(_changed(b, a) for b, a in zip(before, after)):
            not_reached.append((option.flag, before, after))
    assert not not_reached, not_reached


def test_the_grid_offers_exactly_the_model_options_its_models_take(places, tmp_path):
    from imagepipe.components import models
    from imagepipe.pipeline.experiments import transfer_grid
    base, _ = _commands(places, tmp_path)["experiment transfer-grid"]
    offered = {o.field.name for o in _parse(base)._offered.all_options()  # pylint: disable=protected-access
               if o.dest.startswith("training.model_options.")}
    qualifying = transfer_grid.pretrained_models()
    taken = set().union(*(models.architecture(n).takes for n in qualifying))
    assert offered == taken - {"weights", "augment", "mirror"}
    assert experiment_command.GRID_MODELS == "|".join(qualifying)  # --model's metavar
