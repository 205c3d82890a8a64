"""A small client of TF Serving's REST API (the real server or ``imagepipe serve``).

    client = ServingClient("http://127.0.0.1:8501", "fashion_mnist")
    client.status()                      # {"model_version_status": [...]}
    client.predict_images([png_bytes])   # [Prediction(class_id=2, class_name="shoes", ...)]

Failures raise :class:`ClientError` subclasses whose message says what went
wrong: the server refused the connection, did not answer in time, or answered
an HTTP error (with TF Serving's ``error`` message). Transient failures --
refused or dropped connections, connect timeouts, HTTP 429/502/503/504 -- are
retried with exponential back-off; read timeouts and other HTTP errors are not.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence

import requests

from imagepipe.components import features

DEFAULT_SERVER = "http://127.0.0.1:8501"
DEFAULT_MODEL = "fashion_mnist"
DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF = 0.25
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


class ClientError(Exception):
    """A request to the server failed; the message says why."""


class ServerUnreachable(ClientError):
    """No connection: refused, dropped, or no answer to the connect in time."""


class ServerTimeout(ClientError):
    """The server accepted the request but did not answer in time."""


class ServerError(ClientError):
    """The server answered an HTTP error; ``status`` and ``message`` hold it."""

    def __init__(self, url: str, status: int, reason: str, message: str):
        super().__init__(f"{url} answered {status} {reason}: {message}")
        self.status = status
        self.message = message


@dataclasses.dataclass(frozen=True)
class Prediction:
    """The model's answer for one image."""

    class_id: int
    class_name: str
    probabilities: List[float]

    @property
    def probability(self) -> float:
        """The probability of the predicted class."""
        return self.probabilities[self.class_id]


def b64_instance(data: bytes) -> Dict[str, str]:
    """Returns ``data`` as a TF Serving binary JSON value, ``{"b64": ...}``."""
    return {"b64": base64.b64encode(data).decode("ascii")}


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or "(no message)"
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return str(body)[:500]


