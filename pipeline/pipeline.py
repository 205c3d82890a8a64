"""The one definition of the imagepipe DAG, shared by every runner."""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Tuple

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx
from tfx.dsl.components.base import base_node, executor_spec

from imagepipe.components import features, folder_ingest, ingest, parameterized
from imagepipe.components import pusher as safe_pusher
from imagepipe.components.trainer.task import TrainingConfig
from imagepipe.pipeline.config import FOLDER_SOURCE, PipelineConfig

PREPROCESSING_FN = "imagepipe.components.preprocessing.preprocessing_fn"
PHOTO_PREPROCESSING_FN = "imagepipe.components.photo_preprocessing.preprocessing_fn"
RUN_FN = "imagepipe.components.trainer.task.run_fn"
TUNER_FN = "imagepipe.components.trainer.tuning.tuner_fn"
RESOLVER_ID = "latest_blessed_model_resolver"
LABEL_XF = features.transformed_name(features.LABEL_KEY)
TRAINER_ID = "Trainer"
EVALUATOR_ID = "Evaluator"


def class_names(config: PipelineConfig) -> Tuple[str, ...]:
    """The class names in class id order: the photo folder's, or Fashion-MNIST's super-classes."""
    if config.data.source == FOLDER_SOURCE:
        return config.data.class_names
    return features.SUPER_CLASS_NAMES


def _transform_settings(config: PipelineConfig) -> Tuple[str, Dict[str, Any]]:
    """The preprocessing_fn of the data source and its custom_config."""
    settings: Dict[str, Any] = {"code_fingerprint": config.code_fingerprint}
    if config.data.source == FOLDER_SOURCE:
        settings.update(image_size=config.data.image_size, resize_mode=config.data.resize_mode)
        return PHOTO_PREPROCESSING_FN, settings
    return PREPROCESSING_FN, settings


def _example_gen(config: PipelineConfig) -> base_node.BaseNode:
    data = config.data
    if data.source == FOLDER_SOURCE:
        return folder_ingest.FolderExampleGen(
            input_base=data.data_dir, class_map=data.class_map, split_ratios=data.split_ratios,
            split_seed=data.split_seed, max_pixels=data.max_pixels, max_side=data.max_side)
    if data.source == "tfds":
        return ingest.FashionMnistTfdsExampleGen(
            split_ratios=data.split_ratios, split_seed=data.split_seed,
            tfds_data_dir=data.data_dir)
    return ingest.FashionMnistExampleGen(
        input_base=data.data_dir, split_ratios=data.split_ratios, split_seed=data.split_seed)


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """TFMA config: accuracy, per-class recall and the confusion matrix on mapped labels.

    The model's ``transform_features`` signature gives TFMA the mapped label;
    the ``from_examples`` signature gives the probabilities.
    """
    rules = config.evaluation
    accuracy_threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": rules.min_accuracy}))
    if rules.compare_with_latest_blessed:
        accuracy_threshold.change_threshold.CopyFrom(tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
            absolute={"value": -rules.max_accuracy_drop - 1e-10}))
    num_classes = len(class_names(config))
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(
            signature_name=features.FROM_EXAMPLES_SIGNATURE,
            preprocessing_function_names=[features.TRANSFORM_SIGNATURE],
            label_key=LABEL_XF,
            prediction_key=features.PROBABILITIES_OUTPUT)],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[
            tfma.MetricsSpec(metrics=[
                tfma.MetricConfig(class_name="SparseCategoricalAccuracy",
                                  config=f'{{"name": "{parameterized.ACCURACY_METRIC}"}}',
                                  threshold=accuracy_threshold),
                tfma.MetricConfig(class_name="ExampleCount"),
                tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
            ]),
            tfma.MetricsSpec(
                # top_k 1: a class counts as predicted when it has the highest probability,
                # as in the confusion matrix (not when its probability passes 0.5).
                metrics=[tfma.MetricConfig(class_name="Recall", config='{"top_k": 1}'),
                         tfma.MetricConfig(class_name="Precision", config='{"top_k": 1}')],
                binarize=tfma.BinarizationOptions(class_ids={"values": list(range(num_classes))})),
        ])


