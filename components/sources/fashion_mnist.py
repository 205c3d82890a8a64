"""Fashion-MNIST sources: the canonical IDX files (``idx``) and TFDS (``tfds``).

Both give the same examples (PNG bytes, the original label, its name, a
stable id), the same Transform (decode, normalize, map 10 labels to
upper/lower/shoes) and the same report, under ``imagepipe run fashion-mnist``.
"""

from __future__ import annotations

import dataclasses
import os
from typing import List, Mapping, Tuple

from imagepipe.components import features, reports
from imagepipe.components.record import setting
from imagepipe.components.settings import (FASHION_MNIST_INPUTS, TEST_TIME_JOINED, DataSettings,
                                           SourceDefaults, TrainingSettings)
from imagepipe.components.sources.registry import DataSource, register

PREPROCESSING_FN = "imagepipe.components.preprocessing.preprocessing_fn"


@dataclasses.dataclass(frozen=True)
class FashionMnistSettings(DataSettings):
    """Fashion-MNIST: the canonical IDX files (``idx``) or TFDS (``tfds``)."""

    KIND = "Fashion-MNIST data settings"

    source: str = setting("idx", "idx: the canonical IDX files; tfds: TFDS fashion_mnist",
                          metavar="SOURCE")
    data_dir: str = setting("", "folder of the IDX files (default: "
                                "$IMAGEPIPE_FASHION_MNIST_DIR, the Debian package's folder or "
                                "~/.cache/imagepipe/fashion-mnist), or the TFDS data dir with "
                                "--source tfds", metavar="DIR")


class _FashionMnist(DataSource):
    target = "fashion-mnist"
    settings_type = FashionMnistSettings
    report_type = reports.FashionMnistIngestReport
    preprocessing_fn = PREPROCESSING_FN
    model_inputs = FASHION_MNIST_INPUTS
    photo_augmentation = True
    defaults = SourceDefaults(training=TrainingSettings(
        epochs=10, photo_augmentation=0.25, test_time=TEST_TIME_JOINED, copy_rotation=0.05))
    pipeline_name = "imagepipe-fashion-mnist"
    serving_name = "fashion_mnist"

    def class_names(self, settings: FashionMnistSettings) -> Tuple[str, ...]:
        return tuple(features.SUPER_CLASS_NAMES)


class IdxSource(_FashionMnist):
    """The four canonical IDX files in ``data_dir`` (gzip or not, local or ``gs://``)."""

    name = "idx"
    description = "Fashion-MNIST, 3 super-classes (upper, lower, shoes)"
    needs_data_dir = True

    def example_gen(self, settings: FashionMnistSettings, split_ratios: Mapping[str, int]):
        from imagepipe.components.ingest import component  # pylint: disable=g-import-not-at-top
        return component.FashionMnistExampleGen(input_base=settings.data_dir,
                                                split_ratios=split_ratios,
                                                split_seed=settings.split_seed)

    def complete(self, settings: FashionMnistSettings) -> FashionMnistSettings:
        from imagepipe.data import fashion_mnist  # pylint: disable=g-import-not-at-top
        data_dir = settings.data_dir or fashion_mnist.default_data_dir()
        if "://" not in data_dir:
            data_dir = os.path.abspath(data_dir)
        return settings.replace(data_dir=data_dir)

    def problems(self, settings: FashionMnistSettings) -> List[str]:
        if not settings.data_dir:
            return ["the idx source needs data_dir, the folder of the four IDX files"]
        if "://" not in settings.data_dir and not os.path.isdir(settings.data_dir):
            return [f"Fashion-MNIST folder not found: {settings.data_dir}\n"
                    f"  install it with `apt-get install dataset-fashion-mnist`, run "
                    f"`python -m imagepipe.data.download`, or pass --data-dir"]
        return []


class TfdsSource(_FashionMnist):
    """The TFDS ``fashion_mnist`` data set, downloaded into ``data_dir`` when missing."""

    name = "tfds"
    description = "Fashion-MNIST from TensorFlow Datasets"

    def example_gen(self, settings: FashionMnistSettings, split_ratios: Mapping[str, int]):
        from imagepipe.components.ingest import component  # pylint: disable=g-import-not-at-top
        return component.FashionMnistTfdsExampleGen(split_ratios=split_ratios,
                                                    split_seed=settings.split_seed,
                                                    tfds_data_dir=settings.data_dir)


IDX = register(IdxSource())
TFDS = register(TfdsSource())
