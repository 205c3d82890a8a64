"""Spans of photo folders: the window --spans names, ingested for real by FolderExampleGen."""

import os
import shutil

import pytest
import tensorflow as tf
from tfx import v1 as tfx

from imagepipe.components.folder_ingest import component, planning, spec
from imagepipe.data import class_map, photo_folder, spans
from imagepipe.pipeline import cli, results, summary as summary_lib
from imagepipe.pipeline.commands import run
from imagepipe.testing import photo_fixtures

CLASSES = ("markers", "pens")
PER_CLASS = 4  # at least one photo per class in each of the 3 splits of every span



@pytest.fixture(autouse=True, scope="module")
def _no_stale_progress_handler():
    """Drops the console progress handler an earlier in-process CLI run left on the root
    logger (its stream, pytest's captured stdout, is closed by now)."""
    import logging
    from imagepipe.pipeline import local_runner
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, local_runner.ProgressHandler):
            root.removeHandler(handler)

def _write_span(root: str, span: int, seed: int) -> None:
    photo_fixtures.write_photo_folder(os.path.join(root, spans.folder_name(span)), CLASSES,
                                      per_class=PER_CLASS, seed=seed, sizes=(64, 80),
                                      variants=("jpeg_rgb",))


@pytest.fixture()
def span_folder(tmp_path):
    root = str(tmp_path / "shop")
    _write_span(root, 1, seed=1)
    _write_span(root, 2, seed=2)
    return root


def test_window_sizes_and_selection():
    assert [spans.window_size(s) for s in ("all", "latest", "2")] == [None, 1, 2]
    assert spans.select([3, 1, 2], "latest") == [3]
    assert spans.select([3, 1, 2], "2") == [2, 3]
    assert spans.select([3, 1, 2], "5") == [1, 2, 3]  # fewer spans than K: all there are
    assert spans.select([3, 1, 2], "all") == [1, 2, 3]
    for bad in ("0", "-1", "newest", ""):
        with pytest.raises(ValueError, match="all', 'latest' or a positive number"):
            spans.window_size(bad)


def test_a_folder_without_span_folders_is_span_0(tmp_path):
    root = str(tmp_path / "plain")
    photo_fixtures.write_photo_folder(root, CLASSES, per_class=3, variants=("jpeg_rgb",))
    assert spans.resolve(root, "latest") == [(0, "")]
    assert spans.resolve(root, "all") == [(0, "")]


def test_span_folders_mixed_with_class_folders_are_refused(span_folder):
    os.makedirs(os.path.join(span_folder, "pens"))
    with pytest.raises(photo_folder.FolderError, match="mixes span folders"):
        spans.resolve(span_folder, "all")


def test_spans_option_reaches_the_settings_and_the_example_gen(span_folder, tmp_path):
    def data(*flags):
        args = cli.build_parser().parse_args(["run", "folder", span_folder, *flags,
                                              "--output", str(tmp_path / "out")])
        return run.build_config(args).data

    assert data().spans == "all"
    assert data("--spans", "latest").spans == "latest"
    assert data("--spans", "2").class_map == class_map.from_folders(CLASSES)
    from imagepipe.components import sources
    gen = sources.of(data("--spans", "2")).example_gen(data("--spans", "2"), {"train": 1})
    assert gen.exec_properties[spec.SPANS_KEY] == "2"


def test_a_bad_spans_value_is_refused_before_the_run(span_folder, tmp_path, capsys):
    assert cli.main(["run", "folder", span_folder, "--spans", "none", "--output",
                     str(tmp_path / "out")]) == 2
    assert "spans must be 'all', 'latest' or a positive number" in capsys.readouterr().err


