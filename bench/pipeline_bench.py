"""Benchmark: the full Fashion-MNIST pipeline beside plain Keras on numpy arrays.

Runs, in the same invocation and one after the other (each in its own process,
so that memory figures are not mixed):

* ``keras``: the report's way -- the IDX files read into numpy, the same class
  map and split, the same model, batch size and epochs with ``model.fit`` on
  arrays. Prints its wall time, images/s per epoch, peak memory, test accuracy.
* ``pipeline`` once per recipe (``--recipes``): ``none`` (``--balance none``,
  no photo augmentation: the same training work as the Keras run) and
  ``default`` (the main job's: oversample, photo augmentation 0.25). The whole
  TFX pipeline with LocalDagRunner, cache disabled; the wall time and peak
  memory (RSS) of every component, the Trainer's images/s per epoch, and the
  ratio of its total wall time to the Keras run's.

With ``--profile`` each pipeline component runs under cProfile and its top
functions (cumulative and own time) are written to
``OUTPUT/profile-<recipe>/<component>.txt``, the whole profile beside it as
``<component>.prof`` (``python -m pstats``, snakeviz).

With ``--train-fraction 0.25,0.5,1`` the whole comparison runs once per
fraction on the first share of each IDX part (written to a temporary folder,
so every component and the Keras run see the smaller data), and a scaling
table gives, per recipe, the ratio and the seconds of overhead (pipeline minus
Keras) at each fraction, with the fixed and per-image overhead of a line
fitted through them.

With ``--rounds N`` (full data) the Keras run and the pipelines alternate N
times, and a table gives each round's ratio, their median and the ratio of
each side's fastest run: on a machine that stalls at random (a 3 s
``model.evaluate`` once took 31 s here), stalls only add time.

    python bench/pipeline_bench.py [--data-dir DIR] [--recipes none,default] [--profile]
                                   [--train-fraction 0.25,0.5,1] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import psutil  # noqa: E402


class PeakMemory:
    """Samples a process's RSS (default: this one) in a thread; peak per phase label."""

    def __init__(self, interval: float = 0.05, pid: Optional[int] = None):
        self.pid = pid
        self.phase = "start-up"
        self.peaks: Dict[str, float] = {}
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _sample(self):
        process = psutil.Process(self.pid)
        while not self._stop.is_set():
            try:
                rss = process.memory_info().rss / 2**20
            except psutil.NoSuchProcess:  # it ended
                return
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), rss)
            time.sleep(self._interval)


def _epochs_images_per_second(epoch_seconds: List[float], num_images: int) -> List[float]:
    return [num_images / s for s in epoch_seconds]


RECIPES = {"none": {"balance": "none", "photo_augmentation": 0.0},
           "default": {"balance": "oversample", "photo_augmentation": 0.25}}


class ComponentProfiler:
    """cProfile per component, switched by the runner's start and finish log lines."""

    def __init__(self, folder: str):
        self.folder = folder
        self._profile = None

    def start(self, node: str) -> None:
        import cProfile  # pylint: disable=g-import-not-at-top
        self._profile = cProfile.Profile()
        self._profile.enable()

    def stop(self, node: str) -> None:
        import io  # pylint: disable=g-import-not-at-top
        import pstats  # pylint: disable=g-import-not-at-top
        if self._profile is None:
            return
        self._profile.disable()
        os.makedirs(self.folder, exist_ok=True)
        self._profile.dump_stats(os.path.join(self.folder, f"{node}.prof"))
        text = io.StringIO()
        stats = pstats.Stats(self._profile, stream=text).strip_dirs()
        text.write(f"{node}: top functions by cumulative time\n")
        stats.sort_stats("cumulative").print_stats(30)
        text.write(f"\n{node}: top functions by own time\n")
        stats.sort_stats("tottime").print_stats(30)
        with open(os.path.join(self.folder, f"{node}.txt"), "w") as f:
            f.write(text.getvalue())
        self._profile = None


