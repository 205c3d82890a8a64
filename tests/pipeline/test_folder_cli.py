"""`imagepipe inspect` and `imagepipe run folder`: output, configs and clear errors."""

import json
import os

import pytest

from imagepipe.data import photo_folder
from imagepipe.testing import photo_fixtures
from imagepipe.components.sources import photo_folder as folder_source
from imagepipe.pipeline import cli
from imagepipe.pipeline.commands import run


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("cli") / "My Photos")
    folder = photo_fixtures.write_messy_folder(root, per_class=8, seed=2,
                                               left_out_folder="other")
    yield folder
    photo_fixtures.remove(root)


def test_inspect_prints_classes_counts_and_every_skipped_file(messy, capsys):
    assert cli.main(["inspect", messy.root]) == 0
    out = capsys.readouterr().out
    assert f"imagepipe inspect: {messy.root} (dry run" in out
    assert f"{messy.seen} entries seen = {len(messy.expected_photos) + 3} ingested + " in out
    assert "(one class per sub-folder)" in out
    for path in messy.expected_skipped:
        if not path.startswith("other/"):  # without a class map, other/ is a class
            assert f"      {path} " in out, path
    assert "    markers  markers" in out and "✔ ready: 4 classes" in out


def test_inspect_with_a_class_map_leaves_folders_out(messy, tmp_path, capsys):
    mapping = tmp_path / "classes.yaml"
    mapping.write_text("markers: markers\nwriting: [pencils, pens]\n")
    assert cli.main(["inspect", messy.root, "--class-map", str(mapping)]) == 0
    out = capsys.readouterr().out
    assert "(classes from the class map)" in out
    assert "writing  pencils, pens" in out
    assert "other/IMG_0001.jpg" in out and "left out by the class map 3" in out


