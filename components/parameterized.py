"""Trainer, Tuner and Evaluator whose run settings are execution properties of their own.

Orchestrators can only expose a whole execution property as a runtime
parameter: TFX 1.16's KubeflowV2DagRunner compiles a
``tfx.dsl.experimental.RuntimeParameter`` into a pipeline input when it *is*
an execution property's value (``step_builder``: ``component_input_parameter``),
not when it sits inside the Trainer's ``custom_config`` (a JSON string) or
inside the Evaluator's ``eval_config`` (a proto). So these components lift
the settings marked ``runtime`` in ``components/settings.py`` into properties
of their own:

* ``ParameterizedTrainer`` and ``ParameterizedTuner``: ``epochs`` (int),
  ``model_name`` (str) and ``balance`` (str). The executor writes them into
  the training settings of ``custom_config`` before the standard executor
  calls ``run_fn`` / ``tuner_fn``, which read them strictly: a compiled
  pipeline run with another model trains and tunes that model.
* ``ParameterizedEvaluator``: ``min_accuracy`` (float). The executor makes it
  the lower bound of the value threshold of the metric named ``accuracy`` in
  ``eval_config`` before the standard Evaluator executor runs TFMA.

Each property takes a plain value (local runs) or a RuntimeParameter (Kubeflow,
Vertex); the executors run the same way in both cases.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Union

from tensorflow_model_analysis.proto import config_pb2 as tfma_config
from absl import logging
from tfx import types
from tfx.components.evaluator import executor as evaluator_executor
from tfx.components.trainer import executor as trainer_executor
from tfx.components.tuner import executor as tuner_executor
from tfx.dsl.components.base import base_beam_component, base_component, executor_spec
from tfx.orchestration import data_types
from tfx.proto import trainer_pb2
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import json_utils, proto_utils

from imagepipe.components import evaluation_labels, settings

# Training settings lifted out of custom_config: every field of TrainingSettings
# marked ``runtime`` (epochs, model_name, balance), property name -> type.
TRAINER_PROPERTIES: Mapping[str, type] = {
    field.name: {"int": int, "str": str, "float": float}[str(field.type)]
    for field in settings.runtime_fields(settings.TrainingSettings)}
MIN_ACCURACY_KEY = "min_accuracy"
assert {f.name for f in settings.runtime_fields(settings.EvaluationSettings)} == {
    MIN_ACCURACY_KEY}, "the Evaluator lifts min_accuracy only"
ACCURACY_METRIC = "accuracy"  # the metric name min_accuracy bounds
TRAINING_KEY = "training"  # where the training settings sit in custom_config

Setting = Union[int, float, str, data_types.RuntimeParameter]
_CUSTOM_CONFIG = standard_component_specs.CUSTOM_CONFIG_KEY
_EVAL_CONFIG = standard_component_specs.EVAL_CONFIG_KEY


def merge_trainer_properties(exec_properties: Mapping[str, Any]) -> str:
    """Returns the custom_config JSON with the lifted properties written into its settings.

    Used by the Trainer and the Tuner, whose custom_config holds the training
    settings under ``training``.

    Args:
      exec_properties: the component's execution properties: ``custom_config``
        (JSON) and any of ``TRAINER_PROPERTIES``.

    Raises:
      ValueError: custom_config is not a JSON object with a ``training`` object.
    """
    custom_config = json_utils.loads(exec_properties.get(_CUSTOM_CONFIG) or "null") or {}
    if not isinstance(custom_config, dict) or not isinstance(
            custom_config.get(TRAINING_KEY), dict):
        raise ValueError(f"the custom_config must be a JSON object with a {TRAINING_KEY!r} "
                         f"object, got {str(custom_config)[:200]}")
    for name, kind in TRAINER_PROPERTIES.items():
        value = exec_properties.get(name)
        if value is not None:  # Vertex may hand integers over as floats.
            custom_config[TRAINING_KEY][name] = kind(value)
    return json_utils.dumps(custom_config)


def without_properties(custom_config: Mapping[str, Any]) -> Dict[str, Any]:
    """``custom_config`` with the lifted settings taken out of its training settings.

    The execution properties carry them instead, so that one value, plain or a
    runtime parameter, is the only one there is.
    """
    training = {k: v for k, v in custom_config[TRAINING_KEY].items()
                if k not in TRAINER_PROPERTIES}
    return {**custom_config, TRAINING_KEY: training}


def _metric_name(metric: tfma_config.MetricConfig) -> str:
    return json.loads(metric.config or "{}").get("name") or metric.class_name


def set_min_accuracy(eval_config: tfma_config.EvalConfig,
                     min_accuracy: float) -> tfma_config.EvalConfig:
    """Sets the lower bound of every value threshold on the ``accuracy`` metric.

    Raises:
      ValueError: no metric named ``accuracy`` has a value threshold.
    """
    result = tfma_config.EvalConfig()
    result.CopyFrom(eval_config)
    bounded = 0
    for spec in result.metrics_specs:
        thresholds = [m.threshold for m in spec.metrics if _metric_name(m) == ACCURACY_METRIC]
        if ACCURACY_METRIC in spec.thresholds:
            thresholds.append(spec.thresholds[ACCURACY_METRIC])
        for threshold in thresholds:
            if threshold.HasField("value_threshold"):
                threshold.value_threshold.lower_bound.value = float(min_accuracy)
                bounded += 1
    if not bounded:
        raise ValueError(f"{MIN_ACCURACY_KEY} needs a value threshold on a metric named "
                         f"{ACCURACY_METRIC!r} in the Evaluator's eval_config; there is none")
    return result


def merge_min_accuracy(exec_properties: Mapping[str, Any]) -> Optional[str]:
    """Returns the Evaluator's eval_config JSON with ``min_accuracy`` applied (None: no config)."""
    config_json = exec_properties.get(_EVAL_CONFIG)
    min_accuracy = exec_properties.get(MIN_ACCURACY_KEY)
    if not config_json or min_accuracy is None:
        return config_json
    eval_config = proto_utils.json_to_proto(config_json, tfma_config.EvalConfig())
    return proto_utils.proto_to_json(set_min_accuracy(eval_config, float(min_accuracy)))