def run_pipeline(args) -> dict:
    """Runs the TFX pipeline once, cache off; returns per-component figures."""
    import logging  # pylint: disable=g-import-not-at-top
    from imagepipe.components import settings  # pylint: disable=g-import-not-at-top
    from imagepipe.components.sources.fashion_mnist import FashionMnistSettings  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline import config as config_lib, local_runner, results  # noqa
    output = tempfile.mkdtemp(prefix="imagepipe-bench-")
    config = config_lib.PipelineConfig(
        pipeline_name="imagepipe-bench", pipeline_root=f"{output}/pipeline_root",
        serving_dir=f"{output}/serving", metadata_path=f"{output}/metadata.sqlite",
        data=FashionMnistSettings(source="idx", data_dir=args.data_dir),
        training=settings.TrainingSettings(model_name=args.model, epochs=args.epochs,
                                           batch_size=args.batch_size,
                                           early_stopping_patience=args.epochs,
                                           **RECIPES[args.recipe]),
        evaluation=settings.EvaluationSettings(min_accuracy=0.0),
        code_fingerprint=config_lib.code_fingerprint(), enable_cache=args.cached_rerun)
    walls: Dict[str, float] = {}
    profiler = ComponentProfiler(os.path.join(args.output, f"profile-{args.recipe}")) \
        if args.profile else None

    with PeakMemory() as memory:
        rerunning = False

        class Timer(logging.Handler):
            def emit(self, record):
                if rerunning:
                    return  # the first run's figures only
                if record.msg == "Component %s is running.":
                    memory.phase = str(record.args[0])
                    walls[memory.phase] = time.perf_counter()
                    if profiler:
                        profiler.start(memory.phase)
                elif record.msg == "Component %s is finished.":
                    node = str(record.args[0])
                    if profiler:
                        profiler.stop(node)
                    walls[node] = time.perf_counter() - walls[node]
                    memory.phase = "between components"

        local_runner.configure_logging(f"{output}/bench.log", Timer())
        start = time.perf_counter()
        local_runner.run(config)
        total = time.perf_counter() - start
        summary = results.latest_run(config.metadata_path, config.pipeline_name)
        rerun = None
        if args.cached_rerun:  # the same pipeline again: every component from the cache
            memory.phase = "cached rerun"
            rerunning = True  # read by the Timer's closure
            start = time.perf_counter()
            local_runner.run(config)
            rerun = time.perf_counter() - start
    history_glob = f"{config.pipeline_root}/Trainer/model_run/*/history.json"
    import glob  # pylint: disable=g-import-not-at-top
    history = json.load(open(sorted(glob.glob(history_glob))[-1]))
    train_count = summary.ingest_report.split_totals["train"]
    return {
        "total_seconds": total,
        "component_seconds": walls,
        "component_peak_mib": {k: v for k, v in memory.peaks.items() if k in walls},
        "peak_mib": max(v for k, v in memory.peaks.items() if k != "cached rerun"),
        "train_images": train_count,
        "epoch_seconds": [row["epoch_seconds"] for row in history],
        "images_per_second": _epochs_images_per_second(
            [row["epoch_seconds"] for row in history], train_count),
        "test_accuracy": summary.accuracy,
        "output": output,
        "cached_rerun_seconds": rerun,
    }


