"""``imagepipe run fashion-mnist``: the Fashion-MNIST 3-class pipeline."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import Optional


PHOTO_AUGMENTATION = 0.25


def register_target(targets) -> None:
    """Adds the ``fashion-mnist`` target to ``imagepipe run``."""
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    parser = targets.add_parser(
        "fashion-mnist", help="Fashion-MNIST, 3 super-classes (upper, lower, shoes)",
        description="Ingest Fashion-MNIST, map its 10 classes to upper/lower/shoes, train, "
                    "evaluate on the test split and push a blessed model to the serving folder.")
    run.add_training_options(parser, epochs=3, patience=2)
    parser.add_argument("--photo-augmentation", type=float, default=PHOTO_AUGMENTATION,
                        metavar="FRACTION",
                        help="share of training images rendered as photos (background, "
                             "colour, position, blur, noise, JPEG) and normalized back each "
                             f"epoch, so the model works on real photos; default "
                             f"{PHOTO_AUGMENTATION}")
    parser.add_argument("--source", choices=("idx", "tfds"), default="idx",
                        help="idx: the canonical IDX files (default); tfds: TFDS fashion_mnist")
    parser.add_argument("--data-dir", default=None,
                        help="folder of the IDX files (default: $IMAGEPIPE_FASHION_MNIST_DIR, "
                             "the Debian package's folder or ~/.cache/imagepipe/fashion-mnist), "
                             "or the TFDS data dir with --source tfds")
    parser.add_argument("--min-accuracy", type=float, default=0.98,
                        help="test accuracy needed for blessing; default 0.98")
    parser.add_argument("--seed", type=int, default=1001, help="split and training seed")
    run.add_common_options(parser)
    parser.set_defaults(func=_run)


def build_config(args: argparse.Namespace):
    """Builds the PipelineConfig of ``imagepipe run fashion-mnist`` from its arguments."""
    from imagepipe.data import fashion_mnist  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline import config  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    data_dir = args.data_dir or (fashion_mnist.default_data_dir() if args.source == "idx" else "")
    return config.PipelineConfig(
        pipeline_name="imagepipe-fashion-mnist",
        **run.output_paths(args),
        data=config.DataConfig(source=args.source, data_dir=data_dir, split_seed=args.seed),
        trainer=dataclasses.replace(run.trainer_config(args),
                                    photo_augmentation=args.photo_augmentation),
        tuner=run.tuner_config(args),
        evaluation=config.EvalConfig(min_accuracy=args.min_accuracy),
        beam_pipeline_args=tuple(args.beam_arg),
        code_fingerprint=config.code_fingerprint(),
        enable_cache=not args.no_cache)


def _check_data(pipeline_config) -> Optional[str]:
    data = pipeline_config.data
    if data.source == "idx" and "://" not in data.data_dir and not os.path.isdir(data.data_dir):
        return (f"Fashion-MNIST folder not found: {data.data_dir}\n"
                f"  install it with `apt-get install dataset-fashion-mnist`, run "
                f"`python -m imagepipe.data.download`, or pass --data-dir")
    return None


def _run(args: argparse.Namespace) -> int:
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    pipeline_config = build_config(args)
    problem = run.check_model(args.model) or _check_data(pipeline_config)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    source = pipeline_config.data.data_dir or pipeline_config.data.source
    return run.execute(pipeline_config, args,
                       f"Fashion-MNIST pipeline, model {args.model}, up to {args.epochs} epochs, "
                       f"balance {args.balance}, "
                       f"data {source}")
