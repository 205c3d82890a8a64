"""The TF Serving compose file and models.config agree with each other and with the pipeline."""

import os

import yaml
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from imagepipe.pipeline import config as config_lib
from imagepipe.serving import repository

SERVING = os.path.join(os.path.dirname(__file__), "..", "..", "serving")


def load_models_config() -> model_server_config_pb2.ModelServerConfig:
    with open(os.path.join(SERVING, "models.config")) as f:
        return text_format.Parse(f.read(), model_server_config_pb2.ModelServerConfig())


def load_compose() -> dict:
    with open(os.path.join(SERVING, "docker-compose.yml")) as f:
        return yaml.safe_load(f)["services"]["tf-serving"]


def test_models_config_serves_the_pushed_model_like_the_local_server():
    [model] = load_models_config().model_config_list.config
    name = config_lib.PipelineConfig.__dataclass_fields__["serving_model_name"].default
    assert model.name == name and model.base_path == f"/models/{name}"
    assert model.model_platform == "tensorflow"
    assert model.model_version_policy.latest.num_versions == repository.DEFAULT_NUM_VERSIONS


def pinned_version(stack: str, package: str) -> str:
    with open(os.path.join(SERVING, "..", "constraints", f"{stack}.txt")) as f:
        pins = dict(line.strip().split("==") for line in f if "==" in line)
    return pins[package]


def test_compose_runs_the_official_image_of_the_stacks_serving_api_on_loopback_ports():
    service = load_compose()
    image, tag = service["image"].split(":", 1)
    assert image == "tensorflow/serving"
    # ${TF_SERVING_TAG:-2.16.1}: the default is the TFX 1.16 stack's TF Serving, docs/serving.md's
    # tag for the TFX 1.21 stack its own (TF Serving's newest release, older than its TF).
    default_tag = pinned_version("tfx-1.16", "tensorflow-serving-api")
    assert tag == "${TF_SERVING_TAG:-%s}" % default_tag
    assert default_tag.split(".")[:2] == pinned_version("tfx-1.16", "tensorflow").split(".")[:2]
    assert f"TF_SERVING_TAG={pinned_version('tfx-1.21', 'tensorflow-serving-api')}" in open(
        os.path.join(SERVING, "docker-compose.yml")).read()
    assert service["ports"] == ["127.0.0.1:8501:8501", "127.0.0.1:8500:8500"]
    mounts = {volume.rsplit(":", 2)[1]: volume for volume in service["volumes"]}
    assert "/models" in mounts
    config_flag = next(c for c in service["command"] if c.startswith("--model_config_file="))
    assert config_flag.split("=")[1] in mounts
    assert mounts[config_flag.split("=")[1]].startswith("./models.config:")
