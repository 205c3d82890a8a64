"""The ``imagepipe`` command line.

    imagepipe run fashion-mnist [--model NAME] [--epochs N] [--output DIR] ...
    imagepipe run folder PATH [--class-map FILE] [--model NAME] [--image-size N] ...
    imagepipe inspect PATH [--class-map FILE]
    imagepipe models
    imagepipe experiment architectures|data-size|cross-validation|transfer-grid ...
    imagepipe compile --target kubeflow|vertex --image IMAGE --pipeline-root URI ...
    imagepipe submit --project P --region R [--spec FILE] [--dry-run] [--preflight] ...
    imagepipe preflight SPEC [--pipeline-root DIR] [--param NAME=VALUE ...]
    imagepipe serve --model-dir DIR [--port 8501] ...
    imagepipe predict [--server URL] [--model NAME] PATH...
    imagepipe classify-folder PATH --model-dir DIR [--output FILE_PREFIX] ...

Each command lives in ``imagepipe.pipeline.commands``; this module only
assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from typing import Optional, Sequence

# Quiet TensorFlow's C++ start-up chatter before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# google-api-core warns about Python 3.10 on every import; TFX 1.16 needs 3.10.
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\..*")
# The same for the Beam worker processes, which print to the console.
os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")

COMMAND_MODULES = (
    "imagepipe.pipeline.commands.run",
    "imagepipe.pipeline.commands.models",
    "imagepipe.pipeline.commands.experiment",
    "imagepipe.pipeline.commands.compile",
    "imagepipe.pipeline.commands.submit",
    "imagepipe.pipeline.commands.preflight",
    "imagepipe.pipeline.commands.inspect",
    "imagepipe.pipeline.commands.serve",
    "imagepipe.pipeline.commands.predict",
    "imagepipe.pipeline.commands.evaluate",
    "imagepipe.pipeline.commands.classify",
)


def build_parser() -> argparse.ArgumentParser:
    """Returns the parser of the ``imagepipe`` command."""
    parser = argparse.ArgumentParser(
        prog="imagepipe", description="A production TFX pipeline for image classification.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``imagepipe`` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
