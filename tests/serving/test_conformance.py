"""Details where the local server answers as TF Serving does: paths, labels, gzip, CORS."""

import gzip
import json
import os

import pytest
import requests

from imagepipe.serving import repository, server
from tests.serving.test_classify import MODEL, write_classify_model

PREDICT = {"instances": [[1.0], [3.0]]}


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("models") / MODEL)
    for version in (1, 2):
        write_classify_model(os.path.join(base, str(version)))
    model = repository.ModelRepository(MODEL, base, labels={"stable": 1})
    with server.LocalServer([model], port=0, max_request_bytes=4096) as local:
        yield local.url


def _post(url, path, body: bytes, **headers):
    return requests.post(url + path, data=body, headers=headers, timeout=30)


def test_path_keywords_are_case_insensitive(url):
    answer = requests.post(f"{url}/V1/MODELS/{MODEL}/VERSIONS/1:PREDICT", json=PREDICT,
                           timeout=30)
    assert answer.status_code == 200 and answer.json() == {"predictions": [[2.5], [3.5]]}
    status = requests.get(f"{url}/v1/Models/{MODEL}", timeout=30)
    assert status.status_code == 200 and len(status.json()["model_version_status"]) == 2


def test_the_status_of_a_label_lists_every_version_known_or_not(url):
    for label in ("stable", "UNKNOWN"):
        answer = requests.get(f"{url}/v1/models/{MODEL}/labels/{label}", timeout=30)
        assert answer.status_code == 200, answer.text
        versions = [int(s["version"]) for s in answer.json()["model_version_status"]]
        assert versions == [2, 1]


def test_a_gzip_body_is_decompressed(url):
    body = gzip.compress(json.dumps(PREDICT).encode())
    answer = _post(url, f"/v1/models/{MODEL}:predict", body, **{
        "Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert answer.status_code == 200 and answer.json() == {"predictions": [[2.5], [3.5]]}


def test_a_broken_or_oversized_gzip_body_is_refused_clearly(url):
    broken = _post(url, f"/v1/models/{MODEL}:predict", b"\x1f\x8bnot gzip",
                   **{"Content-Encoding": "gzip"})
    assert broken.status_code == 400
    assert "Failed to decompress the gzip request body" in broken.json()["error"]
    cut = _post(url, f"/v1/models/{MODEL}:predict",
                gzip.compress(json.dumps(PREDICT).encode())[:-12], **{"Content-Encoding": "gzip"})
    assert cut.status_code == 400 and "truncated" in cut.json()["error"]
    bomb = gzip.compress(b" " * 100_000)  # 100 kB of spaces: a few hundred bytes compressed
    too_big = _post(url, f"/v1/models/{MODEL}:predict", bomb, **{"Content-Encoding": "gzip"})
    assert too_big.status_code == 413 and "larger than the limit of 4096" in \
        too_big.json()["error"]
    other = _post(url, f"/v1/models/{MODEL}:predict", b"{}", **{"Content-Encoding": "br"})
    assert other.status_code == 400 and "Unsupported Content-Encoding: br" in \
        other.json()["error"]


def test_cors_preflight_needs_an_origin(url):
    path = f"{url}/v1/models/{MODEL}:predict"
    bare = requests.options(path, timeout=30)
    assert bare.status_code == 400
    assert bare.json() == {"error": f"Malformed request: OPTIONS /v1/models/{MODEL}:predict"}
    preflight = requests.options(path, timeout=30, headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    answer = requests.post(path, json=PREDICT, timeout=30,
                           headers={"Origin": "https://app.example"})
    assert answer.headers["Access-Control-Allow-Origin"] == "https://app.example"


def test_paths_outside_v1_are_not_found(url):
    assert requests.get(f"{url}/metrics", timeout=30).status_code == 404
    assert requests.post(f"{url}/models/{MODEL}:predict", json=PREDICT,
                         timeout=30).status_code == 404
