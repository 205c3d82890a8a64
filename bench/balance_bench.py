"""Benchmark: balancing modes side by side on the same data, model and epochs.

Runs the real pipeline once per mode (``none``, ``class_weight``,
``oversample``) in one metadata store, so ingestion and Transform run once and
are reused; each mode trains and evaluates on the same splits. Prints test
accuracy, per-class recall, balanced accuracy (mean recall) and epoch time.

    python bench/balance_bench.py [--data-dir DIR] [--model arch5] [--epochs 3]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODES = ("none", "class_weight", "oversample")


def _run_mode(base, mode: str, output: str) -> dict:
    from imagepipe.pipeline import local_runner, results  # noqa
    config = base.replace(training=base.training.replace(balance=mode))
    start = time.perf_counter()
    local_runner.run(config)
    wall = time.perf_counter() - start
    summary = results.latest_run(config.metadata_path, config.pipeline_name)
    run_dir = sorted(glob.glob(f"{output}/pipeline_root/Trainer/model_run/*"),
                     key=os.path.getmtime)[-1]
    history = json.load(open(os.path.join(run_dir, "history.json")))
    recall = summary.recall
    return {"mode": mode, "accuracy": summary.accuracy, "recall": recall,
            "balanced_accuracy": sum(recall.values()) / len(recall),
            "epoch_seconds": [row["epoch_seconds"] for row in history],
            "images_per_epoch": summary.training.stream.images[0],
            "best_epoch": summary.training.best_epoch, "wall_seconds": wall}


def main() -> int:
    """Runs every mode and prints the comparison table."""
    from imagepipe.components import settings  # pylint: disable=g-import-not-at-top
    from imagepipe.components.sources.fashion_mnist import FashionMnistSettings  # pylint: disable=g-import-not-at-top
    from imagepipe.data import fashion_mnist  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline import config as config_lib, local_runner  # noqa
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=fashion_mnist.default_data_dir())
    parser.add_argument("--model", default="arch5")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    args = parser.parse_args()
    output = tempfile.mkdtemp(prefix="imagepipe-balance-bench-")
    local_runner.configure_logging(f"{output}/bench.log", None)
    base = config_lib.PipelineConfig(
        pipeline_name="imagepipe-balance-bench", pipeline_root=f"{output}/pipeline_root",
        serving_dir=f"{output}/serving", metadata_path=f"{output}/metadata.sqlite",
        data=FashionMnistSettings(source="idx", data_dir=args.data_dir),
        training=settings.TrainingSettings(model_name=args.model, epochs=args.epochs,
                                           early_stopping_patience=args.epochs),
        evaluation=settings.EvaluationSettings(min_accuracy=0.0, max_accuracy_drop=1.0),
        code_fingerprint=config_lib.code_fingerprint())
    rows = [_run_mode(base, mode, output) for mode in args.modes]
    print(f"\nBalancing modes: {args.model}, {args.epochs} epochs, batch 32, "
          f"test split of {args.data_dir}")
    names = list(rows[0]["recall"])
    header = (f"{'mode':14s} {'test acc':>9s} {'balanced':>9s} "
              + " ".join(f"{'recall ' + n:>13s}" for n in names)
              + f" {'img/epoch':>10s} {'s/epoch':>18s} {'best ep':>7s}")
    print(header)
    for row in rows:
        epochs = "/".join(f"{s:.0f}" for s in row["epoch_seconds"])
        print(f"{row['mode']:14s} {100 * row['accuracy']:8.2f}% "
              f"{100 * row['balanced_accuracy']:8.2f}% "
              + " ".join(f"{100 * row['recall'][n]:12.2f}%" for n in names)
              + f" {row['images_per_epoch']:10d} {epochs:>18s} {row['best_epoch']:7d}")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
