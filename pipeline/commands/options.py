"""Command-line options derived from the settings, and settings built back from them.

Every option a command offers for data, training, tuning or evaluation comes
from a field of ``imagepipe.components.settings`` or of a data source's settings
(its :func:`~imagepipe.components.record.setting` metadata gives the flag,
help, choices and range), so ``run``, ``experiment``, ``compile`` and ``submit``
offer the same options with the same names, defaults and checks, and the
option tables of docs/cli.md are generated from the same parsers
(``scripts/option_tables.py``, which walks them with :func:`command_parsers`).

An option's value lands in the namespace only when it is given (argparse's
``SUPPRESS`` default): :func:`build` starts from the defaults (the data
source's ``SourceDefaults``) and applies what was given, and
:func:`needs_problems` refuses an option that means nothing without another
(``--patience`` with ``--no-early-stopping``).
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Type

from imagepipe.components import settings as settings_lib
from imagepipe.components.record import Record, flag_name

SEPARATOR = "."


@dataclasses.dataclass(frozen=True)
class Option:
    """One derived option: where its value goes and how it is shown."""

    dest: str  # "<group>.<field>[.<field>]"
    flag: str
    field: dataclasses.Field
    default: Any
    group: str
    kind: Any  # the value's type: int, float, str or bool


def _hint(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _base_type(hint: Any) -> Any:
    if typing.get_origin(hint) is typing.Union:
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return options[0] if len(options) == 1 else str
    return hint


def show_default(value: Any) -> str:
    """A default as ``--help`` (and so docs/cli.md) shows it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if value in ("", None, ()):
        return ""
    return str(value)


_METAVARS = {int: "N", float: "X", str: "TEXT"}


def _help(field: dataclasses.Field, default: Any, flag: str) -> str:
    text = field.metadata.get("help", "")
    if isinstance(default, bool) or flag.startswith("--no-"):
        return text
    shown = show_default(default)
    return f"{text}; default {shown}" if shown else text


def options_of(cls: Type[Record], defaults: Record, group: str,
               exclude: Iterable[str] = (), prefix: str = "") -> List[Option]:
    """The options of a settings class (nested records included), in field order."""
    excluded = set(exclude)
    found = []
    for field in dataclasses.fields(cls):
        path = f"{prefix}{field.name}"
        if not field.metadata.get("cli", True) or path in excluded:
            continue
        value = getattr(defaults, field.name)
        hint = _hint(cls, field.name)
        if isinstance(hint, type) and issubclass(hint, Record):
            found += options_of(hint, value, group, excluded, f"{path}{SEPARATOR}")
            continue
        found.append(Option(f"{group}{SEPARATOR}{path}", flag_name(field), field, value, group,
                            _base_type(hint)))
    return found


def add_options(parser: argparse.ArgumentParser, options: Sequence[Option],
                positional: Optional[str] = None,
                choices: Optional[Mapping[str, Sequence[str]]] = None) -> None:
    """Adds ``options`` to ``parser``; ``positional``: the field given without a flag."""
    for option in options:
        field = option.field
        kwargs: Dict[str, Any] = {"dest": option.dest, "default": argparse.SUPPRESS}
        metavar = field.metadata.get("metavar")
        if field.name == positional:
            parser.add_argument(option.dest, metavar=metavar or field.name.upper(),
                                help=field.metadata.get("help", ""))
            continue
        if option.kind is bool:
            kwargs["action"] = "store_false" if option.flag.startswith("--no-") else "store_true"
        else:
            # A ``parse`` function (a class map file) runs when the settings are built, so
            # its error names the file instead of argparse's "invalid value".
            kwargs["type"] = str if field.metadata.get("parse") else option.kind
            listed = (choices or {}).get(field.name) or field.metadata.get("choices")
            if listed:
                kwargs["choices"] = list(listed)
            if not listed:
                kwargs["metavar"] = metavar or _METAVARS.get(option.kind, "VALUE")
        parser.add_argument(option.flag, help=_help(field, option.default, option.flag),
                            **kwargs)


def given(args: argparse.Namespace, group: str,
          options: Sequence[Option] = ()) -> Dict[str, Any]:
    """The options of ``group`` given on the command line: field path -> value.

    ``options``: those whose ``parse`` function turns the text into the value.

    Raises:
      ValueError: a ``parse`` function's error (a class map file it cannot read).
    """
    start = f"{group}{SEPARATOR}"
    parsers = {o.dest: o.field.metadata["parse"] for o in options
               if o.field.metadata.get("parse")}
    return {dest[len(start):]: parsers[dest](value) if dest in parsers else value
            for dest, value in vars(args).items() if dest.startswith(start)}


