"""Trainer and Evaluator whose key settings are execution properties of their own.

Orchestrators can only expose a whole execution property as a runtime
parameter: TFX 1.16's KubeflowV2DagRunner compiles a
``tfx.dsl.experimental.RuntimeParameter`` into a pipeline input when it *is*
an execution property's value (``step_builder``: ``component_input_parameter``),
not when it sits inside the Trainer's ``custom_config`` (a JSON string) or
inside the Evaluator's ``eval_config`` (a proto). So these two components lift
the settings that vary between runs into properties of their own:

* ``ParameterizedTrainer``: ``epochs`` (int), ``model_name`` (str) and
  ``balance`` (str). The executor writes them into ``custom_config`` before the
  standard Trainer executor calls ``run_fn``, which reads them as usual.
* ``ParameterizedEvaluator``: ``min_accuracy`` (float). The executor makes it
  the lower bound of the value threshold of the metric named ``accuracy`` in
  ``eval_config`` before the standard Evaluator executor runs TFMA.

Each property takes a plain value (local runs) or a RuntimeParameter (Kubeflow,
Vertex); the executors run the same way in both cases.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Union

import tensorflow_model_analysis as tfma
from absl import logging
from tfx import types
from tfx.components.evaluator import executor as evaluator_executor
from tfx.components.trainer import executor as trainer_executor
from tfx.dsl.components.base import base_beam_component, base_component, executor_spec
from tfx.orchestration import data_types
from tfx.proto import trainer_pb2
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import json_utils, proto_utils

# Trainer settings lifted out of custom_config: property name -> type. The
# names are the TrainingConfig fields they set (components/trainer/task.py).
TRAINER_PROPERTIES: Mapping[str, type] = {"epochs": int, "model_name": str, "balance": str}
MIN_ACCURACY_KEY = "min_accuracy"
ACCURACY_METRIC = "accuracy"  # the metric name min_accuracy bounds

Setting = Union[int, float, str, data_types.RuntimeParameter]
_CUSTOM_CONFIG = standard_component_specs.CUSTOM_CONFIG_KEY
_EVAL_CONFIG = standard_component_specs.EVAL_CONFIG_KEY


def merge_trainer_properties(exec_properties: Mapping[str, Any]) -> str:
    """Returns the Trainer's custom_config JSON with the lifted properties written in.

    Args:
      exec_properties: the Trainer's execution properties: ``custom_config``
        (JSON) and any of ``TRAINER_PROPERTIES``.

    Raises:
      ValueError: custom_config is not a JSON object.
    """
    custom_config = json_utils.loads(exec_properties.get(_CUSTOM_CONFIG) or "null") or {}
    if not isinstance(custom_config, dict):
        raise ValueError(f"the Trainer's custom_config must be a JSON object, got "
                         f"{type(custom_config).__name__}")
    for name, kind in TRAINER_PROPERTIES.items():
        value = exec_properties.get(name)
        if value is not None:  # Vertex may hand integers over as floats.
            custom_config[name] = kind(value)
    return json_utils.dumps(custom_config)


def _metric_name(metric: tfma.MetricConfig) -> str:
    return json.loads(metric.config or "{}").get("name") or metric.class_name


def set_min_accuracy(eval_config: tfma.EvalConfig, min_accuracy: float) -> tfma.EvalConfig:
    """Sets the lower bound of every value threshold on the ``accuracy`` metric.

    Raises:
      ValueError: no metric named ``accuracy`` has a value threshold.
    """
    result = tfma.EvalConfig()
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
    eval_config = proto_utils.json_to_proto(config_json, tfma.EvalConfig())
    return proto_utils.proto_to_json(set_min_accuracy(eval_config, float(min_accuracy)))


class TrainerExecutor(trainer_executor.GenericExecutor):
    """The standard Trainer executor, after writing the lifted properties into custom_config."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        merged = merge_trainer_properties(exec_properties)
        logging.info("Trainer custom_config with its properties: %s", merged)
        super().Do(input_dict, output_dict, {**exec_properties, _CUSTOM_CONFIG: merged})


class EvaluatorExecutor(evaluator_executor.Executor):
    """The standard Evaluator executor, after applying ``min_accuracy`` to eval_config."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        logging.info("Evaluator %s: %s", MIN_ACCURACY_KEY, exec_properties.get(MIN_ACCURACY_KEY))
        super().Do(input_dict, output_dict,
                   {**exec_properties, _EVAL_CONFIG: merge_min_accuracy(exec_properties)})


class ParameterizedTrainerSpec(standard_component_specs.TrainerSpec):
    PARAMETERS = {**standard_component_specs.TrainerSpec.PARAMETERS,
                  **{name: ExecutionParameter(type=kind, optional=True)
                     for name, kind in TRAINER_PROPERTIES.items()}}


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
                 epochs: Setting, model_name: Setting, balance: Setting,
                 hyperparameters: Optional[types.BaseChannel] = None):
        """Creates the component.

        Args:
          examples: transformed examples.
          transform_graph: Transform's graph.
          schema: the data schema.
          run_fn: dotted path of the training function.
          train_args: training splits and steps.
          eval_args: evaluation splits and steps.
          custom_config: the other TrainingConfig settings (JSON-serializable).
          epochs: maximum epochs, or a RuntimeParameter of type int.
          model_name: registered architecture, or a RuntimeParameter of type str.
          balance: balancing mode, or a RuntimeParameter of type str.
          hyperparameters: the Tuner's best hyperparameters, when it runs.
        """
        spec = ParameterizedTrainerSpec(
            examples=examples, transform_graph=transform_graph, schema=schema, run_fn=run_fn,
            train_args=train_args, eval_args=eval_args,
            custom_config=json_utils.dumps(dict(custom_config)),
            epochs=epochs, model_name=model_name, balance=balance,
            hyperparameters=hyperparameters,
            model=types.Channel(type=standard_artifacts.Model),
            model_run=types.Channel(type=standard_artifacts.ModelRun))
        super().__init__(spec=spec)


class ParameterizedEvaluator(base_beam_component.BaseBeamComponent):
    """The Evaluator with ``min_accuracy`` as an execution property."""

    SPEC_CLASS = ParameterizedEvaluatorSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(EvaluatorExecutor)

    def __init__(self, examples: types.BaseChannel, model: types.BaseChannel,
                 baseline_model: Optional[types.BaseChannel], example_splits: List[str],
                 eval_config: tfma.EvalConfig, min_accuracy: Setting):
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
