"""The photo-folder source: one sub-folder per class, or a class map grouping sub-folders.

The class map is read once, when the settings are completed (from the
sub-folders, or from ``--class-map FILE``), so the pipeline never lists
folders; FolderExampleGen then scans, validates and splits the folder and
reports every skipped file. A folder of ``span-N`` sub-folders
(:mod:`imagepipe.data.spans`) trains on the window ``--spans`` names; its
default class map is made of the class sub-folders of the window's spans,
and its newest span is checked for drift against the previous one before a
push (``--drift-threshold``, ``--accept-drift``; SpanDrift).
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any, Dict, List, Mapping, Tuple

from imagepipe.components import drift, reports
from imagepipe.components.features import PHOTO_IMAGE_SIZE
from imagepipe.components.record import SettingsError, setting
from imagepipe.components.settings import (PHOTO_INPUTS, RESIZE_MODES, RESIZE_PAD,
                                           WEIGHTS_IMAGENET, DataSettings, EvaluationSettings,
                                           ModelOptions, PhotoTransformSettings, SourceDefaults,
                                           TrainingSettings)
from imagepipe.components.sources.registry import DataSource, DriftRules, register
from imagepipe.data import class_map as class_map_lib
from imagepipe.data import spans as spans_lib
from imagepipe.data.folder_walk import DEFAULT_MAX_FILE_MB
from imagepipe.data.images import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE

PREPROCESSING_FN = "imagepipe.components.photo_preprocessing.preprocessing_fn"


def _load_class_map(path: str) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    """The class map file ``--class-map`` names, as the settings hold it."""
    return tuple(class_map_lib.load(path))


@dataclasses.dataclass(frozen=True)
class FolderSettings(DataSettings):
    """A photo folder: where it is, its classes, and how photos become model inputs.

    Attributes:
      data_dir: the photo folder, local or ``gs://``.
      class_map: (class name, (sub-folder, ...)) pairs in class id order; empty
        until the source completes it (one class per sub-folder).
    """

    KIND = "photo folder settings"

    source: str = setting("folder", "data source", cli=False)
    data_dir: str = setting("", "the photo folder, local or gs://", metavar="PATH")
    class_map: Tuple[Tuple[str, Tuple[str, ...]], ...] = setting(
        (), "JSON or YAML {class: [sub-folder, ...]}; sub-folders not listed are left out "
            "(default: one class per sub-folder)", metavar="FILE", parse=_load_class_map)
    max_pixels: int = setting(DEFAULT_MAX_PIXELS, "images with more pixels are skipped as "
                                                  "decompression bombs", minimum=1)
    max_file_mb: int = setting(DEFAULT_MAX_FILE_MB, "files larger than this many MiB are skipped "
                                                    "unread", metavar="MIB", minimum=1)
    follow_links: bool = setting(False, "follow symbolic links that lead outside the photo "
                                        "folder (skipped by default)")
    spans: str = setting(spans_lib.ALL, "the span-N sub-folders trained on: all, latest, or K "
                                        "(the latest K, a rolling window); a folder without "
                                        "span-N folders is span 0 whatever this says",
                         metavar="all|latest|K")
    drift_threshold: float = setting(drift.DEFAULT_THRESHOLD,
                                     "largest drift of the newest span against the previous "
                                     "one before a push is held: L-infinity distance of the "
                                     "class mix, Jensen-Shannon divergence of photo width, "
                                     "height, brightness and colour", minimum=0.0, maximum=1.0)
    accept_drift: bool = setting(False, "push a blessed model even when the newest span "
                                        "drifted past --drift-threshold (the run summary says "
                                        "what was accepted)")
    classify: str = setting("", "an unlabelled folder whose photos the blessed model "
                                "classifies after the Evaluator (BulkInferrer): one row per "
                                "photo (path, class, probabilities) in classifications.csv and "
                                ".jsonl, unusable files listed", metavar="DIR")
    max_side: int = setting(DEFAULT_MAX_SIDE, "longer side of the normalised copy stored for "
                                              "Transform", cli=False)
    image_size: int = setting(PHOTO_IMAGE_SIZE, "model input side in pixels (photos become "
                                                "SIZE x SIZE x 3); a pretrained model's "
                                                "default is its native side "
                                                "(efficientnet_lite2: 260)", minimum=8)
    resize_mode: str = setting(RESIZE_PAD, "keep the aspect ratio by padding or by "
                                           "centre-cropping", flag="--resize",
                               choices=RESIZE_MODES)

    def check(self) -> None:
        super().check()
        try:
            spans_lib.window_size(self.spans)
        except ValueError as error:
            raise SettingsError(f"{self.KIND}: {error}") from None
        if self.max_side < self.image_size:
            raise SettingsError(f"max_side ({self.max_side}) must be at least image_size "
                                f"({self.image_size}): the stored copy would be upscaled")

    @property
    def class_names(self) -> Tuple[str, ...]:
        """The class names, in class id order."""
        return tuple(name for name, _ in self.class_map)


def serving_name(path: str) -> str:
    """A model name from a folder path: its last part, lower case, [a-z0-9_-] only."""
    name = os.path.basename(path.rstrip("/")) or "photos"
    name = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
    return name or "photos"


def scan_limits(settings: FolderSettings):
    """The folder scan's limits (file size, model input, links) from the settings."""
    from imagepipe.data import photo_folder  # pylint: disable=g-import-not-at-top
    return photo_folder.ScanLimits(max_file_bytes=settings.max_file_mb * 2**20,
                                   image_size=settings.image_size, max_side=settings.max_side,
                                   follow_links=settings.follow_links)


