"""Benchmark: what each ``--test-time`` mode costs a served request, beside ``none``, same weights.

Every mode's serving signature is built in this process from one trained model
(the Trainer's Keras model and the run's transform graph), exactly as the
Trainer exports them, and called in alternating rounds on the same encoded
images: the generated Fashion-MNIST stand-in, or with ``--photos DIR`` the
photos of a folder. ``mirror`` adds a second pass of the network; ``joined``
also normalizes each image a second time and passes it twice more. Prints
latency p50/p99 per call and images/s per batch size.

    python bench/test_time_bench.py [--pipeline-root imagepipe-output/pipeline_root]
        [--photos DIR] [--batch-sizes 1 32] [--calls 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import subprocess
import sys
import time
from typing import Callable, Dict, List

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from normalize_bench import photo_bytes  # noqa: E402
from serving_bench import sample_images  # noqa: E402

from imagepipe.components.settings import TEST_TIME_MODES as MODES  # noqa: E402


def _newest(pattern: str) -> str:
    matches = sorted(glob.glob(pattern), key=os.path.getmtime)
    if not matches:
        raise SystemExit(f"nothing matches {pattern}: run ./scripts/run-fashion-mnist.sh first")
    return matches[-1]


def serving_functions(pipeline_root: str) -> Dict[str, Callable[[List[bytes]], object]]:
    """``serving_default`` of the newest trained model, built once per test-time mode."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    import tensorflow_transform as tft  # pylint: disable=g-import-not-at-top
    import tf_keras as keras  # pylint: disable=g-import-not-at-top
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    from imagepipe.components.trainer import export  # pylint: disable=g-import-not-at-top
    model_dir = _newest(os.path.join(pipeline_root, "Trainer", "model", "*", "Format-Serving"))
    transform = tft.TFTransformOutput(_newest(os.path.join(
        pipeline_root, "Transform", "transform_graph", "*")))
    model = keras.models.load_model(model_dir, compile=False)
    names = tf.saved_model.load(model_dir).signatures[features.CLASS_NAMES_SIGNATURE]()[
        features.CLASS_NAMES_OUTPUT].numpy()
    print(f"model: {model_dir} ({model.name}, {model.count_params():,} parameters)")
    functions = {}
    for mode in MODES:
        serve = export.build_signatures(model, transform, [n.decode() for n in names],
                                        test_time=mode)[features.SERVING_SIGNATURE]
        functions[mode] = (lambda batch, serve=serve: {
            k: v.numpy() for k, v in serve(**{features.SERVING_INPUT_KEY: tf.constant(batch)})
            .items()})
    return functions


def timed(call: Callable[[List[bytes]], object], batch: List[bytes], calls: int) -> List[float]:
    """Seconds per call of ``calls`` calls, after two untimed ones."""
    call(batch)
    call(batch)
    seconds = []
    for _ in range(calls):
        start = time.perf_counter()
        call(batch)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline-root", default="imagepipe-output/pipeline_root")
    parser.add_argument("--photos", help="a folder of photos (default: the generated "
                                         "Fashion-MNIST stand-in)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--calls", type=int, default=200, help="timed calls per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per mode")
    args = parser.parse_args()
    functions = serving_functions(args.pipeline_root)
    images = (photo_bytes(args.photos, max(args.batch_sizes)) if args.photos
              else sample_images(max(args.batch_sizes)))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    print(f"{platform.node()}, {os.cpu_count()} cores, commit {commit}; {args.rounds} rounds "
          f"of {args.calls} calls per mode, alternating")
    print(f"{'batch':>5} {'test time':>9} {'p50 ms':>8} {'p99 ms':>8} {'images/s':>9}")
    for batch_size in args.batch_sizes:
        batch = images[:batch_size]
        seconds: Dict[str, List[float]] = {mode: [] for mode in MODES}
        for _ in range(args.rounds):
            for mode in MODES:
                seconds[mode] += timed(functions[mode], batch, args.calls)
        for mode in MODES:
            values = np.asarray(seconds[mode])
            print(f"{batch_size:>5} {mode:>9} {1000 * np.percentile(values, 50):>8.2f} "
                  f"{1000 * np.percentile(values, 99):>8.2f} "
                  f"{batch_size / np.median(values):>9.0f}")


if __name__ == "__main__":
    main()