def run_keras(args) -> dict:
    """The report's way: numpy arrays in memory, model.fit, same model and split."""
    import numpy as np  # pylint: disable=g-import-not-at-top
    import tf_keras as keras  # pylint: disable=g-import-not-at-top
    from imagepipe.components import features, models  # noqa
    from imagepipe.components.trainer import task  # pylint: disable=g-import-not-at-top
    from imagepipe.data import fashion_mnist, splits  # pylint: disable=g-import-not-at-top

    with PeakMemory() as memory:
        memory.phase = "load"
        start = time.perf_counter()
        data = fashion_mnist.read_idx_directory(args.data_dir)
        kept = np.isin(data.labels, list(features.FASHION_MNIST_CLASS_MAP))
        x = data.images[kept][..., None].astype(np.float32) / 255.0
        y = np.asarray(features.class_map_table())[data.labels[kept]]
        split = splits.split_assignment(len(y), [14, 3, 3], 1001)
        load_seconds = time.perf_counter() - start
        memory.phase = "train"
        keras.utils.set_random_seed(1001)
        spec = models.ModelSpec((28, 28, 1), 3, "image")
        model = task.compile_model(models.build(args.model, spec), 1e-3)
        epoch_seconds: List[float] = []

        class EpochTimer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.t = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                epoch_seconds.append(time.perf_counter() - self.t)

        model.fit(x[split == 0], y[split == 0], batch_size=args.batch_size, epochs=args.epochs,
                  validation_data=(x[split == 1], y[split == 1]), callbacks=[EpochTimer()],
                  verbose=0)
        memory.phase = "test"
        _, accuracy = model.evaluate(x[split == 2], y[split == 2], verbose=0)
        total = time.perf_counter() - start
    return {
        "total_seconds": total,
        "load_seconds": load_seconds,
        "train_images": int((split == 0).sum()),
        "epoch_seconds": epoch_seconds,
        "images_per_second": _epochs_images_per_second(epoch_seconds, int((split == 0).sum())),
        "train_peak_mib": memory.peaks.get("train"),
        "test_accuracy": float(accuracy),
    }


def _child(part: str, args, recipe: str = "none", data_dir: Optional[str] = None) -> dict:
    command = [sys.executable, __file__, "--part", part, "--data-dir", data_dir or args.data_dir,
               "--model", args.model, "--epochs", str(args.epochs),
               "--batch-size", str(args.batch_size), "--recipe", recipe,
               "--output", args.output] + (["--profile"] if args.profile else []) + (
                   ["--cached-rerun"] if args.cached_rerun else [])
    completed = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def write_fraction(data_dir: str, fraction: float, destination: str) -> Dict[str, int]:
    """Writes the first ``fraction`` of each IDX part of ``data_dir`` to ``destination``.

    Returns:
      The number of images written per part.
    """
    from imagepipe.data import fashion_mnist, idx  # pylint: disable=g-import-not-at-top
    os.makedirs(destination, exist_ok=True)
    counts = {}
    for part, images_name, labels_name in fashion_mnist.PARTS:
        images = fashion_mnist.read_part_images(data_dir, part)
        labels = fashion_mnist.read_part_labels(data_dir, part)
        kept = max(1, int(round(fraction * len(labels))))
        idx.write_idx(os.path.join(destination, images_name), images[:kept])
        idx.write_idx(os.path.join(destination, labels_name), labels[:kept])
        counts[part] = kept
    return counts


def _fractions(text: str) -> List[float]:
    fractions = [float(f) for f in text.split(",") if f.strip()]
    if not fractions or any(not 0.0 < f <= 1.0 for f in fractions):
        raise argparse.ArgumentTypeError(f"fractions must be in (0, 1], got {text!r}")
    return fractions


def fixed_and_per_image(images: List[int], overheads: List[float]) -> Tuple[float, float]:
    """Least-squares line overhead = fixed + per_image * images; (fixed s, per-image ms)."""
    import numpy as np  # pylint: disable=g-import-not-at-top
    if len(set(images)) < 2:
        return float("nan"), float("nan")
    per_image, fixed = np.polyfit(np.asarray(images, float), np.asarray(overheads, float), 1)
    return float(fixed), float(per_image * 1000.0)


def _print_scaling(runs: Dict[float, Tuple[dict, Dict[str, dict]]]) -> None:
    recipes = list(next(iter(runs.values()))[1])
    print("\nScaling with the data (the same comparison on the first share of each IDX part)")
    print("\n| fraction | training images | plain Keras s | " + " | ".join(
        f"pipeline ({r}) s | ratio | overhead s" for r in recipes) + " |")
    print("|---|---|---|" + "---|---|---|" * len(recipes))
    for fraction, (keras_run, pipelines) in sorted(runs.items()):
        cells = []
        for recipe in recipes:
            total = pipelines[recipe]["total_seconds"]
            cells += [f"{total:.1f}", f"{total / keras_run['total_seconds']:.2f}",
                      f"{total - keras_run['total_seconds']:.1f}"]
        print(f"| {fraction:g} | {keras_run['train_images']} | "
              f"{keras_run['total_seconds']:.1f} | " + " | ".join(cells) + " |")
    for recipe in recipes:
        images = [keras_run["train_images"] for keras_run, _ in runs.values()]
        overheads = [p[recipe]["total_seconds"] - k["total_seconds"] for k, p in runs.values()]
        fixed, per_image = fixed_and_per_image(images, overheads)
        print(f"overhead ({recipe}) = {fixed:.1f} s fixed + {per_image:.2f} ms per training image")