def _default_class_map(path: str, spans: str):
    """One class per sub-folder, or per class sub-folder of the window's span folders."""
    from imagepipe.data import photo_folder  # pylint: disable=g-import-not-at-top
    window = spans_lib.resolve(path, spans)
    if window == [(spans_lib.NO_SPANS, "")]:
        return photo_folder.default_class_map(path)
    folders = spans_lib.class_folders(path, window)
    if not folders:
        raise photo_folder.FolderError(f"the span folders of {path} have no sub-folder: put "
                                       f"each span's photos in one sub-folder per class")
    return class_map_lib.from_folders(folders)


class FolderSource(DataSource):
    """A folder of photos (local or ``gs://``), one sub-folder per class."""

    name = "folder"
    target = "folder"
    description = "a folder of photos, one sub-folder per class"
    settings_type = FolderSettings
    report_type = reports.FolderIngestReport
    preprocessing_fn = PREPROCESSING_FN
    model_inputs = PHOTO_INPUTS
    positional = "data_dir"
    # EfficientNet-Lite0 with its ImageNet weights (installed, offline) measured best on real
    # photos (docs/decisions/0001-efficientnet-lite0-default.md); a frozen base's head trains
    # on features computed once, so 30 epochs cost seconds.
    defaults = SourceDefaults(
        training=TrainingSettings(model_name="efficientnet_lite0",
                                  model_options=ModelOptions(weights=WEIGHTS_IMAGENET),
                                  epochs=30, early_stopping_patience=5),
        evaluation=EvaluationSettings(min_accuracy=0.8))
    pipeline_name = "imagepipe-folder"
    serving_name = "photos"
    needs_data_dir = True

    def example_gen(self, settings: FolderSettings, split_ratios: Mapping[str, int]):
        # pylint: disable-next=g-import-not-at-top
        from imagepipe.components.folder_ingest import component
        return component.FolderExampleGen(
            input_base=settings.data_dir, class_map=settings.class_map,
            split_ratios=split_ratios, split_seed=settings.split_seed,
            max_pixels=settings.max_pixels, max_side=settings.max_side,
            limits=scan_limits(settings), window=settings.spans)

    def class_names(self, settings: FolderSettings) -> Tuple[str, ...]:
        return settings.class_names

    def transform_settings(self, settings: FolderSettings) -> Dict[str, Any]:
        return PhotoTransformSettings(image_size=settings.image_size,
                                      resize_mode=settings.resize_mode).to_dict()

    def complete(self, settings: FolderSettings) -> FolderSettings:
        """An absolute local path, the default class map, a stored copy no smaller than the input.

        Raises:
          ValueError: the folder is missing or has no sub-folder (FolderError).
        """
        from imagepipe.data import photo_folder  # pylint: disable=g-import-not-at-top
        path = settings.data_dir
        if path and "://" not in path:
            path = os.path.abspath(path)
        class_map = settings.class_map or _default_class_map(path, settings.spans)
        unlabelled = settings.classify
        if unlabelled and "://" not in unlabelled:
            unlabelled = os.path.abspath(unlabelled)
        return settings.replace(data_dir=path, class_map=class_map, classify=unlabelled,
                                max_side=max(DEFAULT_MAX_SIDE, settings.image_size))

    def problems(self, settings: FolderSettings) -> List[str]:
        """Fewer than two classes stops the run now; what needs the photos (a class without
        usable images, too few for every split) stops FolderExampleGen, by the same
        readiness check (``photo_folder.problems``) that ``imagepipe inspect`` prints."""
        from imagepipe.data import photo_folder  # pylint: disable=g-import-not-at-top
        if not settings.data_dir:
            return ["the folder source needs the photo folder"]
        few = photo_folder.class_count_problem(settings.class_names)
        return ([few] if few else []) + _classify_problems(settings.classify)

    def drift_rules(self, settings: FolderSettings) -> DriftRules:
        return DriftRules(threshold=settings.drift_threshold, accept=settings.accept_drift)

    def unlabelled_example_gen(self, settings: FolderSettings):
        """The ExampleGen of ``--classify DIR`` with the folder's own limits; None without it."""
        if not settings.classify:
            return None
        # pylint: disable-next=g-import-not-at-top
        from imagepipe.components.unlabelled_ingest import component
        return component.UnlabelledExampleGen(
            settings.classify, max_pixels=settings.max_pixels, max_side=settings.max_side,
            max_file_bytes=settings.max_file_mb * 2**20, follow_links=settings.follow_links)

    def pipeline_and_serving_names(self, settings: FolderSettings) -> Tuple[str, str]:
        name = serving_name(settings.data_dir)
        return f"{self.pipeline_name}-{name}", name


def _classify_problems(unlabelled: str) -> List[str]:
    """A local ``--classify`` folder that is missing or a file (a cloud one: when it is read)."""
    if not unlabelled or "://" in unlabelled or os.path.isdir(unlabelled):
        return []
    what = "is a file, not a folder" if os.path.exists(unlabelled) else "not found"
    return [f"--classify folder {what}: {unlabelled}"]


FOLDER = register(FolderSource())
