"""Registry of data sources, looked up by name, like the model registry.

A data source says everything the rest of imagepipe needs to know about one
kind of input, so that ``create_pipeline``, the run summary, the experiments
and the CLI never ask "which source is this?":

* its settings class (a :class:`~imagepipe.components.settings.DataSettings`
  subclass, whose field metadata gives the command-line options);
* its ExampleGen (for any split plan) and its report type;
* its Transform ``preprocessing_fn`` and that function's settings;
* its class names, and what kind of model input its images become;
* the CLI target it belongs to (``imagepipe run TARGET``), its defaults for
  training and evaluation (a typed :class:`~imagepipe.components.settings.SourceDefaults`),
  and the checks that refuse a run before it starts;
* whether its data arrives in spans that are checked for drift (:class:`DriftRules`).

Adding a source is one module: its settings class, a :class:`DataSource`
subclass and a call to :func:`register`. Nothing here imports TensorFlow; ExampleGens are built by
the source's own module when a pipeline is made.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, List, Mapping, Optional, Tuple, Type

from imagepipe.components import reports
from imagepipe.components.settings import DataSettings, SourceDefaults, TrainingSettings


@dataclasses.dataclass(frozen=True)
class DriftRules:
    """How a source's newest span is checked for drift before a push (SpanDrift, the Pusher).

    Attributes:
      threshold: the largest drift measure (L-infinity, Jensen-Shannon) allowed.
      accept: push a blessed model even when the newest span drifted.
    """

    threshold: float
    accept: bool = False


class UnknownSourceError(KeyError):
    """No data source is registered under the requested name."""

    def __str__(self) -> str:
        return str(self.args[0])


class DataSource:
    """One kind of input data. Subclass it, fill in the class attributes, register an instance.

    Attributes:
      name: the registry name, also ``DataSettings.source``.
      target: the ``imagepipe run TARGET`` (and ``compile TARGET``) it belongs
        to; several sources may share one, chosen with ``--source``.
      description: one line for ``--help``.
      settings_type: its settings class.
      report_type: the ingest report its ExampleGen writes.
      preprocessing_fn: dotted path of its Transform ``preprocessing_fn``.
      model_inputs: what its transformed images fit (``settings.FASHION_MNIST_INPUTS``
        or ``settings.PHOTO_INPUTS``), matched against the architectures'.
      positional: a settings field given as the target's positional argument
        (the photo folder), or None.
      photo_augmentation: whether training may render its images as photos.
      defaults: the training and evaluation settings its runs start from.
      pipeline_name: name of its pipeline in ML Metadata and orchestrators.
      serving_name: the model name under the serving folder.
      needs_data_dir: its settings' ``data_dir`` must be given where no local
        default makes sense (a compiled pipeline's containers).
    """

    name: str = ""
    target: str = ""
    description: str = ""
    settings_type: Type[DataSettings] = DataSettings
    report_type: Type[reports.IngestReport] = reports.IngestReport
    preprocessing_fn: str = ""
    model_inputs: str = ""
    positional: Optional[str] = None
    photo_augmentation: bool = False
    defaults: SourceDefaults = SourceDefaults()
    pipeline_name: str = ""
    serving_name: str = ""
    needs_data_dir: bool = False

    def example_gen(self, settings: DataSettings, split_ratios: Mapping[str, int]):
        """The ExampleGen component that ingests ``settings``' data into those splits."""
        raise NotImplementedError(f"data source {self.name!r} has no ExampleGen")

    def class_names(self, settings: DataSettings) -> Tuple[str, ...]:
        """The class names in class id order."""
        raise NotImplementedError(f"data source {self.name!r} has no class names")

    def transform_settings(self, settings: DataSettings) -> Optional[Dict[str, Any]]:
        """What its ``preprocessing_fn`` reads from the Transform's custom_config (None: nothing)."""
        del settings
        return None

    def complete(self, settings: DataSettings) -> DataSettings:
        """Fills in what the user may leave out (a default folder, the class map)."""
        return settings

    def problems(self, settings: DataSettings) -> List[str]:
        """Why a run on ``settings`` would fail before it starts (a missing folder...)."""
        del settings
        return []

    def training_problems(self, training: TrainingSettings) -> List[str]:
        """Training settings this source cannot honour."""
        if training.photo_augmentation > 0 and not self.photo_augmentation:
            return [f"--photo-augmentation renders Fashion-MNIST-like images as photos; the "
                    f"{self.name} source's images are photos already (use 0)"]
        return []

    def drift_rules(self, settings: DataSettings) -> Optional[DriftRules]:
        """How its newest span is checked for drift; None: its data has no spans."""
        del settings
        return None

    def unlabelled_example_gen(self, settings: DataSettings):
        """The ExampleGen of an unlabelled folder the blessed model classifies; None: none."""
        del settings
        return None

    def pipeline_and_serving_names(self, settings: DataSettings) -> Tuple[str, str]:
        """The pipeline's name and the served model's name for ``settings``."""
        del settings
        return self.pipeline_name, self.serving_name


_SOURCES: Dict[str, DataSource] = {}


def register(source: DataSource) -> DataSource:
    """Registers ``source`` under its name.

    Raises:
      ValueError: the name is taken or a required attribute is missing.
    """
    missing = [attribute for attribute in ("name", "target", "preprocessing_fn", "model_inputs",
                                           "pipeline_name", "serving_name")
               if not getattr(source, attribute)]
    if missing:
        raise ValueError(f"data source {type(source).__name__} does not say its "
                         f"{', '.join(missing)}")
    if source.name in _SOURCES:
        raise ValueError(f"data source {source.name!r} is registered twice")
    _SOURCES[source.name] = source
    return source


def unregister(name: str) -> None:
    """Removes a source (tests that register one of their own)."""
    _SOURCES.pop(name, None)


def names() -> List[str]:
    """The registered sources' names, in registration order."""
    return list(_SOURCES)


def get(name: str) -> DataSource:
    """The source registered under ``name``.

    Raises:
      UnknownSourceError: none; the message lists the known ones.
    """
    try:
        return _SOURCES[name]
    except KeyError:
        raise UnknownSourceError(f"unknown data source {name!r}; known sources: "
                                 f"{', '.join(_SOURCES)}") from None


def of(settings: DataSettings) -> DataSource:
    """The source of ``settings``, checking that the settings are of its type."""
    source = get(settings.source)
    if not isinstance(settings, source.settings_type):
        raise TypeError(f"data source {source.name!r} takes {source.settings_type.__name__}, "
                        f"got {type(settings).__name__}")
    return source


def targets() -> Dict[str, List[DataSource]]:
    """CLI target -> its sources, in registration order."""
    grouped: Dict[str, List[DataSource]] = {}
    for source in _SOURCES.values():
        grouped.setdefault(source.target, []).append(source)
    return grouped


def read_ingest_report(path: str) -> reports.IngestReport:
    """Reads an ``ingest_report.json`` with the report type of the source that wrote it."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    with tf.io.gfile.GFile(path) as f:
        text = f.read()
    try:
        source_name = json.loads(text).get("source", "")
    except (ValueError, AttributeError) as error:
        raise ValueError(f"{path}: not an ingest report ({error})") from None
    return get(source_name).report_type.from_json(text, where=path)