def _print_rounds(rounds: List[Tuple[dict, Dict[str, dict]]]) -> None:
    """Each round's Keras and pipeline wall times and ratios, then the median ratio."""
    import statistics  # pylint: disable=g-import-not-at-top
    recipes = list(rounds[0][1])
    print("\nRounds (the plain Keras run, then each recipe, again and again)")
    print("\n| round | plain Keras s | " + " | ".join(
        f"pipeline ({r}) s | ratio" for r in recipes) + " |")
    print("|---|---|" + "---|---|" * len(recipes))
    for number, (keras_run, pipelines) in enumerate(rounds, 1):
        cells = []
        for recipe in recipes:
            total = pipelines[recipe]["total_seconds"]
            cells += [f"{total:.1f}", f"{total / keras_run['total_seconds']:.2f}"]
        print(f"| {number} | {keras_run['total_seconds']:.1f} | " + " | ".join(cells) + " |")
    fastest_keras = min(k["total_seconds"] for k, _ in rounds)
    for recipe in recipes:
        ratios = [p[recipe]["total_seconds"] / k["total_seconds"] for k, p in rounds]
        fastest = min(p[recipe]["total_seconds"] for _, p in rounds)
        print(f"{recipe}: median ratio {statistics.median(ratios):.2f} (range "
              f"{min(ratios):.2f}-{max(ratios):.2f} over {len(ratios)} rounds); fastest against "
              f"fastest {fastest:.1f} / {fastest_keras:.1f} s = {fastest / fastest_keras:.2f} "
              f"(stalls only add time, so each side's fastest run is its truest)")


def _print_pipeline(recipe: str, pipeline: dict, keras_run: dict) -> None:
    ratio = pipeline["total_seconds"] / keras_run["total_seconds"]
    print(f"\nTFX pipeline, recipe {recipe} ({RECIPES[recipe]}), LocalDagRunner, first run: "
          f"{pipeline['total_seconds']:.1f} s in all = {ratio:.2f} x the plain Keras run, "
          f"peak RSS {pipeline['peak_mib']:.0f} MiB")
    print(f"  {'component':32s} {'wall s':>8s} {'peak RSS MiB':>13s}")
    for node, seconds in pipeline["component_seconds"].items():
        peak = pipeline["component_peak_mib"].get(node, 0.0)
        print(f"  {node:32s} {seconds:8.1f} {peak:13.0f}")
    print(f"  {'epoch seconds':32s} " + " / ".join(f"{s:.1f}" for s in pipeline["epoch_seconds"])
          + f"; images/s " + " / ".join(f"{v:.0f}" for v in pipeline["images_per_second"]))
    print(f"  {'test accuracy':32s} {100 * pipeline['test_accuracy']:.2f}%")
    if pipeline.get("cached_rerun_seconds") is not None:
        print(f"  {'cached rerun':32s} {pipeline['cached_rerun_seconds']:.1f} s "
              f"(the same pipeline again, cache on: all reused but the Evaluator, whose "
              f"baseline is now the model the first run blessed)")