def build(defaults: Record, values: Mapping[str, Any]) -> Record:
    """``defaults`` with ``values`` (field paths, nested with dots) applied.

    Raises:
      SettingsError: a value out of range; the message names the setting.
    """
    own = {path: value for path, value in values.items() if SEPARATOR not in path}
    nested: Dict[str, Dict[str, Any]] = {}
    for path, value in values.items():
        if SEPARATOR in path:
            head, rest = path.split(SEPARATOR, 1)
            nested.setdefault(head, {})[rest] = value
    for head, inner in nested.items():
        own[head] = build(getattr(defaults, head), inner)
    return defaults.replace(**own) if own else defaults


def needs_problems(options: Sequence[Option], args: argparse.Namespace,
                   training: settings_lib.TrainingSettings) -> List[str]:
    """Options given whose setting has no effect because the one it needs is off."""
    by_name = {f.name: f for f in dataclasses.fields(settings_lib.TrainingSettings)}
    present = set(vars(args))
    problems = []
    for option in options:
        needed = option.field.metadata.get("needs")
        if not needed or option.dest not in present or getattr(training, needed):
            continue
        needed_flag = flag_name(by_name[needed])
        word = "with" if needed_flag.startswith("--no-") else "without"
        problems.append(f"{option.flag} has no effect {word} {needed_flag}")
    return problems


def untaken_defaults_dropped(training: settings_lib.TrainingSettings,
                             values: Mapping[str, Any]) -> settings_lib.TrainingSettings:
    """``training`` without the source's default model options that its model does not take.

    A source's defaults suit its default model (a folder's ``--weights
    imagenet`` for ``efficientnet_lite0``); with another model (``--model
    arch5``) they are dropped, while options the user gave are kept, and
    refused later if the model does not take them.
    """
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    try:
        takes = models.architecture(training.model_name).takes
    except models.UnknownModelError:
        return training
    plain = settings_lib.ModelOptions()
    reset = {name: getattr(plain, name) for name in settings_lib.ModelOptions.names()
             if name not in takes and f"model_options{SEPARATOR}{name}" not in values}
    return training.replace(model_options=training.model_options.replace(**reset))


def native_image_size(data: settings_lib.DataSettings, model_name: str,
                      values: Mapping[str, Any]) -> settings_lib.DataSettings:
    """``data`` at the model's native input side, unless the user gave ``--image-size``.

    A pretrained base sees photos best at the side its weights were trained at
    (``efficientnet_lite2``: 260 px); models without one keep the source's default.
    """
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    if "image_size" in values or not hasattr(data, "image_size"):
        return data
    try:
        native = models.architecture(model_name).native_size
    except models.UnknownModelError:
        return data
    return data.replace(image_size=native) if native else data


# ---------------------------------------------------------------- a command's settings


class UsageError(ValueError):
    """Options that cannot run as given; the message names the flags."""


DATA, TRAINING, TUNING, EVALUATION = "data", "training", "tuning", "evaluation"
TUNE_DEST = "tune"


@dataclasses.dataclass(frozen=True)
class Offered:
    """Which settings a command offers as options.

    Attributes:
      sources: the data sources of the command's target (the first is the default).
      data_fields: the data settings offered (None: all).
      training_exclude: training settings the command sets itself (an
        experiment's varied setting), so not offered.
      training: offer the training settings.
      tuning: offer ``--tune`` and the tuning settings.
      evaluation: offer the evaluation settings.
    """

    sources: Tuple[Any, ...]
    data_fields: Optional[Tuple[str, ...]] = None
    training_exclude: Tuple[str, ...] = ()
    training: bool = True
    tuning: bool = True
    evaluation: bool = True

    @property
    def source(self) -> Any:
        return self.sources[0]

    def data_options(self) -> List[Option]:
        defaults = self.source.settings_type(source=self.source.name)
        exclude = () if len(self.sources) > 1 else ("source",)
        found = options_of(type(defaults), defaults, DATA, exclude)
        if self.data_fields is not None:
            found = [o for o in found if o.field.name in self.data_fields]
        return found

    def training_options(self) -> List[Option]:
        if not self.training:
            return []
        defaults = self.source.defaults.training
        exclude = tuple(self.training_exclude)
        if not any(source.photo_augmentation for source in self.sources):
            exclude += ("photo_augmentation",)  # the source's images are photos already
        return options_of(settings_lib.TrainingSettings, defaults, TRAINING, exclude)

    def tuning_options(self) -> List[Option]:
        if not self.tuning:
            return []
        return options_of(settings_lib.TuningSettings, settings_lib.TuningSettings(), TUNING)

    def evaluation_options(self) -> List[Option]:
        if not self.evaluation:
            return []
        defaults = self.source.defaults.evaluation
        return options_of(settings_lib.EvaluationSettings, defaults, EVALUATION)

    def all_options(self) -> List[Option]:
        return (self.data_options() + self.training_options() + self.tuning_options()
                + self.evaluation_options())


