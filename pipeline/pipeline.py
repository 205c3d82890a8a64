"""The one definition of the imagepipe DAG, shared by every runner and every experiment.

``create_components(config, plan)`` builds it for a split plan:

* :class:`HoldOut` (default): ExampleGen writes train/eval/test; one Trainer
  learns on train (validation: eval), one Evaluator judges it on test against
  the latest blessed model, and the Pusher publishes a blessed model.
* :class:`KFold`: ExampleGen writes K disjoint folds; per fold a Trainer learns
  on the other folds for a fixed number of epochs and an Evaluator scores it
  on the held-out fold; nothing is pushed (cross-validation estimates).

Both share ExampleGen, StatisticsGen, SchemaGen, ExampleValidator and the data
source's own Transform. Everything that depends on the source comes from its
registration (``imagepipe.components.sources``). A source whose data arrives
in spans (photo folders) adds SpanDrift beside StatisticsGen when a model is
pushed: statistics per span and the newest span's drift against the previous
one, which the Pusher reads as it reads the Evaluator's blessing. A run that
names an unlabelled folder (``--classify DIR``) adds its ExampleGen, TFX's
BulkInferrer with the blessed model after the Evaluator, and Classifications,
which writes one row per photo.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from tensorflow_model_analysis import constants as tfma_constants
# The config protos from their module: TFMA 0.52 (the TFX 1.21 stack) no longer re-exports
# them at the top level.
from tensorflow_model_analysis.proto import config_pb2 as tfma_config
from tfx import v1 as tfx
from tfx.dsl.components.base import base_node

from imagepipe.components import classifications, features, parameterized, sources
from imagepipe.components import pusher as safe_pusher
from imagepipe.components import span_drift
from imagepipe.components.folder_ingest import component as folder_component
from imagepipe.components.settings import (TrainerCustomConfig, TrainingSettings,
                                           TransformCustomConfig, TunerCustomConfig)
from imagepipe.components.unlabelled_ingest.spec import SPLIT as UNLABELLED_SPLIT
from imagepipe.pipeline import checks
from imagepipe.pipeline.config import (BULK_INFERRER_ID, CLASSIFICATIONS_ID,  # noqa: F401
                                       DRIFT_ID, EVALUATOR_ID, EXAMPLE_GEN_ID, PUSHER_ID,
                                       RESOLVER_ID, TRAINER_ID, TRANSFORM_ID, TUNER_ID,
                                       UNLABELLED_GEN_ID, PipelineConfig)

RUN_FN = "imagepipe.components.trainer.task.run_fn"
TUNER_FN = "imagepipe.components.trainer.tuning.tuner_fn"
LABEL_XF = features.transformed_name(features.LABEL_KEY)


@dataclasses.dataclass(frozen=True)
class Training:
    """One Trainer + Evaluator pair of a split plan.

    Attributes:
      trainer_id: the Trainer's node id.
      evaluator_id: the Evaluator's node id.
      train_splits: the splits the Trainer learns on.
      eval_splits: the Trainer's validation splits.
      test_splits: the splits the Evaluator scores the model on.
      changes: training settings this plan fixes for the pair.
      publish: compare with the latest blessed model and push a blessed one.
    """

    trainer_id: str
    evaluator_id: str
    train_splits: Tuple[str, ...]
    eval_splits: Tuple[str, ...]
    test_splits: Tuple[str, ...]
    changes: Tuple[Tuple[str, Any], ...] = ()
    publish: bool = True


@dataclasses.dataclass(frozen=True)
class HoldOut:
    """train/eval/test splits of the data settings' sizes; one model, pushed when blessed."""

    name = "hold-out"
    tunable = True

    def split_ratios(self, config: PipelineConfig) -> Dict[str, int]:
        ratios = config.data.split_ratios
        missing = [name for name in ("train", "eval", "test") if name not in ratios]
        if missing:
            raise ValueError(f"the hold-out plan needs splits train, eval and test; the data "
                             f"settings have {', '.join(ratios)}")
        return ratios

    def analyze_splits(self, split_names: Sequence[str]) -> List[str]:
        del split_names
        return ["train"]

    def trainings(self, split_names: Sequence[str]) -> List[Training]:
        del split_names
        return [Training(TRAINER_ID, EVALUATOR_ID, ("train",), ("eval",), ("test",))]


