"""Benchmark: REST calls to ``imagepipe serve`` beside in-process calls of the same SavedModel.

In one run, for each concurrency (default 1 and 8) and batch size (default 1
and 32), a bounded number of requests is timed:

* ``in-process``: the SavedModel's ``serving_default`` signature called
  directly (``tf.saved_model.load``), from that many threads;
* ``REST``: the same SavedModel behind ``imagepipe serve`` (its own process,
  127.0.0.1 only), asked through ``imagepipe.serving.client`` from that many
  threads -- base64, JSON, HTTP and the server's JSON parsing included.

Prints latency p50/p99 per request and throughput (requests/s, images/s).
Without ``--model-dir`` it first runs the real pipeline on tiny generated data
(a few minutes) and benchmarks the model it pushes.

    python bench/serving_bench.py [--model-dir SERVING_DIR/MODEL] [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable, Dict, List, Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

MODEL_NAME = "fashion_mnist"


def tiny_pushed_model(workdir: str) -> str:
    """Runs the pipeline on tiny generated data; returns the pushed model's base folder."""
    from absl import logging  # pylint: disable=g-import-not-at-top
    from imagepipe.testing import fixtures  # pylint: disable=g-import-not-at-top
    from imagepipe.components import settings  # pylint: disable=g-import-not-at-top
    from imagepipe.components.sources.fashion_mnist import FashionMnistSettings  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline import config as config_lib, local_runner  # noqa
    logging.set_verbosity(logging.ERROR)
    data_dir = os.path.join(workdir, "data")
    fixtures.write_fashion_mnist(data_dir, train_per_label=40, test_per_label=10, seed=7)
    config = config_lib.PipelineConfig(
        pipeline_name="imagepipe-serving-bench", pipeline_root=f"{workdir}/pipeline_root",
        serving_dir=f"{workdir}/serving", metadata_path=f"{workdir}/metadata.sqlite",
        data=FashionMnistSettings(source="idx", data_dir=data_dir),
        evaluation=settings.EvaluationSettings(min_accuracy=0.0), code_fingerprint="bench")
    print(f"training a tiny model with the pipeline in {workdir} ...", flush=True)
    local_runner.run(config)
    return f"{config.serving_dir}/{config.serving_model_name}"


def sample_images(count: int = 64) -> List[bytes]:
    """Encoded PNGs of the generated Fashion-MNIST stand-in, every class."""
    from imagepipe.data import png  # pylint: disable=g-import-not-at-top
    from imagepipe.testing import fixtures  # pylint: disable=g-import-not-at-top
    labels = np.arange(count) % 10
    return [png.encode_gray(image) for image in fixtures.generate_images(labels, seed=11)]


