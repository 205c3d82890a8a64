"""The drift measure between spans: TFDV's comparators on statistics per span, and the verdict."""

import pytest

from imagepipe.components import drift, drift_page, span_statistics
from imagepipe.data import image_measures

CLASSES = ("markers", "pencils", "pens")


def _rows(per_class, width=64.0, brightness=0.5):
    """Rows of photos: ``per_class[i]`` of class i, every measure spread a little."""
    rows = []
    for name, count in zip(CLASSES, per_class):
        for i in range(count):
            rows.append({span_statistics.LABEL_FEATURE: name, image_measures.WIDTH: width,
                         image_measures.HEIGHT: 48.0, image_measures.BRIGHTNESS: brightness,
                         image_measures.RED: 0.2 + 0.01 * i, image_measures.GREEN: 0.4,
                         image_measures.BLUE: 0.6})
    return rows


def _stats(rows, span):
    return span_statistics.statistics(rows, span_statistics.split_name(span))


def _compare(previous_rows, newest_rows, threshold=drift.DEFAULT_THRESHOLD):
    return drift.between_latest_spans({1: _stats(previous_rows, 1), 2: _stats(newest_rows, 2)},
                                      threshold)


def _measure(report, feature):
    return next(m for m in report.measures if m.feature == feature)


def test_a_skewed_class_mix_crosses_the_threshold():
    report = _compare(_rows((6, 6, 6)), _rows((12, 3, 3)))
    label = _measure(report, span_statistics.LABEL_FEATURE)
    assert label.measure == drift.L_INFINITY
    assert label.value == pytest.approx(12 / 18 - 6 / 18)
    assert report.drifted and label.over
    assert (report.newest_span, report.previous_span) == (2, 1)
    assert [a.split(":")[0] for a in report.anomalies] == [span_statistics.LABEL_FEATURE]
    assert "Linfty distance" in report.anomalies[0]
    assert report.reason() == ("drift of span 2 against span 1 over the threshold 0.2 "
                               "(label_name L-infinity distance 0.333)")


def test_an_identical_mix_does_not():
    report = _compare(_rows((6, 6, 6)), _rows((6, 6, 6)))
    assert not report.drifted and report.reason() is None and not report.anomalies
    assert {m.feature for m in report.measures} == {span_statistics.LABEL_FEATURE,
                                                    *image_measures.MEASURES}
    assert all(m.value == pytest.approx(0.0, abs=1e-9) for m in report.measures)
    # The same mix in other numbers of photos is no drift either.
    assert not _compare(_rows((6, 6, 6)), _rows((4, 4, 4))).drifted


def test_the_threshold_decides_what_is_drift():
    skewed = (_rows((6, 6, 6)), _rows((12, 3, 3)))
    assert _compare(*skewed, threshold=0.3).drifted
    assert not _compare(*skewed, threshold=0.34).drifted


def test_measures_compare_by_jensen_shannon_divergence_on_fixed_buckets():
    # 533 and 534 px share a bucket: no drift where TFDV's own histograms saw some.
    same_camera = _compare(_rows((6, 6, 6), width=533.0), _rows((6, 6, 6), width=534.0))
    width = _measure(same_camera, image_measures.WIDTH)
    assert width.measure == drift.JENSEN_SHANNON and width.value == pytest.approx(0.0, abs=1e-9)
    new_camera = _compare(_rows((6, 6, 6), width=533.0), _rows((6, 6, 6), width=1600.0))
    assert _measure(new_camera, image_measures.WIDTH).value == pytest.approx(1.0)
    darker = _compare(_rows((6, 6, 6), brightness=0.6), _rows((6, 6, 6), brightness=0.3))
    assert darker.drifted and "brightness Jensen-Shannon divergence 1.000" in darker.reason()
    assert [a.split(":")[0] for a in darker.anomalies] == [image_measures.BRIGHTNESS]


def test_a_window_of_one_span_is_not_compared():
    report = drift.between_latest_spans({3: _stats(_rows((6, 6, 6)), 3)}, 0.2)
    assert (report.newest_span, report.previous_span, report.measures) == (3, None, ())
    assert not report.drifted
    assert report.headline().startswith("drift: span 3 not compared (no earlier span")
    plain = drift.between_latest_spans({0: _stats(_rows((6, 6, 6)), 0)}, 0.2)
    assert plain.headline() == "drift: span 0 not compared (the folder has no span-N folders)"


def test_the_newest_span_is_compared_with_the_one_before_it():
    by_span = {1: _stats(_rows((12, 3, 3)), 1), 2: _stats(_rows((6, 6, 6)), 2),
               3: _stats(_rows((6, 6, 6)), 3)}
    report = drift.between_latest_spans(by_span, 0.2)
    assert (report.previous_span, report.newest_span, report.drifted) == (2, 3, False)


def test_the_report_and_the_span_statistics_round_trip_through_json(tmp_path):
    report = _compare(_rows((6, 6, 6)), _rows((12, 3, 3)))
    report.write(str(tmp_path / drift.REPORT_FILE))
    assert drift.DriftReport.read(str(tmp_path / drift.REPORT_FILE)) == report
    by_span = {1: _stats(_rows((6, 6, 6)), 1), 2: _stats(_rows((12, 3, 3), width=80.0), 2)}
    span_statistics.write(str(tmp_path / "stats"), by_span)
    summary = span_statistics.SpanStatisticsReport.read(
        str(tmp_path / "stats" / span_statistics.SUMMARY_FILE))
    assert [(s.span, s.examples, s.classes) for s in summary.spans] == [
        (1, 18, {"markers": 6, "pencils": 6, "pens": 6}),
        (2, 18, {"markers": 12, "pencils": 3, "pens": 3})]
    assert summary.spans[1].measures[image_measures.WIDTH].mean == pytest.approx(80.0)
    assert (tmp_path / "stats" / "Split-span-2" / span_statistics.STATISTICS_FILE).exists()


def test_the_html_page_shows_the_verdict_the_anomalies_and_every_span():
    by_span = {1: _stats(_rows((6, 6, 6)), 1), 2: _stats(_rows((12, 3, 3)), 2)}
    report = drift.between_latest_spans(by_span, 0.2)
    page = drift_page.html(report, span_statistics.SpanStatisticsReport.of(by_span))
    assert "<title>Drift: span 2 against span 1</title>" in page
    assert "Drift: the push is held back unless the run accepts it (--accept-drift)." in page
    assert "High Linfty distance" not in page and "Linfty distance between current" in page
    assert "<td>label_name</td><td>L-infinity distance</td><td>0.3333</td>" in page
    assert "<tr><td>2</td><td>18</td><td>12</td><td>3</td><td>3</td></tr>" in page


def test_the_summary_lines_group_the_measures_by_kind_and_list_each_anomaly():
    lines = _compare(_rows((6, 6, 6)), _rows((12, 3, 3))).summary_lines()
    assert lines[0] == "drift: span 2 against span 1: DRIFT (threshold 0.2)"
    assert lines[1] == "    L-infinity distance: label_name 0.333 (over)"
    assert lines[2] == ("    Jensen-Shannon divergence: width 0.000, height 0.000, "
                        "brightness 0.000, red 0.078, green 0.000, blue 0.000")
    assert lines[3].startswith("    anomaly: label_name: The Linfty distance between current "
                               "and previous is 0.333333")
    assert len(lines) == 4