def _with_trainer_properties(exec_properties: Dict[str, Any], component: str
                             ) -> Dict[str, Any]:
    """``exec_properties`` whose custom_config holds the lifted properties (logged)."""
    merged = merge_trainer_properties(exec_properties)
    logging.info("%s custom_config with its properties: %s", component, merged)
    return {**exec_properties, _CUSTOM_CONFIG: merged}


class TrainerExecutor(trainer_executor.GenericExecutor):
    """The standard Trainer executor, after writing the lifted properties into custom_config."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        super().Do(input_dict, output_dict, _with_trainer_properties(exec_properties, "Trainer"))


class TunerExecutor(tuner_executor.Executor):
    """The standard Tuner executor, after writing the lifted properties into custom_config."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        super().Do(input_dict, output_dict, _with_trainer_properties(exec_properties, "Tuner"))


class EvaluatorExecutor(evaluator_executor.Executor):
    """The standard Evaluator executor, after min_accuracy and the baseline's label signature."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        logging.info("Evaluator %s: %s", MIN_ACCURACY_KEY, exec_properties.get(MIN_ACCURACY_KEY))
        eval_config = evaluation_labels.for_baseline(
            merge_min_accuracy(exec_properties),
            input_dict.get(standard_component_specs.BASELINE_MODEL_KEY))
        super().Do(input_dict, output_dict, {**exec_properties, _EVAL_CONFIG: eval_config})


def _trainer_parameters() -> Dict[str, ExecutionParameter]:
    return {name: ExecutionParameter(type=kind, optional=True)
            for name, kind in TRAINER_PROPERTIES.items()}


class ParameterizedTrainerSpec(standard_component_specs.TrainerSpec):
    PARAMETERS = {**standard_component_specs.TrainerSpec.PARAMETERS, **_trainer_parameters()}


class ParameterizedTunerSpec(standard_component_specs.TunerSpec):
    PARAMETERS = {**standard_component_specs.TunerSpec.PARAMETERS, **_trainer_parameters()}


class ParameterizedEvaluatorSpec(standard_component_specs.EvaluatorSpec):
    PARAMETERS = {**standard_component_specs.EvaluatorSpec.PARAMETERS,
                  MIN_ACCURACY_KEY: ExecutionParameter(type=float, optional=True)}


class ParameterizedTrainer(base_component.BaseComponent):
    """The Trainer with ``epochs``, ``model_name`` and ``balance`` as execution properties."""

    SPEC_CLASS = ParameterizedTrainerSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(TrainerExecutor)

    def __init__(self, examples: types.BaseChannel, transform_graph: types.BaseChannel,
                 schema: types.BaseChannel, run_fn: str, train_args: trainer_pb2.TrainArgs,
                 eval_args: trainer_pb2.EvalArgs, custom_config: Mapping[str, Any],
                 properties: Mapping[str, Setting],
                 hyperparameters: Optional[types.BaseChannel] = None,
                 base_model: Optional[types.BaseChannel] = None):
        """Creates the component.

        Args:
          examples: transformed examples.
          transform_graph: Transform's graph.
          schema: the data schema.
          run_fn: dotted path of the training function.
          train_args: training splits and steps.
          eval_args: evaluation splits and steps.
          custom_config: a TrainerCustomConfig as a dict, without the lifted settings.
          properties: a value or a RuntimeParameter for each of ``TRAINER_PROPERTIES``.
          hyperparameters: the Tuner's best hyperparameters, when it runs.
          base_model: the model to start from (``--warm-start``: the latest
            blessed model, from a Resolver; empty when there is none).
        """
        spec = ParameterizedTrainerSpec(
            examples=examples, transform_graph=transform_graph, schema=schema, run_fn=run_fn,
            train_args=train_args, eval_args=eval_args,
            custom_config=json_utils.dumps(dict(custom_config)),
            hyperparameters=hyperparameters, base_model=base_model,
            model=types.Channel(type=standard_artifacts.Model),
            model_run=types.Channel(type=standard_artifacts.ModelRun),
            **_checked_properties(properties))
        super().__init__(spec=spec)


def _checked_properties(properties: Mapping[str, Setting]) -> Dict[str, Setting]:
    if set(properties) != set(TRAINER_PROPERTIES):
        raise ValueError(f"the lifted training settings are {sorted(TRAINER_PROPERTIES)}, "
                         f"got {sorted(properties)}")
    return dict(properties)


class ParameterizedTuner(base_component.BaseComponent):
    """The Tuner with the Trainer's lifted settings as execution properties.

    A compiled pipeline run with another ``model_name`` tunes that model: the
    search space is the one of the model the run trains.
    """

    SPEC_CLASS = ParameterizedTunerSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(TunerExecutor)

    def __init__(self, examples: types.BaseChannel, transform_graph: types.BaseChannel,
                 schema: types.BaseChannel, tuner_fn: str, train_args: trainer_pb2.TrainArgs,
                 eval_args: trainer_pb2.EvalArgs, custom_config: Mapping[str, Any],
                 properties: Mapping[str, Setting]):
        """Creates the component.

        Args:
          examples: transformed examples.
          transform_graph: Transform's graph.
          schema: the data schema.
          tuner_fn: dotted path of the function that builds the search.
          train_args: training splits.
          eval_args: validation splits.
          custom_config: a TunerCustomConfig as a dict, without the lifted settings.
          properties: a value or a RuntimeParameter for each of ``TRAINER_PROPERTIES``.
        """
        spec = ParameterizedTunerSpec(
            examples=examples, transform_graph=transform_graph, schema=schema,
            tuner_fn=tuner_fn, train_args=train_args, eval_args=eval_args,
            custom_config=json_utils.dumps(dict(custom_config)),
            best_hyperparameters=types.Channel(type=standard_artifacts.HyperParameters),
            tuner_results=types.Channel(type=standard_artifacts.TunerResults),
            **_checked_properties(properties))
        super().__init__(spec=spec)


class ParameterizedEvaluator(base_beam_component.BaseBeamComponent):
    """The Evaluator with ``min_accuracy`` as an execution property."""

    SPEC_CLASS = ParameterizedEvaluatorSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(EvaluatorExecutor)

    def __init__(self, examples: types.BaseChannel, model: types.BaseChannel,
                 baseline_model: Optional[types.BaseChannel], example_splits: List[str],
                 eval_config: tfma_config.EvalConfig, min_accuracy: Setting):
        """Creates the component.

        Args:
          examples: raw examples to evaluate on.
          model: the candidate model.
          baseline_model: the latest blessed model (for change thresholds), or None.
          example_splits: the splits to evaluate on.
          eval_config: TFMA configuration; it needs a value threshold on the
            metric named ``accuracy``.
          min_accuracy: lower bound of that threshold, or a RuntimeParameter of
            type float.
        """
        spec = ParameterizedEvaluatorSpec(
            examples=examples, model=model, baseline_model=baseline_model,
            example_splits=json_utils.dumps(example_splits), eval_config=eval_config,
            min_accuracy=min_accuracy,
            evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
            blessing=types.Channel(type=standard_artifacts.ModelBlessing))
        super().__init__(spec=spec)
