"""The drift measure between two spans: TFDV's drift comparators, and the verdict.

The newest span of a window is compared with the span before it, feature by
feature, by ``tfdv.validate_statistics(newest, schema, previous_statistics=previous)``
with a schema that gives every feature a drift comparator:

* the class (``label_name``, categorical): the L-infinity distance, the
  largest change in any class's share of the photos;
* each measure of the photos (width, height, brightness, red, green, blue;
  numeric): the approximate Jensen-Shannon divergence of their histograms.

Both lie in [0, 1]; one threshold applies to all of them (default
:data:`DEFAULT_THRESHOLD`, docs/decisions/0017-drift-between-spans.md). A
value above it is an anomaly, and the Pusher holds the model back unless the
run accepts the drift (``--accept-drift``). The outcome is a
:class:`DriftReport`, ``drift_report.json``. This module imports TensorFlow
Data Validation only when it compares.
"""

from __future__ import annotations

import dataclasses
import os
from typing import List, Mapping, Optional, Tuple

from imagepipe.components.record import Record
from imagepipe.data import image_measures, spans

DEFAULT_THRESHOLD = 0.2
REPORT_FILE = "drift_report.json"
L_INFINITY = "L-infinity distance"
JENSEN_SHANNON = "Jensen-Shannon divergence"


@dataclasses.dataclass(frozen=True)
class DriftMeasure(Record):
    """One feature's drift between the previous span and the newest."""

    KIND = "drift measure"

    feature: str
    measure: str  # L_INFINITY or JENSEN_SHANNON
    value: float
    threshold: float

    @property
    def over(self) -> bool:
        """Whether the value passes the threshold (what TFDV calls an anomaly)."""
        return self.value > self.threshold

    def text(self) -> str:
        """``label_name 0.333 (over)``."""
        return f"{self.feature} {self.value:.3f}" + (" (over)" if self.over else "")


@dataclasses.dataclass(frozen=True)
class DriftReport(Record):
    """``drift_report.json``: the newest span of the window against the previous one.

    Attributes:
      newest_span: the window's latest span.
      previous_span: the span it was compared with; None when there is none.
      threshold: the largest distance or divergence allowed.
      measures: one per feature, the class first.
      anomalies: TFDV's description of every measure over the threshold.
      note: why nothing was compared, when nothing was.
    """

    KIND = "drift report"

    newest_span: int
    previous_span: Optional[int]
    threshold: float
    measures: Tuple[DriftMeasure, ...] = ()
    anomalies: Tuple[str, ...] = ()
    note: str = ""

    @property
    def drifted(self) -> bool:
        """Whether any measure passes the threshold."""
        return any(m.over for m in self.measures)

    def headline(self) -> str:
        """One line: the spans compared and the verdict."""
        if self.previous_span is None:
            return f"drift: span {self.newest_span} not compared ({self.note})"
        verdict = "DRIFT" if self.drifted else "no drift"
        return (f"drift: span {self.newest_span} against span {self.previous_span}: {verdict} "
                f"(threshold {self.threshold:g})")

    def reason(self) -> Optional[str]:
        """What drifted, the sentence a held push gives; None without drift."""
        if not self.drifted:
            return None
        over = ", ".join(f"{m.feature} {m.measure} {m.value:.3f}" for m in self.measures if m.over)
        return (f"drift of span {self.newest_span} against span {self.previous_span} over the "
                f"threshold {self.threshold:g} ({over})")

    def summary_lines(self, indent: str = "    ") -> List[str]:
        """The headline, the measures by kind, then each anomaly."""
        lines = [self.headline()]
        for kind in (L_INFINITY, JENSEN_SHANNON):
            found = [m.text() for m in self.measures if m.measure == kind]
            if found:
                lines.append(f"{indent}{kind}: {', '.join(found)}")
        lines += [f"{indent}anomaly: {text}" for text in self.anomalies]
        return lines


def read_report(uri: str) -> DriftReport:
    """The report in a SpanDrift ``drift`` artifact at ``uri`` (local or ``gs://``)."""
    return DriftReport.read(os.path.join(uri, REPORT_FILE))


# ---------------------------------------------------------------- comparing with TFDV


def _schema(threshold: float):
    """A schema that gives the class and every measure its drift comparator, and nothing else."""
    from tensorflow_metadata.proto.v0 import schema_pb2  # pylint: disable=g-import-not-at-top
    from imagepipe.components import span_statistics  # pylint: disable=g-import-not-at-top
    schema = schema_pb2.Schema()
    label = schema.feature.add(name=span_statistics.LABEL_FEATURE, type=schema_pb2.BYTES)
    label.drift_comparator.infinity_norm.threshold = threshold
    for name in image_measures.MEASURES:
        feature = schema.feature.add(name=name, type=schema_pb2.FLOAT)
        feature.drift_comparator.jensen_shannon_divergence.threshold = threshold
    return schema


def validated(previous, newest, threshold: float):
    """TFDV's ``Anomalies`` of the newest span's statistics against the previous span's."""
    import tensorflow_data_validation as tfdv  # pylint: disable=g-import-not-at-top
    return tfdv.validate_statistics(newest, _schema(threshold), previous_statistics=previous)


def compare(previous, newest, threshold: float, span_pair: Tuple[int, int]) -> DriftReport:
    """Compares two spans' TFDV statistics with TFDV's drift comparators.

    Args:
      previous: the earlier span's ``DatasetFeatureStatisticsList``.
      newest: the newest span's.
      threshold: the largest L-infinity distance (class) and Jensen-Shannon
        divergence (measures) allowed, in [0, 1].
      span_pair: (previous span, newest span), for the report.
    """
    from imagepipe.components import span_statistics  # pylint: disable=g-import-not-at-top
    anomalies = validated(previous, newest, threshold)
    found = {info.path.step[0]: info.drift_measurements[0].value
             for info in anomalies.drift_skew_info if info.drift_measurements}
    order = (span_statistics.LABEL_FEATURE, *image_measures.MEASURES)
    measures = tuple(
        DriftMeasure(name, L_INFINITY if name == span_statistics.LABEL_FEATURE
                     else JENSEN_SHANNON, float(found[name]), threshold)
        for name in order if name in found)
    texts = tuple(f"{name}: {anomalies.anomaly_info[name].description}"
                  for name in order if name in anomalies.anomaly_info)
    return DriftReport(newest_span=span_pair[1], previous_span=span_pair[0], threshold=threshold,
                       measures=measures, anomalies=texts)


def between_latest_spans(by_span: Mapping[int, object], threshold: float) -> DriftReport:
    """The newest span of ``by_span`` (span -> statistics) against the one before it."""
    ordered = sorted(by_span)
    if len(ordered) < 2:
        note = ("the folder has no span-N folders" if ordered == [spans.NO_SPANS] else
                "no earlier span in the window: --spans all or K of 2 or more compares the "
                "newest span with the one before")
        return DriftReport(newest_span=ordered[-1], previous_span=None, threshold=threshold,
                           note=note)
    previous, newest = ordered[-2], ordered[-1]
    return compare(by_span[previous], by_span[newest], threshold, (previous, newest))
