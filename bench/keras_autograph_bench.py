"""Benchmark: the first fit of arch5 with and without tf_keras on AutoGraph's do-not-convert list.

Each setting runs in its own fresh process (AutoGraph caches conversions per
process), one after the other, on 512 random 28x28 images: the first
``model.fit`` (train and validation functions traced) and a second one (traced
already). The difference of the first fits is what
``components/trainer/keras_autograph.py`` saves at every Trainer start.

    python bench/keras_autograph_bench.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def _child(with_rule: bool) -> dict:
    import numpy as np  # pylint: disable=g-import-not-at-top
    if with_rule:
        from imagepipe.components.trainer import keras_autograph  # noqa
        keras_autograph.trace_tf_keras_as_written()
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    from imagepipe.components.trainer import task  # pylint: disable=g-import-not-at-top
    model = task.compile_model(models.build("arch5", models.ModelSpec((28, 28, 1), 3, "image")),
                               1e-3)
    rng = np.random.default_rng(0)
    x = rng.random((512, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 3, 512)
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        model.fit(x, y, batch_size=32, epochs=1, validation_data=(x[:64], y[:64]), verbose=0)
        seconds.append(time.perf_counter() - start)
    return {"first_fit": seconds[0], "second_fit": seconds[1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", choices=("plain", "rule"), default=None)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.child:
        print(json.dumps(_child(args.child == "rule")))
        return 0
    rows = []
    for _ in range(args.repeats):
        for setting in ("plain", "rule"):
            out = subprocess.run([sys.executable, __file__, "--child", setting], check=True,
                                 capture_output=True, text=True).stdout
            rows.append((setting, json.loads(out.strip().splitlines()[-1])))
    print(f"{'setting':34s} {'first fit s':>12s} {'second fit s':>13s}")
    for setting, row in rows:
        label = "tf_keras converted (TF default)" if setting == "plain" else \
            "tf_keras as written (imagepipe)"
        print(f"{label:34s} {row['first_fit']:12.2f} {row['second_fit']:13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