def run_settings(config: PipelineConfig) -> Dict[str, Any]:
    """The settings that may vary between runs of a compiled pipeline, by parameter name.

    Plain values from the config, or -- with ``config.runtime_parameters`` --
    ``RuntimeParameter``s whose defaults are those values, which the Kubeflow
    and Vertex runners turn into pipeline parameters.
    """
    values = {"epochs": int(config.trainer.epochs), "model_name": str(config.trainer.model_name),
              "balance": str(config.trainer.balance),
              parameterized.MIN_ACCURACY_KEY: float(config.evaluation.min_accuracy)}
    if not config.runtime_parameters:
        return values
    return {name: tfx.dsl.experimental.RuntimeParameter(name=name, ptype=type(value),
                                                        default=value)
            for name, value in values.items()}


def create_components(config: PipelineConfig) -> List[base_node.BaseNode]:
    """Returns the pipeline's components, in dependency order."""
    example_gen = _example_gen(config)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"],
                                          infer_feature_shape=True)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    preprocessing_fn, transform_config = _transform_settings(config)
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"],
        preprocessing_fn=preprocessing_fn,
        splits_config=tfx.proto.SplitsConfig(analyze=["train"], transform=["train", "eval", "test"]),
        custom_config=transform_config)
    training = TrainingConfig(
        model_name=config.trainer.model_name, epochs=config.trainer.epochs,
        batch_size=config.trainer.batch_size, learning_rate=config.trainer.learning_rate,
        early_stopping_patience=config.trainer.early_stopping_patience,
        balance=config.trainer.balance,
        model_options=config.trainer.model_options.to_dict(),
        fine_tune_epochs=config.trainer.fine_tune_epochs,
        fine_tune_learning_rate=config.trainer.fine_tune_learning_rate,
        early_stopping=config.trainer.early_stopping,
        train_fraction=config.trainer.train_fraction,
        photo_augmentation=config.trainer.photo_augmentation,
        seed=config.data.split_seed, class_names=class_names(config))
    settings = run_settings(config)
    tuner = _tuner(config, training, transform, schema_gen) if config.tuner else None
    custom_config = {key: value for key, value in training.to_custom_config().items()
                     if key not in parameterized.TRAINER_PROPERTIES}
    trainer = parameterized.ParameterizedTrainer(
        run_fn=RUN_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(splits=["train"]),
        eval_args=tfx.proto.EvalArgs(splits=["eval"]),
        custom_config={**custom_config, "code_fingerprint": config.code_fingerprint},
        hyperparameters=tuner.outputs["best_hyperparameters"] if tuner else None,
        **{name: settings[name] for name in parameterized.TRAINER_PROPERTIES},
    ).with_id(TRAINER_ID)
    model_resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id(RESOLVER_ID)
    compare = config.evaluation.compare_with_latest_blessed
    evaluator = parameterized.ParameterizedEvaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=model_resolver.outputs["model"] if compare else None,
        example_splits=["test"],
        eval_config=eval_config(config),
        min_accuracy=settings[parameterized.MIN_ACCURACY_KEY],
    ).with_id(EVALUATOR_ID)
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        custom_executor_spec=executor_spec.ExecutorClassSpec(safe_pusher.Executor),
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(
                base_directory=f"{config.serving_dir.rstrip('/')}/{config.serving_model_name}")))
    return [example_gen, statistics_gen, schema_gen, example_validator, transform,
            *([tuner] if tuner else []), trainer, *([model_resolver] if compare else []),
            evaluator, pusher]


def _tuner(config: PipelineConfig, training: TrainingConfig, transform,
           schema_gen) -> base_node.BaseNode:
    """The TFX Tuner on the Trainer's splits and settings (the config's model)."""
    return tfx.components.Tuner(
        tuner_fn=TUNER_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(splits=["train"]),
        eval_args=tfx.proto.EvalArgs(splits=["eval"]),
        custom_config={**training.to_custom_config(),
                       "tuning": dataclasses.asdict(config.tuner),
                       "code_fingerprint": config.code_fingerprint})


def create_pipeline(config: PipelineConfig) -> tfx.dsl.Pipeline:
    """Builds the imagepipe TFX pipeline from its configuration; pure, runner-agnostic."""
    metadata = (tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
                if config.metadata_path else None)
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=create_components(config),
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata,
        beam_pipeline_args=list(config.beam_pipeline_args))
