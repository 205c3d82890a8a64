"""data/classification_rows.py: the rows' CSV, JSON Lines and skipped list, written whole."""

import csv
import json

from imagepipe.data import classification_rows as rows_lib
from imagepipe.pipeline.classify import rows as classify_rows

NAMES = ("upper", "lower", "shoes")
ROWS = [rows_lib.Row("a/1.png", "lower", (0.25, 0.5, 0.25)),
        rows_lib.Row("b/2.jpg", skipped="not_an_image", detail="cannot identify image file"),
        rows_lib.Row("3.png", "shoes", (0.0, 0.125, 0.875))]


def test_the_three_files_hold_every_row_and_the_skipped_list(tmp_path):
    prefix = str(tmp_path / "classifications")
    written = rows_lib.write_files(prefix, NAMES, ROWS)

    assert written == [prefix + ".csv", prefix + ".jsonl", prefix + ".skipped.csv"]
    with open(written[0], encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == ["path", "class", "p_upper", "p_lower", "p_shoes", "skipped"]
    assert table[1:] == [["a/1.png", "lower", "0.25", "0.5", "0.25", ""],
                         ["b/2.jpg", "", "not_an_image"],
                         ["3.png", "shoes", "0", "0.125", "0.875", ""]]
    with open(written[1], encoding="utf-8") as f:
        values = [json.loads(line) for line in f]
    assert values[0] == {"path": "a/1.png", "class": "lower",
                         "probabilities": {"upper": 0.25, "lower": 0.5, "shoes": 0.25}}
    assert [rows_lib.Row.from_json(value, NAMES) for value in values] == ROWS
    with open(written[2], encoding="utf-8", newline="") as f:
        assert list(csv.reader(f)) == [["path", "reason", "detail"],
                                       ["b/2.jpg", "not_an_image", "cannot identify image file"]]


def test_classify_folder_writes_the_same_text(tmp_path):
    writer = classify_rows.RowWriter(str(tmp_path / "resumable"),
                                     {"class_names": list(NAMES), "folder": "f"})
    assert writer.resume() == set()
    writer.append(ROWS)
    resumable = writer.close()
    whole = rows_lib.write_files(str(tmp_path / "whole"), NAMES, ROWS)
    for mine, theirs in zip(resumable, whole):
        with open(mine, encoding="utf-8") as a, open(theirs, encoding="utf-8") as b:
            assert a.read() == b.read()
    assert classify_rows.Row is rows_lib.Row
