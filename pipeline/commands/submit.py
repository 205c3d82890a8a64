"""``imagepipe submit``: run a compiled pipeline on Vertex AI Pipelines.

    imagepipe submit --project P --region R [--spec FILE] [--pipeline-root gs://...]
                     [--epochs N] [--model NAME] [--balance MODE] [--min-accuracy X]
                     [--service-account SA] [--no-cache] [--dry-run]

Creates a ``google.cloud.aiplatform.PipelineJob`` from the spec that
``imagepipe compile --target vertex`` wrote. Runtime parameters not given keep
their compiled defaults. ``--dry-run`` prints the job and calls nothing.
"""

from __future__ import annotations

import argparse
import json
import sys

from imagepipe.pipeline.commands.compile import DEFAULT_PIPELINE_NAME

# Options that set runtime parameters: option dest -> parameter name.
PARAMETER_OPTIONS = {"epochs": "epochs", "model": "model_name", "balance": "balance",
                     "min_accuracy": "min_accuracy"}


def register(subparsers) -> None:
    """Adds the ``submit`` command."""
    parser = subparsers.add_parser(
        "submit", help="run a compiled pipeline on Vertex AI Pipelines",
        description="Create a Vertex AI PipelineJob from a spec written by "
                    "`imagepipe compile --target vertex`.")
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
    parser.add_argument("--epochs", type=int, default=None, help="default: the spec's")
    parser.add_argument("--model", default=None, help="architecture; default: the spec's")
    parser.add_argument("--balance", choices=("oversample", "class_weight", "none"),
                        default=None, help="default: the spec's")
    parser.add_argument("--min-accuracy", type=float, default=None, help="default: the spec's")
    parser.add_argument("--no-cache", action="store_true",
                        help="rerun every component instead of reusing cached results")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the PipelineJob that would be created; call nothing")
    parser.set_defaults(func=_submit)


def _overrides(args: argparse.Namespace) -> dict:
    return {name: getattr(args, dest) for dest, name in PARAMETER_OPTIONS.items()
            if getattr(args, dest) is not None}


def _submit(args: argparse.Namespace) -> int:
    from imagepipe.pipeline import kubeflow_runner  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    try:
        problem = args.model and run.check_model(args.model)
        job = None if problem else kubeflow_runner.vertex_job(
            args.spec, args.project, args.region, args.pipeline_root, _overrides(args),
            args.display_name, False if args.no_cache else None, args.service_account)
    except (FileNotFoundError, ValueError) as error:
        problem = str(error)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.dry_run:
        print("dry run: would create this Vertex AI PipelineJob (nothing was called):")
        print(json.dumps(job, indent=2, sort_keys=True))
        return 0
    print(f"submitted {kubeflow_runner.submit_vertex(job)}")
    return 0