def _ingest(root: str, output: str, window: str, cache: str = ""):
    """Runs FolderExampleGen alone, for real; returns its latest examples artifact."""
    gen = component.FolderExampleGen(
        input_base=root, class_map=class_map.from_folders(CLASSES),
        split_ratios={"train": 2, "eval": 1, "test": 1}, split_seed=7,
        window=window).with_id("ExampleGen")
    if cache:
        gen.with_span_cache(cache)
    metadata = os.path.join(output, "metadata.sqlite")
    tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline(
        pipeline_name="spans-test", pipeline_root=os.path.join(output, "root"),
        components=[gen], enable_cache=True,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            metadata)))
    _, outputs = results.node_outputs(metadata, "spans-test")
    return outputs["ExampleGen"]["examples"][0]


def _paths(artifact, split: str):
    pattern = os.path.join(artifact.uri, f"Split-{split}", "*")
    dataset = tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP")
    paths = []
    for record in dataset:
        example = tf.train.Example.FromString(record.numpy())
        paths.append(example.features.feature["relative_path"].bytes_list.value[0].decode())
    return paths


def _examples(artifact):
    """example id -> (split, the tf.Example) of every example of the artifact."""
    found = {}
    for split in ("train", "eval", "test"):
        pattern = os.path.join(artifact.uri, f"Split-{split}", "*")
        for record in tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP"):
            example = tf.train.Example.FromString(record.numpy())
            found[example.features.feature["example_id"].bytes_list.value[0].decode()] = (
                split, example)
    return found


def _all_paths(artifact):
    return sorted(p for split in ("train", "eval", "test") for p in _paths(artifact, split))


def test_example_gen_ingests_the_window_and_records_its_spans(span_folder, tmp_path):
    latest = _ingest(span_folder, str(tmp_path / "a"), "latest")
    assert latest.custom_properties["span"].int_value == 2
    assert latest.custom_properties["spans"].string_value == "2"
    assert {p.split("/")[0] for p in _all_paths(latest)} == {"span-2"}
    assert len(_all_paths(latest)) == len(CLASSES) * PER_CLASS

    everything = _ingest(span_folder, str(tmp_path / "b"), "all")
    assert everything.custom_properties["spans"].string_value == "1,2"
    assert {p.split("/")[0] for p in _all_paths(everything)} == {"span-1", "span-2"}

    # A new span arrives: a rolling window of 2 moves on; span 2's photos keep their splits.
    _write_span(span_folder, 3, seed=3)
    window = _ingest(span_folder, str(tmp_path / "b"), "2")
    assert window.custom_properties["span"].int_value == 3
    assert window.custom_properties["spans"].string_value == "2,3"
    for split in ("train", "eval", "test"):
        before = {p for p in _paths(everything, split) if p.startswith("span-2/")}
        assert before == {p for p in _paths(window, split) if p.startswith("span-2/")}


def _cache_keys(cache: str):
    return sorted(os.listdir(cache)) if os.path.isdir(cache) else []


def _rewrite_keeping_size_and_time(path: str) -> None:
    """New content of the same size (the JPEG's JFIF pixel density, same pixels),
    modification time restored: the folder's listing is unchanged."""
    info = os.stat(path)
    with open(path, "rb") as file:
        data = bytearray(file.read())
    assert data[6:11] == b"JFIF\0"
    data[15] ^= 0x01
    with open(path, "wb") as file:
        file.write(bytes(data))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def test_a_rerun_ingests_only_the_new_span_and_reads_the_others_from_the_span_cache(
        span_folder, tmp_path):
    cache = str(tmp_path / "span-cache")
    first = _ingest(span_folder, str(tmp_path / "run"), "all", cache)
    assert first.custom_properties["spans_from_cache"].string_value == ""
    assert len(_cache_keys(cache)) == 2  # one committed entry per span, nothing staged

    _write_span(span_folder, 3, seed=3)
    reference = _examples(_ingest(span_folder, str(tmp_path / "fresh"), "all"))

    # Span 1's listing stays the same while one photo's bytes change: a span read
    # again carries the new bytes, a span from the cache the old ones.
    photo = sorted(n for n in os.listdir(os.path.join(span_folder, "span-1", "pens"))
                   if n.endswith(".jpg"))[0]
    changed = f"span-1/pens/{photo}"
    _rewrite_keeping_size_and_time(os.path.join(span_folder, "span-1", "pens", photo))
    second = _ingest(span_folder, str(tmp_path / "run"), "all", cache)
    assert second.custom_properties["spans"].string_value == "1,2,3"
    assert second.custom_properties["spans_from_cache"].string_value == "1,2"
    after = _examples(second)
    assert {i: e for i, e in after.items() if not i.startswith("span-3/")} == _examples(first)
    assert after == reference  # the fresh ingestion of spans 1-3 before the change
    reread = _examples(_ingest(span_folder, str(tmp_path / "fresh-again"), "all"))
    assert reread[changed][1] != reference[changed][1]
    assert len(_cache_keys(cache)) == 3

    # A changed listing (a new modification time) is a miss: span 1 is read again.
    os.utime(os.path.join(span_folder, "span-1", "pens", photo))
    third = _ingest(span_folder, str(tmp_path / "run"), "all", cache)
    assert third.custom_properties["spans_from_cache"].string_value == "2,3"
    assert _examples(third) == reread

    # A window that drops span 1 drops its entry too.
    _ingest(span_folder, str(tmp_path / "run"), "2", cache)
    assert len(_cache_keys(cache)) == 2


