"""``imagepipe run folder PATH``: the photo-folder pipeline.

One sub-folder per class, or ``--class-map FILE`` (JSON/YAML) grouping
sub-folders into classes. The class map is read here, once, into the frozen
config; the pipeline's FolderExampleGen then scans, validates and splits the
folder and reports every skipped file.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
from typing import Optional

DEFAULT_MIN_ACCURACY = 0.8


def register_target(targets) -> None:
    """Adds the ``folder`` target to ``imagepipe run``."""
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    parser = targets.add_parser(
        "folder", help="a folder of photos, one sub-folder per class",
        description="Ingest a photo folder (bad files are skipped and reported), split it "
                    "70/15/15 stratified by class, train, evaluate on the test split and push "
                    "a blessed model to the serving folder. `imagepipe inspect PATH` shows "
                    "what ingestion will do without running anything.")
    add_folder_options(parser)
    run.add_training_options(parser, epochs=10, patience=3)
    parser.add_argument("--weights", default="none", metavar="none|imagenet|PATH",
                        help="initial weights of a pretrained base (resnet50): none (default), "
                             "imagenet (downloaded; needs the internet) or a local weights file")
    parser.add_argument("--fine-tune-epochs", type=int, default=0,
                        help="epochs of a second phase that unfreezes the top blocks of a "
                             "pretrained base (resnet50 with --weights) at a lower learning "
                             "rate; default 0 (none)")
    parser.add_argument("--fine-tune-learning-rate", type=float, default=1e-5,
                        help="learning rate of the fine-tuning phase; default 0.00001")
    parser.add_argument("--fine-tune-blocks", type=int, default=3,
                        help="residual blocks unfrozen from the top (resnet50 has 16); "
                             "default 3")
    parser.add_argument("--augment", action="store_true",
                        help="random flips and rotations inside the model, in training only "
                             "(resnet50)")
    parser.add_argument("--image-size", type=int, default=224,
                        help="model input side in pixels (photos become SIZE x SIZE x 3); "
                             "default 224")
    parser.add_argument("--resize", choices=("pad", "crop"), default="pad",
                        help="keep the aspect ratio by padding (default) or centre-cropping")
    parser.add_argument("--min-accuracy", type=float, default=DEFAULT_MIN_ACCURACY,
                        help=f"test accuracy needed for blessing; default {DEFAULT_MIN_ACCURACY}")
    parser.add_argument("--serving-name", default=None,
                        help="model name under the serving folder; default: the folder's name")
    run.add_common_options(parser)
    parser.set_defaults(func=_run)


def add_folder_options(parser: argparse.ArgumentParser) -> None:
    """PATH and the options that decide what ingestion makes of it (``run folder``, ``inspect``)."""
    parser.add_argument("path", metavar="PATH", help="the photo folder, local or gs://")
    parser.add_argument("--class-map", metavar="FILE", default=None,
                        help="JSON or YAML {class: [sub-folder, ...]}; sub-folders not listed "
                             "are left out (default: one class per sub-folder)")
    parser.add_argument("--max-pixels", type=int, default=None,
                        help="skip images with more pixels as decompression bombs; default "
                             "100,000,000")
    parser.add_argument("--seed", type=int, default=1001, help="split (and training) seed")


def serving_name(path: str) -> str:
    """A model name from a folder path: its last part, lower case, [a-z0-9_-] only."""
    name = os.path.basename(path.rstrip("/")) or "photos"
    name = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
    return name or "photos"


def read_class_map(args: argparse.Namespace):
    """The class map of ``--class-map``, or one class per sub-folder of PATH.

    Raises:
      ValueError: (ClassMapError, FolderError) with a message naming the file.
    """
    from imagepipe.data import class_map, photo_folder  # pylint: disable=g-import-not-at-top
    if args.class_map:
        return class_map.load(args.class_map)
    return photo_folder.default_class_map(args.path)


def build_config(args: argparse.Namespace):
    """Builds the PipelineConfig of ``imagepipe run folder`` from its arguments."""
    from imagepipe.data import images  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline import config  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    path = args.path if "://" in args.path else os.path.abspath(args.path)
    name = args.serving_name or serving_name(path)
    data = config.FolderDataConfig(
        data_dir=path, class_map=read_class_map(args),
        split_seed=args.seed, image_size=args.image_size, resize_mode=args.resize,
        max_pixels=args.max_pixels or images.DEFAULT_MAX_PIXELS,
        max_side=max(images.DEFAULT_MAX_SIDE, args.image_size))
    return config.PipelineConfig(
        pipeline_name=f"imagepipe-folder-{name}",
        **run.output_paths(args),
        serving_model_name=name,
        data=data,
        trainer=dataclasses.replace(run.trainer_config(args), model_options=model_options(args),
                                    fine_tune_epochs=args.fine_tune_epochs,
                                    fine_tune_learning_rate=args.fine_tune_learning_rate),
        tuner=run.tuner_config(args),
        evaluation=config.EvalConfig(min_accuracy=args.min_accuracy),
        beam_pipeline_args=tuple(args.beam_arg),
        code_fingerprint=config.code_fingerprint(),
        enable_cache=not args.no_cache)


def model_options(args: argparse.Namespace):
    """The ModelOptions of --weights, --augment and --fine-tune-blocks."""
    from imagepipe.components.model_options import ModelOptions  # pylint: disable=g-import-not-at-top
    return ModelOptions(weights=args.weights, augment=args.augment,
                        fine_tune_blocks=args.fine_tune_blocks)


def check_model_options(args: argparse.Namespace) -> Optional[str]:
    """An error message when --model does not take --weights/--augment or the file is missing."""
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    options = model_options(args)
    ignored = models.ignored_options(args.model, options)
    if ignored:
        flags = " and ".join(f"--{name.replace('_', '-')}" for name in ignored)
        takers = [n for n in models.names() if set(ignored) <= set(models.architecture(n).takes)]
        return (f"model {args.model!r} does not take {flags}; models that do: "
                f"{', '.join(takers) or 'none'}")
    if options.weights not in ("none", "imagenet") and "://" not in options.weights \
            and not os.path.isfile(options.weights):
        return f"weights file not found: {options.weights}"
    return None


def _run(args: argparse.Namespace) -> int:
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    problem = run.check_model(args.model) or check_model_options(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        pipeline_config = build_config(args)
    except ValueError as error:  # a missing folder, a bad class map, a bad setting
        print(f"error: {error}", file=sys.stderr)
        return 2
    data = pipeline_config.data
    return run.execute(pipeline_config, args,
                       f"photo folder {data.data_dir}, {len(data.class_names)} classes "
                       f"({', '.join(data.class_names)}), model {args.model}, up to "
                       f"{args.epochs} epochs, input {data.image_size}x{data.image_size} "
                       f"({data.resize_mode})")
