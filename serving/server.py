"""A local server that speaks TensorFlow Serving's REST API (Flask app, waitress server).

For machines without Docker or a TF Serving binary; the same clients work
against both. Routes are TF Serving's (``model_servers/http_rest_api_util.cc``):

* ``GET  /v1/models/{name}[/versions/{v}|/labels/{label}]`` -- version status;
* ``GET  /v1/models/{name}[/versions/{v}|/labels/{label}]/metadata`` -- signature defs;
* ``POST /v1/models/{name}[/versions/{v}|/labels/{label}]:predict`` -- row
  (``instances``) or columnar (``inputs``) requests, ``{"b64": ...}`` binary values;
* ``POST ...:classify`` / ``...:regress`` -- classification / regression
  signatures only, with TF Serving's checks and messages.

As in TF Serving, path keywords are case-insensitive (``/V1/MODELS/m``), the
status endpoint lists every version whatever the label (TF Serving's
GetModelStatus reads only a version number), a ``Content-Encoding: gzip`` body
is decompressed, and paths outside ``/v1/`` get 404. A CORS preflight
(``OPTIONS`` with ``Origin``) is allowed for any origin; ``OPTIONS`` without
``Origin`` is a malformed request (400). Failures answer
``{"error": "<message>"}`` with TF Serving's HTTP status (400, 404, ...). A body
over the size limit (compressed or not) gets 413; that limit (32 MiB by
default, ``--max-request-bytes``) is this server's own, as are the pixel limit
of a request's images (:mod:`imagepipe.serving.pixel_limit`, ``--max-pixels``)
and the connection limits (``--connection-limit``, ``--channel-timeout``,
``--backlog``; docs/serving.md). Every failure is answered and the server keeps
serving.
"""

from __future__ import annotations

import dataclasses
import json
import re
import resource
import threading
import zlib
from typing import Any, Dict, Optional, Sequence, Tuple

import flask
import numpy as np
import waitress.server
from absl import logging
from werkzeug import exceptions

from imagepipe.serving import json_tensors, pixel_limit, repository
from imagepipe.serving.status import ServingError, invalid_argument, not_found

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
DEFAULT_MAX_REQUEST_BYTES = 32 * 2**20
DEFAULT_THREADS = 8
DEFAULT_MAX_PIXELS = pixel_limit.DEFAULT_MAX_PIXELS
# Waitress's own defaults (100 connections, idle ones closed after 120 s) let ~100 idle
# connections lock everyone out for two minutes; see docs/decisions/0012-serving-limits.md.
DEFAULT_CONNECTION_LIMIT = 1000
DEFAULT_CHANNEL_TIMEOUT = 30
DEFAULT_BACKLOG = 1024
# Descriptors the server keeps besides its connections (the listener, the wake-up pipe,
# model files, TensorFlow's own).
_SPARE_FILES = 256
_INT64_MAX = 2**63 - 1

PREDICTION_PATH = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?"
    r":(classify|regress|predict)", re.IGNORECASE)
V1_PATH = re.compile(r"/v1(?:/.*)?", re.IGNORECASE | re.DOTALL)
STATUS_PATH = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
    re.IGNORECASE)


def _json_response(payload: Any, status: int = 200) -> flask.Response:
    return flask.Response(json.dumps(payload), status=status, mimetype="application/json")


def _error_response(error: ServingError) -> flask.Response:
    return _json_response({"error": error.message}, error.http_status)


def _with_cors(response: flask.Response, origin: str, preflight: bool = False
               ) -> flask.Response:
    """Allows the requesting origin; a preflight also learns the methods and headers."""
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    if preflight:
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = flask.request.headers.get(
            "Access-Control-Request-Headers", "Content-Type")
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _version_number(text: Optional[str]) -> Optional[int]:
    if text is None:
        return None
    if len(text) > len(str(_INT64_MAX)) or int(text) > _INT64_MAX:
        raise invalid_argument(f"Failed to convert version: {text} to numeric.")
    return int(text)


