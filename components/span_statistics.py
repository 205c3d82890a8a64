"""Statistics per span of a photo folder's examples, computed by TFDV from each photo's measures.

Every example of every split is grouped by its span (the ``span-N/`` its
``relative_path`` starts with; 0 without span folders) and measured
(:mod:`imagepipe.data.image_measures`: width, height, brightness, red, green,
blue); TFDV then describes each span's class names (``label_name``) and
measures as one ``DatasetFeatureStatisticsList``. The statistics are written
the way TFX's StatisticsGen writes an ExampleStatistics artifact, with one
"split" per span (``Split-span-2/FeatureStats.pb``), so TFDV's and TFX's
readers and visualisations take them, plus ``span_statistics.json``: the
same figures as a :class:`SpanStatisticsReport`.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
from typing import Dict, List, Mapping, Sequence, Tuple

import numpy as np
import tensorflow as tf
from tensorflow_metadata.proto.v0 import statistics_pb2

from imagepipe.components import features
from imagepipe.components.record import Record
from imagepipe.data import image_measures, spans

LABEL_FEATURE = features.LABEL_NAME_KEY  # the class, as the drift checks compare it
STATISTICS_FILE = "FeatureStats.pb"  # TFX's file name under Split-<name>/
SUMMARY_FILE = "span_statistics.json"
_BATCH = 256  # examples parsed at once

Row = Dict[str, object]  # one photo: its class name and its measures


def split_name(span: int) -> str:
    """The span's "split" name in the statistics artifact: its folder name, ``span-N``."""
    return spans.folder_name(span)


def _example_batches(examples_uri: str, split_names: Sequence[str]):
    spec = {key: tf.io.FixedLenFeature([], tf.string)
            for key in (features.IMAGE_KEY, features.ORIGINAL_IMAGE_KEY,
                        features.LABEL_NAME_KEY, features.RELATIVE_PATH_KEY)}
    for name in split_names:
        files = sorted(tf.io.gfile.glob(os.path.join(examples_uri, f"Split-{name}", "*")))
        dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(_BATCH).map(
            lambda records: tf.io.parse_example(records, spec))
        for batch in dataset.as_numpy_iterator():
            yield batch


def _row(path: bytes, label: bytes, original: bytes, normalised: bytes) -> Tuple[int, Row]:
    measures = image_measures.measure(original, normalised)
    return spans.of_path(path.decode()), {LABEL_FEATURE: label.decode(), **measures}


def measured_rows(examples_uri: str, split_names: Sequence[str]) -> Dict[int, List[Row]]:
    """Span -> one row per photo of every split: its class name and its measures.

    Args:
      examples_uri: a photo folder's Examples artifact (the folder ExampleGen's).
      split_names: its splits.
    """
    by_span: Dict[int, List[Row]] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for batch in _example_batches(examples_uri, split_names):
            columns = (batch[features.RELATIVE_PATH_KEY], batch[features.LABEL_NAME_KEY],
                       batch[features.ORIGINAL_IMAGE_KEY], batch[features.IMAGE_KEY])
            for span, row in pool.map(_row, *columns):
                by_span.setdefault(span, []).append(row)
    return dict(sorted(by_span.items()))


def statistics(rows: Sequence[Row], name: str) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV's statistics of one span's rows, its dataset named ``name``.

    Each measure's standard histogram is TFDV's own except for its buckets,
    which are the measure's fixed ones (``image_measures.bucket_edges``): TFDV
    spreads each span's histogram over that span's own range, and its
    Jensen-Shannon divergence re-buckets two such histograms assuming values
    spread evenly inside a bucket, which photo sizes (a few exact values) are
    not: two random thirds of the same 3,068 photos differed by 0.23 in height.
    """
    import pandas as pd  # pylint: disable=g-import-not-at-top
    import tensorflow_data_validation as tfdv  # pylint: disable=g-import-not-at-top
    frame = pd.DataFrame(list(rows), columns=[LABEL_FEATURE, *image_measures.MEASURES])
    result = tfdv.generate_statistics_from_dataframe(frame)
    result.datasets[0].name = name
    for feature in result.datasets[0].features:
        if feature.path.step[0] in image_measures.MEASURES:
            _fixed_buckets(feature.num_stats, frame[feature.path.step[0]].to_numpy(),
                           image_measures.bucket_edges(feature.path.step[0]))
    return result


def _fixed_buckets(num_stats: statistics_pb2.NumericStatistics, values: np.ndarray,
                   edges: Sequence[float]) -> None:
    """Replaces the standard histogram's buckets with counts of ``values`` in ``edges``."""
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=np.asarray(edges))
    for histogram in num_stats.histograms:
        if histogram.type == statistics_pb2.Histogram.STANDARD:
            del histogram.buckets[:]
            for low, high, count in zip(edges[:-1], edges[1:], counts):
                histogram.buckets.add(low_value=low, high_value=high, sample_count=float(count))


def write(uri: str, by_span: Mapping[int, statistics_pb2.DatasetFeatureStatisticsList]
          ) -> "SpanStatisticsReport":
    """Writes each span's statistics under ``uri`` (``Split-span-N/FeatureStats.pb``) and
    their summary (``span_statistics.json``); returns the summary."""
    for span, stats in by_span.items():
        folder = os.path.join(uri, f"Split-{split_name(span)}")
        tf.io.gfile.makedirs(folder)
        with tf.io.gfile.GFile(os.path.join(folder, STATISTICS_FILE), "wb") as f:
            f.write(stats.SerializeToString())
    summary = SpanStatisticsReport.of(by_span)
    summary.write(os.path.join(uri, SUMMARY_FILE))
    return summary


# ---------------------------------------------------------------- the JSON summary


@dataclasses.dataclass(frozen=True)
class MeasureSummary(Record):
    """One numeric measure of a span: mean, standard deviation, smallest and largest value."""

    KIND = "measure summary"

    mean: float
    std_dev: float
    min: float
    max: float


@dataclasses.dataclass(frozen=True)
class SpanSummary(Record):
    """One span: its photos, their classes and their measures."""

    KIND = "span statistics"

    span: int
    examples: int
    classes: Dict[str, int]
    measures: Dict[str, MeasureSummary]

    @classmethod
    def of(cls, span: int, stats: statistics_pb2.DatasetFeatureStatisticsList) -> "SpanSummary":
        """The summary of a span from its TFDV statistics."""
        dataset = stats.datasets[0]
        by_name = {f.path.step[0]: f for f in dataset.features}
        label = by_name[LABEL_FEATURE].string_stats.rank_histogram.buckets
        measures = {name: MeasureSummary(mean=by_name[name].num_stats.mean,
                                         std_dev=by_name[name].num_stats.std_dev,
                                         min=by_name[name].num_stats.min,
                                         max=by_name[name].num_stats.max)
                    for name in image_measures.MEASURES if name in by_name}
        return cls(span=span, examples=int(dataset.num_examples),
                   classes={b.label: int(b.sample_count) for b in label}, measures=measures)


@dataclasses.dataclass(frozen=True)
class SpanStatisticsReport(Record):
    """``span_statistics.json``: every span of the window, oldest first."""

    KIND = "span statistics"

    spans: Tuple[SpanSummary, ...]

    @classmethod
    def of(cls, by_span: Mapping[int, statistics_pb2.DatasetFeatureStatisticsList]
           ) -> "SpanStatisticsReport":
        return cls(tuple(SpanSummary.of(span, stats) for span, stats in sorted(by_span.items())))
