"""Strict, typed records: dataclass fields that know their flag, read from JSON strictly.

* A field's metadata (:func:`setting`) gives its command-line flag, help text,
  allowed values and range; ``imagepipe.pipeline.commands.options`` derives the
  flags from it.
* :class:`Record` reads a frozen dataclass from JSON (``custom_config``, a
  report file) strictly: an unknown key, a missing key or a value of the wrong
  type is a :class:`SettingsError` naming the key and where it was found.

The settings (``imagepipe.components.settings``), the data sources' settings
and the reports (``imagepipe.components.reports``) are records. This module
imports no TensorFlow until a record is written or read from a file.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Type, TypeVar

# ---------------------------------------------------------------- field metadata

_MISSING = dataclasses.MISSING


def setting(default: Any = _MISSING, help: str = "", *,  # pylint: disable=redefined-builtin
            flag: Optional[str] = None, choices: Optional[Sequence[Any]] = None,
            minimum: Optional[float] = None, maximum: Optional[float] = None,
            above: Optional[float] = None, below: Optional[float] = None,
            cli: bool = True, runtime: bool = False, metavar: Optional[str] = None,
            parse: Optional[Callable[[str], Any]] = None, needs: Optional[str] = None,
            default_factory: Any = _MISSING) -> Any:
    """A dataclass field with what the CLI and the checks need to know about it.

    Args:
      default: the default value.
      help: one sentence for ``--help`` and README (the default is added).
      flag: the command-line flag; default ``--`` + the name with dashes.
      choices: the allowed values.
      minimum: smallest allowed value (inclusive).
      maximum: largest allowed value (inclusive).
      above: the value must be greater than this.
      below: the value must be smaller than this.
      cli: False: set by the pipeline, never by a flag (e.g. class names).
      runtime: the setting may vary per run of a compiled pipeline (a Kubeflow /
        Vertex runtime parameter).
      metavar: the flag's value name in ``--help``.
      parse: turns the flag's text into the value (e.g. a file into a class map).
      needs: the name of a training setting that must be on (true, non-zero)
        for this one to mean anything; giving this flag while it is off is
        refused.
      default_factory: for defaults that are objects of their own.
    """
    metadata = {"help": help, "flag": flag, "choices": tuple(choices) if choices else None,
                "minimum": minimum, "maximum": maximum, "above": above, "below": below,
                "cli": cli, "runtime": runtime, "metavar": metavar, "parse": parse,
                "needs": needs}
    if default_factory is not _MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def flag_name(field: dataclasses.Field) -> str:
    """The field's command-line flag, e.g. ``--batch-size``."""
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


class SettingsError(ValueError):
    """A setting that is unknown, missing, of the wrong type or out of range; names it."""


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _check_range(owner: str, field: dataclasses.Field, value: Any) -> None:
    meta = field.metadata
    where = f"{owner}.{field.name}"
    if value is None:
        return
    if meta.get("choices") and value not in meta["choices"]:
        raise SettingsError(f"{where}: unknown value {value!r}; known: "
                            f"{', '.join(map(str, meta['choices']))}")
    if meta.get("minimum") is not None and value < meta["minimum"]:
        raise SettingsError(f"{where} must be at least {meta['minimum']:g}, got {value!r}")
    if meta.get("maximum") is not None and value > meta["maximum"]:
        raise SettingsError(f"{where} must be at most {meta['maximum']:g}, got {value!r}")
    if meta.get("above") is not None and not value > meta["above"]:
        raise SettingsError(f"{where} must be greater than {meta['above']:g}, got {value!r}")
    if meta.get("below") is not None and not value < meta["below"]:
        raise SettingsError(f"{where} must be smaller than {meta['below']:g}, got {value!r}")


# ---------------------------------------------------------------- strict records

R = TypeVar("R", bound="Record")