@dataclasses.dataclass(frozen=True)
class KFold:
    """K disjoint folds of equal size; per fold, a model trained on the others and scored on it.

    Each fold's Trainer trains the configured epochs without early stopping and
    keeps the last weights (the held-out fold is its validation data for the
    curves only), and counts its own training folds' classes for balancing.
    """

    folds: int
    name = "k-fold"
    tunable = False
    MIN_FOLDS = 2

    def __post_init__(self):
        if self.folds < self.MIN_FOLDS:
            raise ValueError(f"cross-validation needs at least {self.MIN_FOLDS} folds, "
                             f"got {self.folds}")

    def fold_names(self) -> List[str]:
        return [f"fold{i}" for i in range(self.folds)]

    def split_ratios(self, config: PipelineConfig) -> Dict[str, int]:
        del config
        return {name: 1 for name in self.fold_names()}

    def analyze_splits(self, split_names: Sequence[str]) -> List[str]:
        return list(split_names)

    def trainings(self, split_names: Sequence[str]) -> List[Training]:
        return [Training(trainer_id=fold_trainer_id(index), evaluator_id=fold_evaluator_id(index),
                         train_splits=tuple(n for n in split_names if n != held_out),
                         eval_splits=(held_out,), test_splits=(held_out,),
                         changes=(("early_stopping", False), ("recount_classes", True)),
                         publish=False)
                for index, held_out in enumerate(split_names)]


def fold_trainer_id(fold: int) -> str:
    return f"{TRAINER_ID}_fold{fold}"


def fold_evaluator_id(fold: int) -> str:
    return f"{EVALUATOR_ID}_fold{fold}"


HOLD_OUT = HoldOut()
SplitPlan = Union[HoldOut, KFold]


def class_names(config: PipelineConfig) -> Tuple[str, ...]:
    """The class names in class id order: the training settings', else the data source's."""
    return config.training.class_names or sources.of(config.data).class_names(config.data)


def eval_config(config: PipelineConfig) -> tfma_config.EvalConfig:
    """TFMA config: accuracy, example count and the confusion matrix on mapped labels.

    The model's ``transform_labels`` signature gives TFMA the mapped label
    (a baseline exported before it existed: ``transform_features``, see
    ``parameterized.EvaluatorExecutor``); the ``from_examples`` signature gives
    the probabilities.
    """
    rules = config.evaluation
    accuracy_threshold = tfma_config.MetricThreshold(
        value_threshold=tfma_config.GenericValueThreshold(
            lower_bound={"value": rules.min_accuracy}))
    if rules.compare_with_latest_blessed:
        accuracy_threshold.change_threshold.CopyFrom(tfma_config.GenericChangeThreshold(
            direction=tfma_config.MetricDirection.HIGHER_IS_BETTER,
            absolute={"value": -rules.max_accuracy_drop - 1e-10}))
    return tfma_config.EvalConfig(
        model_specs=[tfma_config.ModelSpec(
            # Read through its signatures: TFMA then loads the SavedModel as it is, instead of
            # reviving it as a Keras model once to guess its type and again in every worker.
            model_type=tfma_constants.TF_GENERIC,
            signature_name=features.FROM_EXAMPLES_SIGNATURE,
            preprocessing_function_names=[features.LABELS_SIGNATURE],
            label_key=LABEL_XF,
            prediction_key=features.PROBABILITIES_OUTPUT)],
        slicing_specs=[tfma_config.SlicingSpec()],
        metrics_specs=[
            tfma_config.MetricsSpec(metrics=[
                tfma_config.MetricConfig(class_name="SparseCategoricalAccuracy",
                                  config=f'{{"name": "{parameterized.ACCURACY_METRIC}"}}',
                                  threshold=accuracy_threshold),
                tfma_config.MetricConfig(class_name="ExampleCount"),
                # Per-class recall and precision are read off this matrix
                # (results.matrix_recall): TFMA's binarized classId:N topK:1 recall is not
                # recall (100% for every class of a model that predicts one).
                tfma_config.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
            ]),
        ])


def span_cache_dir(config: PipelineConfig) -> str:
    """Where the folder ExampleGen keeps each span's ingestion between runs."""
    return f"{config.pipeline_root.rstrip('/')}/{EXAMPLE_GEN_ID}/span-cache"


def statistics_options():
    """StatisticsGen's options: top values and unique counts from sketches.

    Every image and example id is its own value: counted exactly, TFDV groups
    the data by value (one Beam key per image), a second pass as costly as the
    statistics themselves; its sketches (Misra-Gries top values, KMV unique
    counts) are exact below 1,000 distinct values (a label, a class name) and
    within about 1% above (the unique count of 44,100 example ids: 43,680).
    """
    import tensorflow_data_validation as tfdv  # pylint: disable=g-import-not-at-top
    return tfdv.StatsOptions(use_sketch_based_topk_uniques=True)