class ServingClient:
    """Talks to one model on a TF Serving REST endpoint.

    Args:
      server: the base URL, e.g. ``http://127.0.0.1:8501``.
      model: the model's name.
      timeout: seconds to wait for an answer.
      retries: how many times a transient failure is retried.
      backoff: seconds before the first retry; doubled for each next one.
      connect_timeout: seconds to wait for the connection.
    """

    def __init__(self, server: str = DEFAULT_SERVER, model: str = DEFAULT_MODEL,
                 timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES,
                 backoff: float = DEFAULT_BACKOFF,
                 connect_timeout: float = DEFAULT_CONNECT_TIMEOUT):
        self.server = server.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.connect_timeout = connect_timeout
        self._session = requests.Session()

    def close(self) -> None:
        """Closes the pooled connections."""
        self._session.close()

    def __enter__(self) -> "ServingClient":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ URLs and transport

    def model_url(self, version: Optional[int] = None, label: Optional[str] = None) -> str:
        """Returns ``<server>/v1/models/<model>[/versions/<v>|/labels/<label>]``."""
        url = f"{self.server}/v1/models/{self.model}"
        if version is not None and label is not None:
            raise ValueError("give a version or a label, not both")
        if version is not None:
            url += f"/versions/{int(version)}"
        elif label is not None:
            url += f"/labels/{label}"
        return url

    def request(self, method: str, url: str, payload: Optional[Any] = None) -> Dict[str, Any]:
        """Sends one request, retrying transient failures; returns the JSON answer.

        Raises:
          ServerUnreachable, ServerTimeout, ServerError: see the module docstring.
        """
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._session.request(method, url, json=payload,
                                                 timeout=(self.connect_timeout, self.timeout))
            except requests.exceptions.ReadTimeout:
                raise ServerTimeout(f"{url} did not answer within {self.timeout:g} s "
                                    f"(--timeout); the request was not retried") from None
            except requests.exceptions.ConnectionError as error:
                if last:
                    raise ServerUnreachable(self._unreachable_message(url, error)) from None
            else:
                if response.status_code not in TRANSIENT_STATUSES or last:
                    return self._answer(url, response)
            time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _unreachable_message(self, url: str, error: Exception) -> str:
        reason = "the connection was refused or dropped"
        if isinstance(error, requests.exceptions.ConnectTimeout):
            reason = f"no connection within {self.connect_timeout:g} s"
        elif "refused" not in str(error).lower():
            reason = f"connection failed ({type(error).__name__})"
        return (f"cannot reach {url}: {reason}, {self.retries + 1} attempts. Is a server "
                f"running there? Start one with `imagepipe serve --model-dir DIR` or TF Serving "
                f"(see docs/serving.md), or pass --server URL.")

    @staticmethod
    def _answer(url: str, response: requests.Response) -> Dict[str, Any]:
        if response.status_code >= 400:
            raise ServerError(url, response.status_code, response.reason,
                              _error_message(response))
        try:
            return response.json()
        except ValueError:
            raise ClientError(f"{url} answered {response.status_code} with a body that is not "
                              f"JSON: {response.text[:200]!r}") from None

    # ------------------------------------------------------------------ the API

    def status(self, version: Optional[int] = None, label: Optional[str] = None
               ) -> Dict[str, Any]:
        """``GET /v1/models/{model}[...]``: the state of the model's versions."""
        return self.request("GET", self.model_url(version, label))

    def metadata(self, version: Optional[int] = None, label: Optional[str] = None
                 ) -> Dict[str, Any]:
        """``GET .../metadata``: the model spec and its signature defs."""
        return self.request("GET", self.model_url(version, label) + "/metadata")

    def predict(self, payload: Dict[str, Any], version: Optional[int] = None,
                label: Optional[str] = None) -> Dict[str, Any]:
        """``POST ...:predict`` with a ready request body (``instances`` or ``inputs``)."""
        return self.request("POST", self.model_url(version, label) + ":predict", payload)

    def classify(self, payload: Dict[str, Any], version: Optional[int] = None,
                 label: Optional[str] = None) -> Dict[str, Any]:
        """``POST ...:classify`` with a ready request body (``examples``)."""
        return self.request("POST", self.model_url(version, label) + ":classify", payload)

    def predict_images(self, images: Sequence[bytes], version: Optional[int] = None,
                       label: Optional[str] = None) -> List[Prediction]:
        """Classifies encoded images (PNG, JPEG...) in one request of the row format."""
        payload = {"signature_name": features.SERVING_SIGNATURE,
                   "instances": [b64_instance(image) for image in images]}
        answer = self.predict(payload, version, label)
        url = self.model_url(version, label) + ":predict"
        rows = answer.get("predictions") if isinstance(answer, dict) else None
        if not isinstance(rows, list) or len(rows) != len(images):
            raise _unexpected(url, answer, f"{{\"predictions\": [...]}} with {len(images)} "
                                           f"rows")
        return [_prediction(url, row, answer) for row in rows]


PREDICTION_KEYS = (features.CLASS_IDS_OUTPUT, features.CLASS_NAMES_OUTPUT,
                   features.PROBABILITIES_OUTPUT)


def _unexpected(url: str, answer: Any, expected: str) -> ClientError:
    shown = json.dumps(answer)
    shown = shown if len(shown) <= 300 else shown[:300] + "..."
    return ClientError(f"{url} answered 200 but not what an imagepipe model answers: expected "
                       f"{expected}, got {shown}. Is the server serving an imagepipe image "
                       f"classifier under this name?")


def _prediction(url: str, row: Any, answer: Any) -> Prediction:
    """One row of a predict answer; a row without the three outputs raises ClientError."""
    expected = "rows with " + ", ".join(PREDICTION_KEYS)
    if not isinstance(row, dict) or any(key not in row for key in PREDICTION_KEYS):
        raise _unexpected(url, answer, expected)
    try:
        prediction = Prediction(
            class_id=int(row[features.CLASS_IDS_OUTPUT]),
            class_name=str(row[features.CLASS_NAMES_OUTPUT]),
            probabilities=[float(p) for p in row[features.PROBABILITIES_OUTPUT]])
        prediction.probability  # pylint: disable=pointless-statement  (the id has a probability)
    except (TypeError, ValueError, IndexError):
        raise _unexpected(url, answer, expected + " (a class id among the probabilities, a "
                                                  "name, a list of numbers)") from None
    return prediction


def batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Yields consecutive slices of ``items`` of at most ``size``."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    for start in range(0, len(items), size):
        yield items[start:start + size]