class RestApi:
    """TF Serving's REST handlers over a set of model repositories.

    Args:
      repositories: the served models.
      max_request_bytes: the largest request body accepted.
      max_pixels: the most pixels the images of one request may hold together.
    """

    def __init__(self, repositories: Sequence[repository.ModelRepository],
                 max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
                 max_pixels: int = DEFAULT_MAX_PIXELS):
        self.repositories = {r.name: r for r in repositories}
        self.max_request_bytes = max_request_bytes
        self.max_pixels = max_pixels

    def dispatch(self, path: str = "") -> flask.Response:
        """Answers one request: TF Serving's API under ``/v1`` (any case), 404 elsewhere."""
        del path  # the full path is matched below, as TF Serving does
        request = flask.request
        if not V1_PATH.fullmatch(request.path):
            return _json_response({"error": f"not found: {request.path}"}, 404)
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and origin:
            return _with_cors(flask.Response(status=204), origin, preflight=True)
        try:
            response = _json_response(self._handle(request.method, request.path))
        except ServingError as error:
            logging.info("%s %s -> %d: %s", request.method, request.path, error.http_status,
                         error.message)
            response = _error_response(error)
        return _with_cors(response, origin) if origin else response

    def _handle(self, method: str, path: str) -> Dict[str, Any]:
        match = PREDICTION_PATH.fullmatch(path) if method == "POST" else None
        if match:
            name, version, label, verb = match.groups()
            return self._prediction(verb.lower(), name, _version_number(version), label)
        match = STATUS_PATH.fullmatch(path) if method == "GET" else None
        if match:
            name, version, label, metadata = match.groups()
            if not name:
                raise invalid_argument("Missing model name in request.")
            return self._model_info(name, _version_number(version), label, bool(metadata))
        raise invalid_argument(f"Malformed request: {method} {path}")

    def _repository(self, name: str, missing: ServingError) -> repository.ModelRepository:
        if name not in self.repositories:
            raise missing
        return self.repositories[name]

    def _body(self) -> bytes:
        length = flask.request.content_length
        if length is not None and length > self.max_request_bytes:
            raise exceptions.RequestEntityTooLarge()
        body = flask.request.get_data(cache=False)
        encoding = flask.request.headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("", "identity"):
            return body
        if encoding not in ("gzip", "x-gzip"):
            raise invalid_argument(f"Unsupported Content-Encoding: {encoding} (gzip or none)")
        return self._gunzip(body)

    def _gunzip(self, body: bytes) -> bytes:
        """Decompresses a gzip body, refusing one that grows past the size limit."""
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = decompressor.decompress(body, self.max_request_bytes + 1)
            if len(data) > self.max_request_bytes or decompressor.unconsumed_tail:
                raise exceptions.RequestEntityTooLarge()
            if not decompressor.eof:
                raise invalid_argument("Failed to decompress the gzip request body: it is "
                                       "truncated")
        except zlib.error as error:
            raise invalid_argument(f"Failed to decompress the gzip request body: "
                                   f"{error}") from None
        return data

    def _prediction(self, verb: str, name: str, version: Optional[int],
                    label: Optional[str]) -> Dict[str, Any]:
        document = json_tensors.parse_document(self._body())
        signature = json_tensors.signature_name(document)
        request_spec = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
        servable = self._repository(
            name, not_found(f"Servable not found for request: {request_spec}")).servable(
                version, label)
        if verb == "predict":
            request_format, inputs = json_tensors.predict_inputs(
                document, servable.input_dtypes(signature), signature)
            pixel_limit.check_request(inputs, self.max_pixels)
            return json_tensors.predict_response(servable.predict(signature, inputs),
                                                 request_format)
        examples = json_tensors.classify_examples(document, method=verb)
        pixel_limit.check_request({"examples": np.array(examples, dtype=object)},
                                  self.max_pixels)
        if verb == "classify":
            return json_tensors.classify_response(*servable.classify(signature, examples))
        return json_tensors.regress_response(servable.regress(signature, examples))

    def _model_info(self, name: str, version: Optional[int], label: Optional[str],
                    metadata: bool) -> Dict[str, Any]:
        if metadata:
            request_spec = (f"Specific({name}, {version})" if version is not None
                            else f"Latest({name})")
            model = self._repository(
                name, not_found(f"Servable not found for request: {request_spec}"))
            return repository.metadata_json(model.servable(version, label))
        model = self._repository(name, not_found(f"Could not find any versions of model {name}"))
        del label  # TF Serving's status reads a version number only: a label lists them all
        return repository.status_json(model.status(version))