def run_settings(config: PipelineConfig) -> Dict[str, Any]:
    """The settings that may vary between runs of a compiled pipeline, by parameter name.

    Every field marked ``runtime`` in the settings (training: epochs, model,
    balance; evaluation: min accuracy). Plain values from the config, or --
    with ``config.runtime_parameters`` -- ``RuntimeParameter``s whose defaults
    are those values, which the Kubeflow and Vertex runners turn into pipeline
    parameters.
    """
    values = {name: kind(getattr(config.training, name))
              for name, kind in parameterized.TRAINER_PROPERTIES.items()}
    values[parameterized.MIN_ACCURACY_KEY] = float(config.evaluation.min_accuracy)
    if not config.runtime_parameters:
        return values
    return {name: tfx.dsl.experimental.RuntimeParameter(name=name, ptype=type(value),
                                                        default=value)
            for name, value in values.items()}


def _transform(config: PipelineConfig, source: sources.DataSource, example_gen, schema_gen,
               split_names: List[str], analyze: List[str]) -> base_node.BaseNode:
    custom_config = TransformCustomConfig(settings=source.transform_settings(config.data),
                                          code_fingerprint=config.code_fingerprint)
    return tfx.components.Transform(
        examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"],
        preprocessing_fn=source.preprocessing_fn,
        splits_config=tfx.proto.SplitsConfig(analyze=analyze, transform=split_names),
        # StatisticsGen already describes the raw data and ExampleValidator checks it;
        # Transform's own pre- and post-transform statistics would compute them again.
        disable_statistics=True,
        # Transform only analyzes: the Trainer and Tuner apply the transform graph to the raw
        # examples inside tf.data (decision 0019), rather than Transform writing every split
        # transformed (gzip, float pixels) for them to read back.
        materialize=False,
        custom_config=custom_config.to_dict()).with_id(TRANSFORM_ID)


def _training_settings(config: PipelineConfig) -> TrainingSettings:
    return config.training.replace(class_names=class_names(config))


def _tuner(config: PipelineConfig, training: TrainingSettings, example_gen, transform,
           schema_gen, properties: Dict[str, Any]) -> base_node.BaseNode:
    """The TFX Tuner on the Trainer's splits and settings."""
    custom_config = TunerCustomConfig(training=training, tuning=config.tuning,
                                      code_fingerprint=config.code_fingerprint)
    return parameterized.ParameterizedTuner(
        tuner_fn=TUNER_FN,
        examples=example_gen.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(splits=["train"]),
        eval_args=tfx.proto.EvalArgs(splits=["eval"]),
        custom_config=parameterized.without_properties(custom_config.to_dict()),
        properties=properties).with_id(TUNER_ID)


def _trainer(config: PipelineConfig, training: TrainingSettings, task: Training, example_gen,
             transform, schema_gen, properties: Dict[str, Any], tuner,
             base_model=None) -> base_node.BaseNode:
    custom_config = TrainerCustomConfig(training=training.replace(**dict(task.changes)),
                                        code_fingerprint=config.code_fingerprint)
    return parameterized.ParameterizedTrainer(
        run_fn=RUN_FN,
        examples=example_gen.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(splits=list(task.train_splits)),
        eval_args=tfx.proto.EvalArgs(splits=list(task.eval_splits)),
        custom_config=parameterized.without_properties(custom_config.to_dict()),
        hyperparameters=tuner.outputs["best_hyperparameters"] if tuner else None,
        base_model=base_model, properties=properties).with_id(task.trainer_id)


def _span_drift(rules: Optional[sources.DriftRules], example_gen, plan: SplitPlan,
                split_names: List[str]) -> Optional[base_node.BaseNode]:
    """SpanDrift on the examples, when the source has spans and the plan pushes a model."""
    if rules is None or not any(task.publish for task in plan.trainings(split_names)):
        return None
    return span_drift.SpanDrift(examples=example_gen.outputs["examples"],
                                threshold=rules.threshold).with_id(DRIFT_ID)


def _pusher(config: PipelineConfig, example_gen, trainer, evaluator, drift_check=None,
            accept_drift: bool = False) -> base_node.BaseNode:
    return safe_pusher.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        examples=example_gen.outputs["examples"],
        model_run=trainer.outputs["model_run"],
        evaluation=evaluator.outputs["evaluation"],
        drift=drift_check.outputs[span_drift.DRIFT_KEY] if drift_check else None,
        accept_drift=accept_drift,
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(
                base_directory=f"{config.serving_dir.rstrip('/')}/{config.serving_model_name}"))
    ).with_id(PUSHER_ID)


