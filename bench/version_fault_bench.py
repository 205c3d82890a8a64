"""Benchmark: REST load on ``imagepipe serve`` while broken versions appear in its folder.

The model folder (``--model-dir``, copied to a temporary folder first) is
served by ``imagepipe serve`` in its own process on 127.0.0.1. A bounded number
of requests (one image each) is sent from ``--concurrency`` threads; when a
third of them is done, a version folder that is empty and one that holds only
``variables/`` (a copy cut short) appear above the served versions. Prints the
requests, errors (by HTTP status), latency p50/p99 before and after the broken
versions appeared, the versions' states at the end and which class names
answered. Without ``--model-dir`` the pipeline first trains a tiny model.

    python bench/version_fault_bench.py [--model-dir SERVING_DIR/MODEL] [--requests 2000]
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import sys
import tempfile
import threading
import time
from typing import Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import serving_bench  # noqa: E402  (the server process, the sample images, a tiny model)


def _break(base: str) -> List[int]:
    """Adds an empty version folder and a variables-only one above the newest version."""
    newest = max(int(n) for n in os.listdir(base) if n.isdigit())
    empty, cut_short = newest + 1, newest + 2
    os.makedirs(os.path.join(base, str(empty)))
    os.makedirs(os.path.join(base, str(cut_short), "variables"))
    with open(os.path.join(base, str(cut_short), "variables", "variables.index"), "wb") as f:
        f.write(b"\0")
    return [empty, cut_short]


def main() -> int:
    """Serves, loads, breaks, reports."""
    from imagepipe.serving import client as client_lib  # pylint: disable=g-import-not-at-top
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default=None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="imagepipe-fault-bench-")
    source = args.model_dir or serving_bench.tiny_pushed_model(workdir)
    base = os.path.join(workdir, "served", serving_bench.MODEL_NAME)
    shutil.copytree(source, base)
    images = serving_bench.sample_images()
    server = serving_bench.Server(base, threads=args.concurrency)
    latencies: Dict[str, List[float]] = {"before": [], "after": []}
    errors: collections.Counter = collections.Counter()
    answers: collections.Counter = collections.Counter()
    lock, done, broken_at = threading.Lock(), [0], [None]
    try:
        def worker(offset: int) -> None:
            with client_lib.ServingClient(server.url, serving_bench.MODEL_NAME,
                                          retries=0, timeout=60) as client:
                for i in range(offset, args.requests, args.concurrency):
                    start = time.perf_counter()
                    try:
                        name = client.predict_images([images[i % len(images)]])[0].class_name
                        outcome = None
                    except client_lib.ServerError as error:
                        name, outcome = None, str(error.status)
                    except client_lib.ClientError as error:
                        name, outcome = None, type(error).__name__
                    elapsed = time.perf_counter() - start
                    with lock:
                        done[0] += 1
                        phase = "before" if broken_at[0] is None else "after"
                        latencies[phase].append(elapsed)
                        if outcome:
                            errors[outcome] += 1
                        else:
                            answers[name] += 1
                        if broken_at[0] is None and done[0] >= args.requests // 3:
                            broken_at[0] = _break(base)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.concurrency)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        time.sleep(1.5)  # let the poll report the broken versions
        with client_lib.ServingClient(server.url, serving_bench.MODEL_NAME, retries=0) as client:
            states = {int(s["version"]): (s["state"], s["status"].get("error_code", "OK"))
                      for s in client.status()["model_version_status"]}
    finally:
        server.stop()
    print(f"{args.requests} requests of 1 image, concurrency {args.concurrency}, "
          f"{wall:.1f} s ({args.requests / wall:.0f} requests/s), loopback, "
          f"load average {os.getloadavg()[0]:.2f}")
    for phase, values in latencies.items():
        if values:
            print(f"  {phase} versions {broken_at[0]} (broken) appeared: {len(values)} requests, "
                  f"p50 {1000 * np.percentile(values, 50):.1f} ms, "
                  f"p99 {1000 * np.percentile(values, 99):.1f} ms")
    print(f"  errors: {dict(errors) or 'none'}; answers by class: {dict(answers)}")
    print("  versions at the end: " + ", ".join(f"{v} {state} ({code})"
                                                for v, (state, code) in sorted(states.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