class Server:
    """``imagepipe serve`` in a child process on a free loopback port."""

    def __init__(self, model_dir: str, threads: int):
        command = [sys.executable, "-m", "imagepipe.pipeline.cli", "serve", "--model-dir",
                   model_dir, "--model-name", MODEL_NAME, "--host", "127.0.0.1", "--port", "0",
                   "--threads", str(threads)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        banner = [self.process.stdout.readline() for _ in range(3)]
        if "REST API: " not in banner[2]:
            self.stop()
            raise RuntimeError(f"imagepipe serve did not start: {banner}")
        self.url = banner[2].split("REST API: ")[1].split("/v1/")[0]

    def stop(self) -> None:
        """Stops the child; kills it when it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_load(call: Callable[[List[bytes]], object], batches: Sequence[List[bytes]],
             concurrency: int, requests: int, warmup: int) -> Dict[str, float]:
    """Times ``requests`` calls spread over ``concurrency`` threads, after ``warmup`` calls."""
    for i in range(warmup):
        call(batches[i % len(batches)])
    latencies: List[float] = []
    lock = threading.Lock()

    def worker(offset: int) -> None:
        mine = []
        for i in range(offset, requests, concurrency):
            start = time.perf_counter()
            call(batches[i % len(batches)])
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    batch_size = len(batches[0])
    return {"requests": len(latencies), "p50_ms": 1000 * float(np.percentile(latencies, 50)),
            "p99_ms": 1000 * float(np.percentile(latencies, 99)),
            "requests_per_s": len(latencies) / wall,
            "images_per_s": len(latencies) * batch_size / wall}


def in_process_caller(version_dir: str) -> Callable[[List[bytes]], object]:
    """Calls the SavedModel's serving signature directly."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    serve = tf.saved_model.load(version_dir).signatures[features.SERVING_SIGNATURE]

    def call(batch: List[bytes]):
        outputs = serve(**{features.SERVING_INPUT_KEY: tf.constant(batch)})
        return {name: tensor.numpy() for name, tensor in outputs.items()}
    return call


def rest_caller(url: str) -> Callable[[List[bytes]], object]:
    """Calls the server through the client API, one client (connection pool) per thread."""
    from imagepipe.serving import client  # pylint: disable=g-import-not-at-top
    local = threading.local()

    def call(batch: List[bytes]):
        if not hasattr(local, "client"):
            local.client = client.ServingClient(url, MODEL_NAME, retries=0, timeout=120)
        return local.client.predict_images(batch)
    return call


def benchmark(args, version_dir: str) -> List[dict]:
    """Runs every (mode, concurrency, batch size) and returns the rows."""
    images = sample_images()
    rows = []
    server = Server(os.path.dirname(version_dir), threads=max(args.concurrency))
    try:
        callers = {"in-process": in_process_caller(version_dir), "REST": rest_caller(server.url)}
        for concurrency in args.concurrency:
            for batch_size in args.batch_sizes:
                batches = [[images[(i * batch_size + j) % len(images)] for j in range(batch_size)]
                           for i in range(8)]
                for mode, call in callers.items():
                    figures = run_load(call, batches, concurrency, args.requests, args.warmup)
                    rows.append({"mode": mode, "concurrency": concurrency,
                                 "batch_size": batch_size, **figures})
                    print(_row(rows[-1]), flush=True)
    finally:
        server.stop()
    return rows


HEADER = (f"{'mode':11s} {'conc':>4s} {'batch':>5s} {'requests':>8s} {'p50 ms':>8s} "
          f"{'p99 ms':>8s} {'req/s':>8s} {'images/s':>9s}")


def _row(row: dict) -> str:
    return (f"{row['mode']:11s} {row['concurrency']:4d} {row['batch_size']:5d} "
            f"{row['requests']:8d} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} "
            f"{row['requests_per_s']:8.1f} {row['images_per_s']:9.1f}")


def main() -> int:
    """Parses the arguments, finds or trains the model, runs and prints the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default=None,
                        help="a pushed model's folder of versions (the latest is used); "
                             "default: train a tiny one with the pipeline first")
    parser.add_argument("--requests", type=int, default=200,
                        help="timed requests per configuration; default 200")
    parser.add_argument("--warmup", type=int, default=10,
                        help="untimed requests before each configuration; default 10")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--json-out", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    model_dir = args.model_dir or tiny_pushed_model(tempfile.mkdtemp(prefix="serving-bench-"))
    versions = features.serving_versions(model_dir)
    if not versions:
        print(f"error: no version folders in {model_dir}", file=sys.stderr)
        return 2
    version_dir = os.path.join(model_dir, str(versions[-1]))
    print(f"\nimagepipe serving benchmark: {version_dir}\n  {os.cpu_count()} CPUs "
          f"({platform.machine()}), {args.requests} timed requests per row, loopback "
          f"127.0.0.1; REST = imagepipe serve in its own process, "
          f"{max(args.concurrency)} worker threads\n  load average before: "
          f"{os.getloadavg()[0]:.1f} (other processes share the CPUs)\n")
    print(HEADER, flush=True)
    rows = benchmark(args, version_dir)
    print(f"\n  load average after: {os.getloadavg()[0]:.1f}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"model": version_dir, "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
