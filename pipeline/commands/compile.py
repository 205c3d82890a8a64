"""``imagepipe compile``: write the Kubeflow Pipelines / Vertex AI pipeline spec.

    imagepipe compile --target kubeflow|vertex --image IMAGE --pipeline-root URI
                      --data-dir URI [--output FILE] [--model NAME] [--epochs N] ...

The Fashion-MNIST pipeline of ``imagepipe run fashion-mnist``, compiled with
KubeflowV2DagRunner; epochs, model, balancing mode and minimum accuracy become
runtime parameters whose defaults are the values given here.
"""

from __future__ import annotations

import argparse
import sys
DEFAULT_PIPELINE_NAME = "imagepipe-fashion-mnist"


def register(subparsers) -> None:
    """Adds the ``compile`` command."""
    from imagepipe.pipeline import beam_options  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    parser = subparsers.add_parser(
        "compile", help="write the pipeline spec for Kubeflow Pipelines or Vertex AI",
        description="Compile the Fashion-MNIST pipeline with KubeflowV2DagRunner. Epochs, model, "
                    "balance and min accuracy become runtime parameters (defaults: the values "
                    "given here).")
    parser.add_argument("--target", choices=("kubeflow", "vertex"), required=True,
                        help="kubeflow: YAML PipelineSpec; vertex: JSON PipelineJob")
    parser.add_argument("--image", required=True,
                        help="container image the components run in (built from the Dockerfile)")
    parser.add_argument("--pipeline-root", required=True,
                        help="where the orchestrator writes artifacts, e.g. gs://BUCKET/root")
    parser.add_argument("--output", default=None,
                        help=f"spec file, local or gs://; default {DEFAULT_PIPELINE_NAME}.yaml "
                             f"(kubeflow) or .json (vertex)")
    parser.add_argument("--pipeline-name", default=DEFAULT_PIPELINE_NAME,
                        help=f"default {DEFAULT_PIPELINE_NAME}")
    parser.add_argument("--source", choices=("idx", "tfds"), default="idx",
                        help="idx: the canonical IDX files in --data-dir (default); tfds: TFDS")
    parser.add_argument("--data-dir", default="",
                        help="folder of the IDX files as the containers see it, e.g. "
                             "gs://BUCKET/fashion-mnist (required with --source idx)")
    parser.add_argument("--serving-dir", default=None,
                        help="where blessed models are pushed; default PIPELINE_ROOT/serving")
    run.add_training_options(parser, epochs=3, patience=2)
    parser.add_argument("--min-accuracy", type=float, default=0.98,
                        help="test accuracy needed for blessing; default 0.98")
    parser.add_argument("--seed", type=int, default=1001, help="split and training seed")
    parser.add_argument("--no-cache", action="store_true",
                        help="compile with the orchestrator's caching off")
    run.add_beam_option(parser, beam_options.container_defaults())
    parser.set_defaults(func=_compile)


def build_config(args: argparse.Namespace):
    """The PipelineConfig that ``compile`` compiles (before the runner's adjustments)."""
    from imagepipe.pipeline import config  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    root = args.pipeline_root.rstrip("/")
    return config.PipelineConfig(
        pipeline_name=args.pipeline_name, pipeline_root=root,
        serving_dir=args.serving_dir or f"{root}/serving",
        data=config.DataConfig(source=args.source, data_dir=args.data_dir, split_seed=args.seed),
        trainer=run.trainer_config(args),
        tuner=run.tuner_config(args),
        evaluation=config.EvalConfig(min_accuracy=args.min_accuracy),
        beam_pipeline_args=tuple(args.beam_arg),
        code_fingerprint=config.code_fingerprint(),
        enable_cache=not args.no_cache)


def _checked_config(args: argparse.Namespace):
    """Returns (PipelineConfig, None), or (None, why the arguments cannot be compiled)."""
    from imagepipe.pipeline import kubeflow_runner  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    if args.source == "idx" and not args.data_dir:
        return None, "--data-dir is required with --source idx: the IDX folder, e.g. gs://B/fmnist"
    problem = run.check_model(args.model)
    if problem:
        return None, problem
    try:
        pipeline_config = build_config(args)
    except ValueError as error:
        return None, str(error)
    return pipeline_config, kubeflow_runner.check_target(pipeline_config, args.target)


def _compile(args: argparse.Namespace) -> int:
    from imagepipe.pipeline import kubeflow_runner  # pylint: disable=g-import-not-at-top
    pipeline_config, problem = _checked_config(args)
    output = args.output or kubeflow_runner.default_output(args.pipeline_name, args.target)
    try:
        job = None if problem else kubeflow_runner.compile_pipeline(
            pipeline_config, args.image, output)
    except ImportError as error:
        problem = str(error)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(f"wrote {output} ({args.target}): {len(kubeflow_runner.tasks(job))} tasks, image "
          f"{args.image}, pipeline root {pipeline_config.pipeline_root}")
    for name, (kind, default) in kubeflow_runner.parameters(job).items():
        print(f"  parameter {name} ({kind}) = {default!r}")
    return 0
