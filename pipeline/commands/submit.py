"""``imagepipe submit``: run a compiled pipeline on Vertex AI Pipelines.

    imagepipe submit --project P --region R [--spec FILE] [--pipeline-root gs://...]
                     [--epochs N] [--model NAME] [--balance MODE] [--min-accuracy X]
                     [--service-account SA] [--no-cache] [--dry-run]
                     [--preflight [--preflight-root DIR]]

Creates a ``google.cloud.aiplatform.PipelineJob`` from the spec that
``imagepipe compile TARGET --target vertex`` wrote. The runtime options are the
settings marked ``runtime`` (the same flags, choices and checks as ``run``);
those not given keep their compiled defaults. A spec compiled with ``--tune``
tunes the model it is run with (the Tuner takes the same parameters as the
Trainer). ``--dry-run`` prints the job and calls nothing. ``--preflight`` first
runs the spec on this machine with the same runtime parameters (``imagepipe
preflight``) and submits only when every task passed.
"""

from __future__ import annotations

import argparse
import json
import sys

from imagepipe.pipeline.commands import options as options_lib
from imagepipe.pipeline.commands.compile import DEFAULT_PIPELINE_NAME

RUNTIME_GROUPS = (options_lib.TRAINING, options_lib.EVALUATION)


def runtime_options():
    """The options of the settings marked ``runtime``: (settings class, Option) pairs."""
    from imagepipe.components import settings  # pylint: disable=g-import-not-at-top
    found = []
    for group, cls in zip(RUNTIME_GROUPS, (settings.TrainingSettings,
                                           settings.EvaluationSettings)):
        runtime = {field.name for field in settings.runtime_fields(cls)}
        found += [(cls, option) for option in options_lib.options_of(cls, cls(), group)
                  if option.field.name in runtime]
    return found


def register(subparsers) -> None:
    """Adds the ``submit`` command."""
    parser = subparsers.add_parser(
        "submit", help="run a compiled pipeline on Vertex AI Pipelines",
        description="Create a Vertex AI PipelineJob from a spec written by "
                    "`imagepipe compile TARGET --target vertex`. Runtime parameters not given "
                    "keep the spec's values.")
    parser.add_argument("--project", required=True, help="Google Cloud project")
    parser.add_argument("--region", required=True, help="Vertex AI region, e.g. europe-west4")
    parser.add_argument("--spec", default=f"{DEFAULT_PIPELINE_NAME}.json",
                        help=f"the compiled spec, local or gs://; default "
                             f"{DEFAULT_PIPELINE_NAME}.json")
    parser.add_argument("--pipeline-root", default=None,
                        help="gs:// artifact root; default the one compiled into the spec")
    parser.add_argument("--display-name", default=None, help="default the pipeline name")
    parser.add_argument("--service-account", default=None,
                        help="service account the job runs as; default Vertex's default")
    group = parser.add_argument_group("runtime parameters (default: the spec's)")
    for _, option in runtime_options():
        kwargs = {"choices": list(option.field.metadata["choices"])} \
            if option.field.metadata.get("choices") else {}
        group.add_argument(option.flag, dest=option.dest, type=option.kind,
                           default=argparse.SUPPRESS,
                           metavar=option.field.metadata.get("metavar"),
                           help=option.field.metadata.get("help", ""), **kwargs)
    parser.add_argument("--no-cache", action="store_true",
                        help="rerun every component instead of reusing cached results")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the PipelineJob that would be created; call nothing")
    _add_preflight_options(parser)
    parser.set_defaults(func=_submit)


def _add_preflight_options(parser: argparse.ArgumentParser) -> None:
    from imagepipe.pipeline.commands import preflight  # pylint: disable=g-import-not-at-top
    parser.add_argument("--preflight", action="store_true",
                        help="first run the spec on this machine with the same runtime "
                             "parameters (imagepipe preflight); submit only if every task passes")
    preflight.add_root_option(parser, "--preflight-root", default=None,
                              shown=f"{preflight.DEFAULT_ROOT}; only with --preflight")


def overrides(args: argparse.Namespace) -> dict:
    """The runtime parameters given, by parameter name, checked as the settings check them.

    Raises:
      options.UsageError: a value out of range or an unknown model.
    """
    values = {}
    for cls, option in runtime_options():
        if option.dest not in vars(args):
            continue
        value = getattr(args, option.dest)
        try:
            cls(**{option.field.name: value})
        except ValueError as error:
            raise options_lib.UsageError(f"{option.flag}: {error}") from None
        values[option.field.name] = value
    if "model_name" in values:
        from imagepipe.components import models  # pylint: disable=g-import-not-at-top
        try:
            models.architecture(values["model_name"])
        except models.UnknownModelError as error:
            raise options_lib.UsageError(str(error)) from None
    return values


def _submit(args: argparse.Namespace) -> int:
    from imagepipe.pipeline import kubeflow_runner  # pylint: disable=g-import-not-at-top
    try:
        job = kubeflow_runner.vertex_job(
            args.spec, args.project, args.region, args.pipeline_root, overrides(args),
            args.display_name, False if args.no_cache else None, args.service_account)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.preflight_root and not args.preflight:
        print("error: --preflight-root has no effect without --preflight", file=sys.stderr)
        return 2
    if args.preflight and not _preflight_passed(args, job):
        print("not submitted: the pre-flight failed", file=sys.stderr)
        return 2
    if args.dry_run:
        print("dry run: would create this Vertex AI PipelineJob (nothing was called):")
        print(json.dumps(job, indent=2, sort_keys=True))
        return 0
    print(f"submitted {kubeflow_runner.submit_vertex(job)}")
    return 0


def _preflight_passed(args: argparse.Namespace, job: dict) -> bool:
    """Runs the spec here with the job's runtime parameter values; whether every task passed."""
    from imagepipe.pipeline.commands import preflight  # pylint: disable=g-import-not-at-top
    return preflight.run_preflight(args.spec, args.preflight_root or preflight.DEFAULT_ROOT,
                                   job["parameter_values"]) is not None