def _classification(config: PipelineConfig, source: sources.DataSource, trainer,
                    evaluator) -> List[base_node.BaseNode]:
    """The unlabelled folder's ExampleGen, BulkInferrer and Classifications; [] without one."""
    unlabelled = source.unlabelled_example_gen(config.data)
    if unlabelled is None:
        return []
    unlabelled = unlabelled.with_id(UNLABELLED_GEN_ID)
    inferrer = tfx.components.BulkInferrer(
        examples=unlabelled.outputs["examples"], model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        data_spec=tfx.proto.DataSpec(example_splits=[UNLABELLED_SPLIT]),
        model_spec=tfx.proto.ModelSpec(model_signature_name=[features.BULK_INFERENCE_SIGNATURE]),
    ).with_id(BULK_INFERRER_ID)
    rows = classifications.Classifications(
        inference_result=inferrer.outputs["inference_result"],
        examples=unlabelled.outputs["examples"], class_names=class_names(config),
    ).with_id(CLASSIFICATIONS_ID)
    return [unlabelled, inferrer, rows]


def create_components(config: PipelineConfig,
                      plan: SplitPlan = HOLD_OUT) -> List[base_node.BaseNode]:
    """Returns the pipeline's components, in dependency order.

    Raises:
      ValueError: the config cannot run (see ``checks.problems``); the message
        lists every problem.
    """
    checks.raise_problems(config, plan)
    source = sources.of(config.data)
    example_gen = source.example_gen(config.data, plan.split_ratios(config)).with_id(
        EXAMPLE_GEN_ID)
    if isinstance(example_gen, folder_component.FolderExampleGen):
        example_gen.with_span_cache(span_cache_dir(config))
    split_names = list(plan.split_ratios(config))
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"],
                                                  stats_options=statistics_options())
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"],
                                          infer_feature_shape=True)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    transform = _transform(config, source, example_gen, schema_gen, split_names,
                           plan.analyze_splits(split_names))
    components = [example_gen, statistics_gen, schema_gen, example_validator, transform]
    drift_rules = source.drift_rules(config.data)
    drift_check = _span_drift(drift_rules, example_gen, plan, split_names)
    if drift_check:
        components.insert(1, drift_check)
    training = _training_settings(config)
    settings = run_settings(config)
    properties = {name: settings[name] for name in parameterized.TRAINER_PROPERTIES}
    tuner = None
    if config.tuning:
        tuner = _tuner(config, training, example_gen, transform, schema_gen, properties)
        components.append(tuner)
    eval_settings = eval_config(config)
    compare = config.evaluation.compare_with_latest_blessed
    for task in plan.trainings(split_names):
        # The latest blessed model: the Evaluator's baseline, and the Trainer's base_model
        # with --warm-start.
        resolver = None
        if task.publish and (compare or training.warm_start):
            resolver = tfx.dsl.Resolver(
                strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
                model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
                model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
            ).with_id(RESOLVER_ID)
        trainer = _trainer(config, training, task, example_gen, transform, schema_gen, properties,
                           tuner,
                           resolver.outputs["model"] if resolver and training.warm_start
                           else None)
        evaluator = parameterized.ParameterizedEvaluator(
            examples=example_gen.outputs["examples"],
            model=trainer.outputs["model"],
            baseline_model=resolver.outputs["model"] if resolver and compare else None,
            example_splits=list(task.test_splits),
            eval_config=eval_settings,
            min_accuracy=settings[parameterized.MIN_ACCURACY_KEY],
        ).with_id(task.evaluator_id)
        components += [*([resolver] if resolver else []), trainer, evaluator]
        if task.publish:
            components.append(_pusher(config, example_gen, trainer, evaluator, drift_check,
                                      bool(drift_rules and drift_rules.accept)))
            components += _classification(config, source, trainer, evaluator)
    return components


def create_pipeline(config: PipelineConfig, plan: SplitPlan = HOLD_OUT) -> tfx.dsl.Pipeline:
    """Builds the imagepipe TFX pipeline from its configuration; pure, runner-agnostic."""
    metadata = (tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
                if config.metadata_path else None)
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=create_components(config, plan),
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata,
        beam_pipeline_args=list(config.beam_pipeline_args))