def add_offered(parser: argparse.ArgumentParser, offered: Offered) -> None:
    """Adds the data, training, tuning and evaluation options a command offers."""
    data = parser.add_argument_group("data")
    add_options(data, offered.data_options(), positional=offered.source.positional,
                choices={"source": [s.name for s in offered.sources]})
    if offered.training:
        add_options(parser.add_argument_group("training"), offered.training_options())
    if offered.tuning:
        tuning = parser.add_argument_group("tuning")
        tuning.add_argument("--tune", dest=TUNE_DEST, action="store_true",
                            help="run the TFX Tuner first: KerasTuner random search over "
                                 "learning rate, dropout and width (what the model takes); "
                                 "the best values train the model")
        add_options(tuning, offered.tuning_options())
    if offered.evaluation:
        add_options(parser.add_argument_group("evaluation"), offered.evaluation_options())
    parser.set_defaults(_offered=offered)


@dataclasses.dataclass(frozen=True)
class CommandSettings:
    """The settings a command's options describe."""

    data: settings_lib.DataSettings
    training: settings_lib.TrainingSettings
    tuning: Optional[settings_lib.TuningSettings]
    evaluation: settings_lib.EvaluationSettings
    source: Any


def command_settings(args: argparse.Namespace) -> CommandSettings:
    """Builds the settings from a command's arguments (see :func:`add_offered`).

    Raises:
      UsageError: a value out of range, an option without the one it needs, a
        folder that cannot be read; the message names the flag or file.
    """
    from imagepipe.components import sources  # pylint: disable=g-import-not-at-top
    offered: Offered = args._offered  # pylint: disable=protected-access
    source = sources.get(given(args, DATA).get("source", offered.source.name))
    try:
        data_values = given(args, DATA, offered.data_options())
        data = source.complete(build(source.settings_type(source=source.name), data_values))
        training_values = given(args, TRAINING)
        training = untaken_defaults_dropped(
            build(source.defaults.training, training_values), training_values)
        data = native_image_size(data, training.model_name, data_values)
        evaluation = build(source.defaults.evaluation, given(args, EVALUATION))
        tuning_values = given(args, TUNING)
        tuning = build(settings_lib.TuningSettings(), tuning_values) \
            if getattr(args, TUNE_DEST, False) else None
    except ValueError as error:  # SettingsError, a missing folder, a bad class map
        raise UsageError(str(error)) from None
    problems = needs_problems(offered.all_options(), args, training)
    if tuning is None and tuning_values:
        flags = {o.dest: o.flag for o in offered.tuning_options()}
        problems += [f"{flags[f'{TUNING}{SEPARATOR}{name}']} has no effect without --tune"
                     for name in tuning_values]
    if problems:
        raise UsageError("; ".join(problems))
    return CommandSettings(data, training, tuning, evaluation, source)


# ---------------------------------------------------------------- introspection


def command_parsers(root: argparse.ArgumentParser) -> Dict[str, argparse.ArgumentParser]:
    """Every command's parser, by its full name (``run fashion-mnist``), leaves only."""
    found: Dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        subparsers = [a for a in parser._actions  # pylint: disable=protected-access
                      if isinstance(a, argparse._SubParsersAction)]  # pylint: disable=protected-access
        if not subparsers:
            found[name] = parser
            return
        for action in subparsers:
            for child_name, child in action.choices.items():
                walk(child, f"{name} {child_name}".strip())

    walk(root, "")
    return found