def test_inspect_json_is_the_report(messy, capsys):
    assert cli.main(["inspect", messy.root, "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["seen"] == report["ingested"] + report["skipped"] == messy.seen
    assert set(report["splits"]) == {"train", "eval", "test"}


def test_inspect_says_when_a_run_would_stop(tmp_path, capsys):
    root = tmp_path / "photos"
    photo_fixtures.write_photo_folder(str(root), ("a", "b"), per_class=4, seed=1,
                                      variants=["png_rgb"])
    (root / "c").mkdir()
    (root / "c" / "x.jpg").write_bytes(b"")
    assert cli.main(["inspect", str(root)]) == 1
    out = capsys.readouterr().out
    assert "✘ `imagepipe run folder` would stop:" in out
    assert "class 'c' has no usable image: 1 file skipped (c/x.jpg: empty)" in out


def test_inspect_and_run_name_a_missing_folder_or_bad_class_map(tmp_path, capsys):
    assert cli.main(["inspect", str(tmp_path / "nowhere")]) == 2
    assert f"photo folder not found: {tmp_path / 'nowhere'}" in capsys.readouterr().err
    bad = tmp_path / "map.json"
    bad.write_text("{not json")
    assert cli.main(["run", "folder", str(tmp_path), "--class-map", str(bad),
                     "--output", str(tmp_path / "out")]) == 2
    assert f"class map {bad}: not valid JSON/YAML" in capsys.readouterr().err


def test_run_folder_builds_the_config_from_arguments(messy, tmp_path):
    mapping = tmp_path / "classes.json"
    mapping.write_text(json.dumps({"pens": ["pens"], "markers": ["markers", "pencils"]}))
    args = cli.build_parser().parse_args([
        "run", "folder", messy.root, "--class-map", str(mapping), "--image-size", "96",
        "--resize", "crop", "--epochs", "4", "--max-pixels", "5000000", "--output",
        str(tmp_path / "out"), "--min-accuracy", "0.6", "--balance", "none"])
    pipeline_config = run.build_config(args)
    data = pipeline_config.data
    assert data.source == "folder" and data.data_dir == messy.root
    assert data.class_names == ("pens", "markers")
    assert data.class_map == (("pens", ("pens",)), ("markers", ("markers", "pencils")))
    assert (data.image_size, data.resize_mode, data.max_pixels) == (96, "crop", 5_000_000)
    assert pipeline_config.serving_model_name == "my-photos"
    assert pipeline_config.pipeline_name == "imagepipe-folder-my-photos"
    assert pipeline_config.training.epochs == 4 and pipeline_config.training.balance == "none"
    assert pipeline_config.evaluation.min_accuracy == 0.6


def test_run_folder_defaults_to_one_class_per_sub_folder(messy, tmp_path):
    args = cli.build_parser().parse_args(["run", "folder", messy.root, "--output",
                                          str(tmp_path)])
    pipeline_config = run.build_config(args)
    assert pipeline_config.data.class_names == ("markers", "other", "pencils", "pens")
    assert pipeline_config.data.image_size == 224 and pipeline_config.training.epochs == 30
    # The pretrained model with its installed ImageNet weights is a folder's default.
    assert pipeline_config.training.model_name == "efficientnet_lite0"
    assert pipeline_config.training.model_options.weights == "imagenet"


@pytest.mark.parametrize("flags,size", [
    (["--model", "efficientnet_lite2"], 260),  # the side Lite2's ImageNet weights know
    (["--model", "efficientnet_lite2", "--image-size", "128"], 128),  # the user's choice wins
    (["--model", "efficientnet_lite0"], 224), (["--model", "arch5"], 224),
])
def test_a_pretrained_model_sets_the_image_size_to_its_native_side(messy, tmp_path, flags,
                                                                    size):
    args = cli.build_parser().parse_args(["run", "folder", messy.root, *flags, "--output",
                                          str(tmp_path)])
    assert run.build_config(args).data.image_size == size


def test_another_model_drops_the_folder_default_weights_but_keeps_given_ones(messy, tmp_path):
    def training(*flags):
        args = cli.build_parser().parse_args(["run", "folder", messy.root, *flags, "--output",
                                              str(tmp_path)])
        return run.build_config(args).training

    assert training("--model", "arch5").model_options.weights == "none"  # arch5 takes none
    assert training("--model", "resnet50").model_options.weights == "imagenet"
    assert training("--weights", "none").model_options.weights == "none"
    assert cli.main(["run", "folder", messy.root, "--model", "arch5", "--weights", "imagenet",
                     "--output", str(tmp_path / "refused")]) == 2  # given: still refused


def test_run_folder_refuses_an_unknown_model(messy, tmp_path, capsys):
    assert cli.main(["run", "folder", messy.root, "--model", "vgg", "--output",
                     str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'vgg'" in err and "arch5" in err


def test_serving_names_are_safe():
    assert folder_source.serving_name("/data/My Photos/") == "my-photos"
    assert folder_source.serving_name("gs://bucket/pens_2024") == "pens_2024"
    assert folder_source.serving_name("/") == "photos"


def test_photo_fixture_command_writes_a_messy_folder(tmp_path, capsys):
    out = tmp_path / "demo"
    assert photo_fixtures.main([str(out), "--per-class", "3", "--min-width", "64",
                                "--max-width", "80"]) == 0
    assert "9 good photos in 3 classes" in capsys.readouterr().out
    scan = photo_folder.scan(str(out))
    assert len(scan.photos) == 9 and os.path.isdir(out / "pens")
    photo_fixtures.remove(str(out))


def test_weights_and_augment_reach_the_model_options(messy, tmp_path):
    weights = tmp_path / "resnet50.h5"
    weights.write_bytes(b"weights")
    args = cli.build_parser().parse_args([
        "run", "folder", messy.root, "--model", "resnet50", "--weights", str(weights),
        "--augment", "--output", str(tmp_path)])
    options = run.build_config(args).training.model_options
    assert options.weights == str(weights) and options.augment


def test_weights_and_augment_are_refused_where_they_do_nothing(messy, tmp_path, capsys):
    assert cli.main(["run", "folder", messy.root, "--model", "arch5", "--augment", "--output",
                     str(tmp_path)]) == 2
    assert ("model 'arch5' does not take --augment; models that do: efficientnet_lite0, "
            "efficientnet_lite0_lite2, efficientnet_lite2, resnet50") in capsys.readouterr().err
    assert cli.main(["run", "folder", messy.root, "--model", "resnet50", "--weights",
                     str(tmp_path / "missing.h5"), "--output", str(tmp_path)]) == 2
    assert f"weights file not found: {tmp_path / 'missing.h5'}" in capsys.readouterr().err


def test_inspect_and_run_agree_on_a_one_class_folder(tmp_path, capsys):
    root = tmp_path / "one"
    photo_fixtures.write_photo_folder(str(root), ("pens",), per_class=4, seed=1,
                                      variants=["png_rgb"])
    assert cli.main(["inspect", str(root)]) == 1
    inspected = capsys.readouterr().out
    assert cli.main(["run", "folder", str(root), "--output", str(tmp_path / "out")]) == 2
    refused = capsys.readouterr().err
    message = "a classifier needs at least 2 classes, the folder has 1 ('pens')"
    assert message in inspected and message in refused
    assert not (tmp_path / "out").exists()


def test_inspect_and_ingestion_agree_on_a_two_image_folder(tmp_path, capsys):
    from imagepipe.components.folder_ingest import planning
    root = tmp_path / "two"
    photo_fixtures.write_photo_folder(str(root), ("a", "b"), per_class=1, seed=1,
                                      variants=["png_rgb"])
    assert cli.main(["inspect", str(root)]) == 1
    inspected = capsys.readouterr().out
    message = "class 'a' has 1 usable image; each of the 3 splits (train, eval, test) needs"
    assert message in inspected
    with pytest.raises(photo_folder.FolderError, match=message.replace("(", r"\(").replace(
            ")", r"\)")):
        planning.plan(str(root), (("a", ("a",)), ("b", ("b",))),
                      (("train", 14), ("eval", 3), ("test", 3)), 1001, 10**8)


def test_run_folder_on_a_file_says_it_is_a_file(tmp_path, capsys):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"x")
    assert cli.main(["run", "folder", str(path), "--output", str(tmp_path / "out")]) == 2
    assert f"{path} is a file, not a folder" in capsys.readouterr().err


def test_mirror_is_refused_where_it_does_nothing(messy, tmp_path, capsys):
    for flags in (["--weights", "none"], ["--augment"]):
        assert cli.main(["run", "folder", messy.root, "--mirror", *flags, "--output",
                         str(tmp_path / "out")]) == 2
        assert "--mirror adds mirrored features for a frozen base's head" in \
            capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_broken_weights_file_is_refused_before_the_pipeline_starts(messy, tmp_path, capsys):
    broken = tmp_path / "lite0.pth"
    broken.write_text("not a state dict")
    assert cli.main(["run", "folder", messy.root, "--weights", str(broken), "--output",
                     str(tmp_path / "out")]) == 2
    assert f"{broken}: not a readable PyTorch state dict" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_missing_or_file_classify_folder_is_refused_before_the_pipeline_starts(
        messy, tmp_path, capsys):
    missing = tmp_path / "unlabelled"
    a_file = tmp_path / "photo.jpg"
    a_file.write_bytes(b"x")
    for path, what in ((missing, "not found"), (a_file, "is a file, not a folder")):
        assert cli.main(["run", "folder", messy.root, "--classify", str(path), "--output",
                         str(tmp_path / "out")]) == 2
        assert f"--classify folder {what}: {path}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