def test_a_cached_span_missing_a_photo_the_window_now_needs_is_ingested_again(
        span_folder, tmp_path):
    # Span 2 repeats a span-1 photo: with span 1 in the window the copy is skipped (and
    # not cached); once span 1 leaves the window the copy is span 2's own photo.
    first = sorted(n for n in os.listdir(os.path.join(span_folder, "span-1", "pens"))
                   if n.endswith(".jpg"))[0]
    shutil.copy(os.path.join(span_folder, "span-1", "pens", first),
                os.path.join(span_folder, "span-2", "pens", "copy.jpg"))
    cache = str(tmp_path / "span-cache")
    everything = _ingest(span_folder, str(tmp_path / "run"), "all", cache)
    assert "span-2/pens/copy.jpg" not in _examples(everything)
    latest = _ingest(span_folder, str(tmp_path / "run"), "latest", cache)
    assert latest.custom_properties["spans_from_cache"].string_value == ""
    assert "span-2/pens/copy.jpg" in _examples(latest)
    _write_span(span_folder, 3, seed=3)
    window = _ingest(span_folder, str(tmp_path / "run"), "2", cache)
    assert window.custom_properties["spans_from_cache"].string_value == "2"
    assert {i: e for i, e in _examples(window).items() if i.startswith("span-2/")} == (
        _examples(latest))


def test_a_photo_repeated_in_a_later_span_is_skipped_as_a_duplicate(span_folder, tmp_path):
    first = sorted(n for n in os.listdir(os.path.join(span_folder, "span-1", "pens"))
                   if n.endswith(".jpg"))[0]
    shutil.copy(os.path.join(span_folder, "span-1", "pens", first),
                os.path.join(span_folder, "span-2", "pens", "copy.jpg"))
    _, _, report = planning.plan(
        span_folder, class_map.from_folders(CLASSES), [("train", 2), ("eval", 1), ("test", 1)],
        7, 10**8, window=spans.resolve(span_folder, "all"))
    skipped = {f.path: f.reason for f in report.skipped_files}
    assert skipped == {"span-2/pens/copy.jpg": photo_folder.DUPLICATE}
    assert report.ingested == 2 * len(CLASSES) * PER_CLASS


def test_the_run_summary_names_the_spans():
    run_summary = results.RunSummary(run_id="r", components={}, spans="2,3")
    assert "  spans trained on: 2, 3" in summary_lib.format_summary(run_summary, 1.0)
    run_summary = results.RunSummary(run_id="r", components={}, spans="1,2,3",
                                     spans_from_cache="1,2")
    assert ("  spans trained on: 1, 2, 3 (ingested now: 3; from the span cache: 1, 2)"
            in summary_lib.format_summary(run_summary, 1.0))
    run_summary = results.RunSummary(run_id="r", components={}, spans="0")
    assert "  spans trained on: 0 (no span folders)" in summary_lib.format_summary(
        run_summary, 1.0)