def _print_report(pipelines: Dict[str, dict], keras_run: dict, args, data_dir: str) -> None:
    print(f"\nimagepipe pipeline benchmark: {args.model}, batch {args.batch_size}, "
          f"{args.epochs} epochs, data {data_dir}, load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"\nplain Keras on numpy arrays (the report's way): "
          f"{keras_run['total_seconds']:.1f} s in all (load {keras_run['load_seconds']:.1f} s, "
          f"epochs " + " / ".join(f"{s:.1f}" for s in keras_run["epoch_seconds"])
          + f" s, test), peak RSS {keras_run['train_peak_mib']:.0f} MiB, test accuracy "
          f"{100 * keras_run['test_accuracy']:.2f}%")
    for recipe, pipeline in pipelines.items():
        _print_pipeline(recipe, pipeline, keras_run)
    print("\n| | " + " | ".join(["plain Keras"] + [f"pipeline ({r})" for r in pipelines])
          + " |\n|---|" + "---|" * (1 + len(pipelines)))
    print("| total wall s | " + " | ".join([f"{keras_run['total_seconds']:.1f}"] + [
        f"{p['total_seconds']:.1f}" for p in pipelines.values()]) + " |")
    print("| ratio | 1.00 | " + " | ".join(
        f"{p['total_seconds'] / keras_run['total_seconds']:.2f}" for p in pipelines.values())
        + " |")
    if args.profile:
        print(f"\nprofiles: {args.output}/profile-<recipe>/<component>.txt")


def main() -> int:
    """Runs both parts (or one with --part) and prints the figures."""
    from imagepipe.data import fashion_mnist  # pylint: disable=g-import-not-at-top
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=fashion_mnist.default_data_dir())
    parser.add_argument("--model", default="arch5")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--recipes", default="none,default",
                        help=f"comma-separated pipeline recipes of {', '.join(RECIPES)}: "
                             f"none = --balance none without photo augmentation (the Keras "
                             f"run's training work), default = the main job's; default both")
    parser.add_argument("--profile", action="store_true",
                        help="profile each pipeline component (cProfile) into OUTPUT")
    parser.add_argument("--output", default="bench-output/pipeline",
                        help="folder of the profiles; default bench-output/pipeline")
    parser.add_argument("--cached-rerun", action="store_true",
                        help="run each pipeline with the cache on, then again, and time the "
                             "rerun (all from the cache but the Evaluator, which compares with "
                             "the model the first run blessed)")
    parser.add_argument("--train-fraction", type=_fractions, default=[1.0],
                        help="comma-separated shares of the data, e.g. 0.25,0.5,1: the whole "
                             "comparison at each, and a scaling table; default 1")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate the Keras run and the pipelines this many times and "
                             "print each round's ratio and the median (full data only)")
    parser.add_argument("--part", choices=("pipeline", "keras"), default=None,
                        help="run one part in this process and print its JSON")
    parser.add_argument("--recipe", choices=tuple(RECIPES), default="none",
                        help="the recipe of --part pipeline")
    args = parser.parse_args()
    if args.part:
        result = run_pipeline(args) if args.part == "pipeline" else run_keras(args)
        print(json.dumps(result))
        return 0
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    unknown = sorted(set(recipes) - set(RECIPES))
    if unknown:
        parser.error(f"unknown recipe {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    if args.rounds > 1:
        if args.train_fraction != [1.0]:
            parser.error("--rounds runs on the full data: leave out --train-fraction")
        rounds = [(_child("keras", args), {recipe: _child("pipeline", args, recipe)
                                           for recipe in recipes})
                  for _ in range(args.rounds)]
        _print_report(rounds[-1][1], rounds[-1][0], args, args.data_dir)
        _print_rounds(rounds)
        return 0
    runs: Dict[float, Tuple[dict, Dict[str, dict]]] = {}
    with tempfile.TemporaryDirectory(prefix="imagepipe-bench-data-") as scratch:
        for fraction in args.train_fraction:
            data_dir = args.data_dir
            if fraction < 1.0:
                data_dir = os.path.join(scratch, f"{fraction:g}")
                write_fraction(args.data_dir, fraction, data_dir)
            keras_run = _child("keras", args, data_dir=data_dir)
            pipelines = {recipe: _child("pipeline", args, recipe, data_dir) for recipe in recipes}
            if len(args.train_fraction) > 1:
                print(f"\n=== fraction {fraction:g} of the data ===")
            _print_report(pipelines, keras_run, args, data_dir)
            runs[fraction] = (keras_run, pipelines)
    if len(runs) > 1:
        _print_scaling(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
