"""The drift report as an HTML page: the verdict, every measure, the anomalies, every span."""

from __future__ import annotations

from typing import Tuple

from imagepipe.components import card_render
from imagepipe.components.drift import DriftReport
from imagepipe.components.model_card import Block, Section, Table
from imagepipe.components.span_statistics import SpanStatisticsReport
from imagepipe.data import image_measures

HTML_FILE = "drift_report.html"


def _verdict(report: DriftReport) -> Tuple[Block, ...]:
    if report.previous_span is None:
        return (f"Span {report.newest_span} was not compared: {report.note}.",)
    verdict = ("Drift: the push is held back unless the run accepts it (--accept-drift)."
               if report.drifted else "No drift: every measure is within the threshold.")
    rows = (("feature", "measure", "value", "threshold", "over"),
            *((m.feature, m.measure, f"{m.value:.4f}", f"{m.threshold:g}",
               "yes" if m.over else "no") for m in report.measures))
    return (verdict, Table(rows))


def _spans(summary: SpanStatisticsReport) -> Tuple[Block, ...]:
    classes = sorted({name for span in summary.spans for name in span.classes})
    counts = (("span", "photos", *classes),
              *((str(s.span), str(s.examples), *(str(s.classes.get(c, 0)) for c in classes))
                for s in summary.spans))
    means = (("span", *(f"{name} (mean ± sd)" for name in image_measures.MEASURES)),
             *((str(s.span), *(f"{s.measures[n].mean:.3g} ± {s.measures[n].std_dev:.2g}"
                               for n in image_measures.MEASURES if n in s.measures))
               for s in summary.spans))
    return ("Photos per class:", Table(counts),
            "Measures (sizes in pixels as shown; brightness and colour in [0, 1]):", Table(means))


def html(report: DriftReport, summary: SpanStatisticsReport) -> str:
    """``drift_report.html``: the report of :func:`drift.between_latest_spans` and the spans."""
    title = (f"Drift: span {report.newest_span} against span {report.previous_span}"
             if report.previous_span is not None else f"Drift: span {report.newest_span}")
    sections = [Section("drift", "Verdict", _verdict(report))]
    if report.anomalies:
        sections.append(Section("anomalies", "Anomalies (TFDV)", (tuple(report.anomalies),)))
    sections.append(Section("spans", "Statistics per span", _spans(summary)))
    return card_render.html_page(title, sections)