def create_app(api: RestApi) -> flask.Flask:
    """Returns the Flask app answering TF Serving's REST API through ``api``."""
    app = flask.Flask("imagepipe.serving.server")
    app.config["MAX_CONTENT_LENGTH"] = api.max_request_bytes
    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
    app.add_url_rule("/", "root", api.dispatch, methods=methods, provide_automatic_options=False)
    app.add_url_rule("/<path:path>", "any", api.dispatch, methods=methods,
                     provide_automatic_options=False)

    @app.errorhandler(exceptions.HTTPException)
    def _http_error(error: exceptions.HTTPException):
        message = error.description
        if isinstance(error, exceptions.RequestEntityTooLarge):
            message = (f"Request body is larger than the limit of {api.max_request_bytes} bytes "
                       f"(imagepipe serve --max-request-bytes)")
        return _json_response({"error": message}, error.code or 500)

    @app.errorhandler(Exception)
    def _internal_error(error: Exception):
        logging.exception("Internal error answering %s %s", flask.request.method,
                          flask.request.path)
        return _json_response({"error": f"Internal error: {type(error).__name__}: {error}"}, 500)

    return app


@dataclasses.dataclass(frozen=True)
class ConnectionLimits:
    """How many connections the server holds and how long an idle one may stay.

    Idle connections cost no worker thread (waitress reads requests in its network
    loop) but each holds a slot: at ``connection_limit`` the server stops accepting
    until one closes, and new connections wait in the ``backlog``.

    Attributes:
      connection_limit: open connections at most.
      channel_timeout: seconds without a byte in either direction after which a
        connection is closed: an idle one, and a request body sent slower than a
        byte per timeout. (A body that keeps trickling is bounded by
        ``--max-request-bytes`` only; it holds a slot, never a worker.)
      backlog: connections the kernel queues while all slots are taken.
    """

    connection_limit: int = DEFAULT_CONNECTION_LIMIT
    channel_timeout: int = DEFAULT_CHANNEL_TIMEOUT
    backlog: int = DEFAULT_BACKLOG

    def waitress_options(self) -> Dict[str, int]:
        """Waitress's settings: these limits, idle connections looked at twice per timeout."""
        # Waitress counts its listener and wake-up pipe among the connections.
        return {"connection_limit": self.connection_limit + 2,
                "channel_timeout": self.channel_timeout, "backlog": self.backlog,
                "cleanup_interval": max(1, min(30, self.channel_timeout // 2))}


def allow_open_files(count: int) -> None:
    """Raises this process's open-file limit towards ``count`` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count if hard == resource.RLIM_INFINITY else min(count, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        logging.info("imagepipe serve: open-file limit raised from %d to %d for %d connections",
                     soft, wanted, count - _SPARE_FILES)


# How long the network loop waits for traffic before it looks whether to stop.
_LOOP_TIMEOUT_SECONDS = 0.2
# How long ``stop`` waits for in-flight requests and for the network loop.
_STOP_TIMEOUT_SECONDS = 5


def _close_all(wsgi_server) -> None:
    """Closes the listening socket and every connection of a waitress server."""
    wsgi_server.close()
    for channel in list(wsgi_server._map.values()):  # pylint: disable=protected-access
        channel.handle_close()


class LocalServer:
    """The REST server of some model repositories, served by waitress in a thread.

    Usable as a context manager; ``stop`` always shuts the server and the
    repositories' polling down.

    Args:
      repositories: the models to serve (started and stopped with the server).
      host: the address to bind; loopback unless told otherwise.
      port: the port; 0 picks a free one (see ``port`` after ``start``).
      max_request_bytes: the largest request body accepted.
      threads: request worker threads.
      max_pixels: the most pixels the images of one request may hold together.
      limits: the connection limits.
    """

    def __init__(self, repositories: Sequence[repository.ModelRepository],
                 host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
                 threads: int = DEFAULT_THREADS, max_pixels: int = DEFAULT_MAX_PIXELS,
                 limits: Optional["ConnectionLimits"] = None):
        self.repositories = list(repositories)
        self.api = RestApi(self.repositories, max_request_bytes, max_pixels)
        self.host, self._port, self.threads = host, port, threads
        self.limits = limits or ConnectionLimits()
        self._server = None
        self._thread: Optional[threading.Thread] = None
        self._stop_lock = threading.Lock()
        self._stopping = False

    @property
    def port(self) -> int:
        """The bound port (after ``start``)."""
        return int(self._server.effective_port) if self._server else self._port

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:8501``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> "LocalServer":
        """Binds the port (failing fast when taken), loads the models, starts answering."""
        self._stopping = False
        try:
            self._server = waitress.server.create_server(
                create_app(self.api), host=self.host, port=self._port, threads=self.threads,
                # Bodies up to twice the limit reach the app, which answers 413 in JSON;
                # waitress refuses larger ones itself.
                max_request_body_size=2 * self.api.max_request_bytes + 2**20,
                ident="imagepipe-serve", **self.limits.waitress_options())
            allow_open_files(self.limits.connection_limit + _SPARE_FILES)
            for model in self.repositories:
                model.start()
        except BaseException:
            self.stop()
            raise
        self._thread = threading.Thread(target=self._serve, name="imagepipe-serve",
                                        daemon=True)
        self._thread.start()
        return self

    def wait(self) -> None:
        """Blocks until the server stops (Ctrl-C interrupts)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def _serve(self) -> None:
        """The network loop (in its own thread) until ``stop``; it then closes every socket.

        The loop, not ``stop``, closes the sockets so that it never polls a closed one.
        """
        wsgi_server = self._server
        sockets = wsgi_server._map  # pylint: disable=protected-access
        while sockets:
            wsgi_server.asyncore.loop(timeout=_LOOP_TIMEOUT_SECONDS, use_poll=True,
                                      map=sockets, count=1)
            with self._stop_lock:
                if self._stopping:
                    _close_all(wsgi_server)
                    return

    def stop(self) -> None:
        """Closes the port and every connection, stops the workers and the polling."""
        if self._server is not None:
            # Workers first: one finishing a response pulls the trigger, which must
            # still be open then. Pending requests are cancelled.
            self._server.task_dispatcher.shutdown(timeout=_STOP_TIMEOUT_SECONDS)
            if self._thread is not None:
                self._stop_serving()
            else:  # bound, never served
                _close_all(self._server)
        for model in self.repositories:
            model.stop()
        self._server, self._thread = None, None

    def _stop_serving(self) -> None:
        """Tells the network loop to close everything and waits for it to end."""
        with self._stop_lock:  # the loop cannot close the trigger while it is pulled
            self._stopping = True
            try:
                self._server.trigger.pull_trigger()  # wakes the loop at once
            except OSError as error:  # its pipe is gone: the loop's timeout wakes it
                logging.warning("imagepipe serve: the server's wake-up pipe failed (%s); "
                                "stopping at the loop's next timeout", error)
        self._thread.join(timeout=_STOP_TIMEOUT_SECONDS)

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc_info: Tuple[Any, ...]) -> None:
        self.stop()
