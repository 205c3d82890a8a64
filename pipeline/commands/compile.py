"""``imagepipe compile TARGET``: write the Kubeflow Pipelines / Vertex AI pipeline spec.

    imagepipe compile fashion-mnist --target kubeflow|vertex --image IMAGE
                      --pipeline-root URI --data-dir URI [--output FILE] [--model NAME] ...
    imagepipe compile folder gs://BUCKET/photos --target vertex --image IMAGE ...

The same pipeline as ``imagepipe run TARGET``, with the same data, training,
tuning and evaluation options, compiled with KubeflowV2DagRunner; the settings
marked ``runtime`` (epochs, model, balance, min accuracy) become runtime
parameters whose defaults are the values given here. A photo folder's class map
is read now (from its sub-folders, or ``--class-map``), so the containers never
list the folder to find their classes.
"""

from __future__ import annotations

import argparse
import sys

from imagepipe.pipeline.commands import options as options_lib

DEFAULT_PIPELINE_NAME = "imagepipe-fashion-mnist"


def register(subparsers) -> None:
    """Adds the ``compile`` command, one sub-command per data-source target."""
    from imagepipe.components import sources  # pylint: disable=g-import-not-at-top
    parser = subparsers.add_parser(
        "compile", help="write the pipeline spec for Kubeflow Pipelines or Vertex AI",
        description="Compile a pipeline with KubeflowV2DagRunner. Epochs, model, balance and "
                    "min accuracy become runtime parameters (defaults: the values given here).")
    targets = parser.add_subparsers(dest="data_target", required=True, metavar="TARGET")
    for target, target_sources in sources.targets().items():
        sub = targets.add_parser(target, help=target_sources[0].description,
                                 description=f"Compile the {target} pipeline.")
        _add_compile_options(sub)
        options_lib.add_offered(sub, options_lib.Offered(tuple(target_sources)))
        sub.set_defaults(func=_compile)


def _add_compile_options(parser: argparse.ArgumentParser) -> None:
    from imagepipe.pipeline import beam_options  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    group = parser.add_argument_group("orchestrator")
    group.add_argument("--target", choices=("kubeflow", "vertex"), required=True,
                       help="kubeflow: YAML PipelineSpec; vertex: JSON PipelineJob")
    group.add_argument("--image", required=True,
                       help="container image the components run in (built from the Dockerfile)")
    group.add_argument("--pipeline-root", required=True,
                       help="where the orchestrator writes artifacts, e.g. gs://BUCKET/root")
    group.add_argument("--output", default=None,
                       help="spec file, local or gs://; default PIPELINE_NAME.yaml (kubeflow) "
                            "or .json (vertex)")
    group.add_argument("--pipeline-name", default=None,
                       help="default: the source's (imagepipe-fashion-mnist, "
                            "imagepipe-folder-NAME)")
    group.add_argument("--serving-dir", default=None,
                       help="where blessed models are pushed; default PIPELINE_ROOT/serving")
    group.add_argument("--serving-name", default=None,
                       help="model name under the serving folder; default: the source's")
    group.add_argument("--no-cache", action="store_true",
                       help="compile with the orchestrator's caching off")
    run.add_beam_option(group, beam_options.container_defaults())


def build_config(args: argparse.Namespace):
    """The PipelineConfig that ``compile`` compiles (before the runner's adjustments).

    Raises:
      options.UsageError: the options cannot run; the message says why.
    """
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    source_name = options_lib.given(args, options_lib.DATA).get(
        "source", args._offered.source.name)  # pylint: disable=protected-access
    if not options_lib.given(args, options_lib.DATA).get("data_dir") and \
            _needs_data_dir(source_name):
        raise options_lib.UsageError(
            f"--data-dir is required with the {source_name} source: the data folder as the "
            f"containers see it, e.g. gs://BUCKET/fashion-mnist")
    root = args.pipeline_root.rstrip("/")
    return run.checked_config(args, {"pipeline_root": root,
                                     "serving_dir": args.serving_dir or f"{root}/serving",
                                     "metadata_path": None}, args.pipeline_name)


def _needs_data_dir(source_name: str) -> bool:
    from imagepipe.components import sources  # pylint: disable=g-import-not-at-top
    return sources.get(source_name).needs_data_dir


def _compile(args: argparse.Namespace) -> int:
    from imagepipe.pipeline import kubeflow_runner  # pylint: disable=g-import-not-at-top
    try:
        pipeline_config = build_config(args)
        problem = kubeflow_runner.check_target(pipeline_config, args.target)
        output = args.output or kubeflow_runner.default_output(pipeline_config.pipeline_name,
                                                                args.target)
        job = None if problem else kubeflow_runner.compile_pipeline(
            pipeline_config, args.image, output)
    except (options_lib.UsageError, ImportError) as error:
        problem = str(error)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(f"wrote {output} ({args.target}): {len(kubeflow_runner.tasks(job))} tasks, image "
          f"{args.image}, pipeline root {pipeline_config.pipeline_root}")
    for name, (kind, default) in kubeflow_runner.parameters(job).items():
        print(f"  parameter {name} ({kind}) = {default!r}")
    return 0