class Record:
    """Base of the frozen settings and report dataclasses: strict JSON in, JSON out.

    Subclasses are ``@dataclasses.dataclass(frozen=True)``. Field values are
    checked against their metadata (choices, ranges) when an object is made;
    :meth:`check` adds the rules that involve several fields.
    """

    KIND = "settings"  # how error messages name the record

    def __post_init__(self):
        for field in dataclasses.fields(self):
            _check_range(self.KIND, field, getattr(self, field.name))
        self.check()

    def check(self) -> None:
        """Raises SettingsError when fields disagree with each other; override."""

    @classmethod
    def from_dict(cls: Type[R], values: Any, where: str = "") -> R:
        """Builds the record from a JSON-like mapping, strictly.

        Args:
          values: a mapping with exactly the record's field names as keys.
          where: what is being read, for the error messages (a file, a key).

        Raises:
          SettingsError: an unknown or missing key, a value of the wrong type
            or out of range; the message names the key and ``where``.
        """
        where = where or cls.KIND
        if not isinstance(values, Mapping):
            raise SettingsError(f"{where}: expected an object with keys "
                                f"{', '.join(names(cls))}, got {_describe(values)}")
        known = names(cls)
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise SettingsError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} "
                                f"{', '.join(map(repr, unknown))}; known keys: {', '.join(known)}")
        missing = [name for name in known if name not in values]
        if missing:
            raise SettingsError(f"{where}: missing key{'s' if len(missing) > 1 else ''} "
                                f"{', '.join(map(repr, missing))}")
        hints = _hints(cls)
        converted = {name: _convert(values[name], hints[name], f"{where}.{name}")
                     for name in known}
        try:
            return cls(**converted)
        except SettingsError as error:
            raise SettingsError(f"{where}: {error}") from None

    def to_dict(self) -> Dict[str, Any]:
        """The record as JSON-ready values (tuples become lists), every field present."""
        return {field.name: _plain(getattr(self, field.name))
                for field in dataclasses.fields(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)  # field order kept

    @classmethod
    def from_json(cls: Type[R], text: str, where: str = "") -> R:
        try:
            values = json.loads(text)
        except ValueError as error:
            raise SettingsError(f"{where or cls.KIND}: not JSON ({error})") from None
        return cls.from_dict(values, where)

    def replace(self: R, **changes: Any) -> R:
        """A copy with ``changes``; unknown names are an error naming them."""
        unknown = sorted(set(changes) - set(names(type(self))))
        if unknown:
            raise SettingsError(f"{self.KIND}: unknown setting {', '.join(map(repr, unknown))}; "
                                f"known: {', '.join(names(type(self)))}")
        return dataclasses.replace(self, **changes)

    def write(self, path: str) -> None:
        """Writes the record as JSON to ``path`` (local or ``gs://``)."""
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        if folder:
            tf.io.gfile.makedirs(folder)
        with tf.io.gfile.GFile(path, "w") as f:
            f.write(self.to_json())

    @classmethod
    def read(cls: Type[R], path: str) -> R:
        """Reads a record that :meth:`write` wrote; errors name the file."""
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        if not tf.io.gfile.exists(path):
            raise FileNotFoundError(f"{cls.KIND} file not found: {path}")
        with tf.io.gfile.GFile(path) as f:
            return cls.from_json(f.read(), where=path)


def names(cls: type) -> Tuple[str, ...]:
    """The field names of a dataclass, in order."""
    return tuple(field.name for field in dataclasses.fields(cls))


_HINTS: Dict[type, Dict[str, Any]] = {}


def _hints(cls: type) -> Dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _convert(value: Any, hint: Any, where: str) -> Any:
    """``value`` as type ``hint``, strictly (an int is a float, nothing else is coerced)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, getattr(types, "UnionType", typing.Union)):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _convert(value, option, where)
            except SettingsError as error:
                errors.append(str(error))
        raise SettingsError(errors[0] if len(errors) == 1 else
                            f"{where}: {_describe(value)} matches none of {hint}")
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint.from_dict(value, where)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise SettingsError(f"{where}: expected a list, got {_describe(value)}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise SettingsError(f"{where}: expected {len(args)} items, got {len(value)}")
            return tuple(_convert(v, a, f"{where}[{i}]")
                         for i, (v, a) in enumerate(zip(value, args)))
        item = args[0] if args else Any
        items = [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or hint is dict:
        if not isinstance(value, Mapping):
            raise SettingsError(f"{where}: expected an object, got {_describe(value)}")
        key_type, value_type = args or (Any, Any)
        return {_convert_key(k, key_type, where): _convert(v, value_type, f"{where}.{k}")
                for k, v in value.items()}
    return _scalar(value, hint, where)


def _convert_key(key: Any, hint: Any, where: str) -> Any:
    if hint is int:
        try:
            return int(key)
        except (TypeError, ValueError):
            raise SettingsError(f"{where}: key {key!r} is not an integer") from None
    return key


def _scalar(value: Any, hint: Any, where: str) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    else:
        return value
    raise SettingsError(f"{where}: expected {hint.__name__}, got {_describe(value)}")
