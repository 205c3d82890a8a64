"""The versions of one model under a TF Serving base path, kept loaded and current.

``<base_path>/<version>/`` folders (numeric names; anything else, such as the
Pusher's hidden staging folders, is ignored) are polled. The window of
``num_versions`` counts only versions that load and warm up: newest first, a
new version is loaded (and warmed up) while the others keep serving, and only
once the window is full of loaded versions are the ones that fell out unloaded,
as TF Serving's availability-preserving policy does. A version that fails to
load (an empty folder, a half-copied one, a bad warm-up) is reported ``END``
with its error, never takes a loaded version's place, and is tried again only
when its folder's contents change. Requests without a version go to the latest
loaded version; version labels name versions (TF Serving's ``version_labels``).

Status and metadata answers are built from TF Serving's own protos, so their
JSON is TF Serving's.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Callable, Dict, List, Mapping, Optional, Tuple

import tensorflow as tf
from absl import logging
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_pb2

from imagepipe.components import features
from imagepipe.serving.servable import Servable
from imagepipe.serving.status import ServingError, invalid_argument, not_found

DEFAULT_NUM_VERSIONS = 2


def folder_fingerprint(path: str) -> Tuple:
    """What a version folder holds: (relative path, size, modification time) of each file.

    A failed version is tried again when this changes (a copy finished, a file fixed).
    """
    entries = []
    if not tf.io.gfile.isdir(path):
        return ()
    for folder, _, files in tf.io.gfile.walk(path):
        for name in files:
            full = f"{folder.rstrip('/')}/{name}"
            stat = tf.io.gfile.stat(full)
            entries.append((full[len(path):], stat.length, stat.mtime_nsec))
    return tuple(sorted(entries))


@dataclasses.dataclass
class VersionStatus:
    """The state of one version as TF Serving reports it."""

    version: int
    state: str  # LOADING, AVAILABLE, UNLOADING or END
    error_code: str = "OK"
    error_message: str = ""


class ModelRepository:
    """Loads, serves and hot-reloads the versions of one model.

    Args:
      name: the model's name in request paths.
      base_path: the folder of version folders, ``<serving_dir>/<model_name>``.
      num_versions: how many of the latest versions stay loaded; 0 loads all.
      labels: version labels, label -> version.
      poll_seconds: how often the base path is scanned for new versions.
      warm_up: whether to replay each version's warm-up requests before it serves.
      loader: builds a Servable from (name, version, path).
    """

    def __init__(self, name: str, base_path: str, num_versions: int = DEFAULT_NUM_VERSIONS,
                 labels: Optional[Mapping[str, int]] = None, poll_seconds: float = 1.0,
                 warm_up: bool = True,
                 loader: Callable[[str, int, str], Servable] = Servable):
        if num_versions < 0:
            raise ValueError(f"num_versions must be 0 (all) or more, got {num_versions}")
        self.name = name
        self.base_path = base_path
        self.num_versions = num_versions
        self.labels = dict(labels or {})
        self.poll_seconds = poll_seconds
        self._warm_up = warm_up
        self._loader = loader
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._loaded: Dict[int, Servable] = {}
        self._states: Dict[int, VersionStatus] = {}
        self._failed_contents: Dict[int, Tuple] = {}  # version -> its folder when it failed
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "ModelRepository":
        """Loads the current versions, then polls for new ones in a background thread."""
        self.refresh()
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name=f"poll-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops polling (loaded versions stay loaded)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception:  # pylint: disable=broad-except
                logging.exception("Polling %s failed; retrying in %.1f s", self.base_path,
                                  self.poll_seconds)

    def refresh(self) -> None:
        """Scans the base path once: loads the window's versions, then unloads the others.

        The window is the newest ``num_versions`` versions that load: a version
        that fails is passed over (and an older one loaded in its place), so a
        broken newer folder never unloads a serving version.
        """
        with self._refresh_lock:
            on_disk = features.serving_versions(self.base_path)
            window: List[int] = []
            for version in reversed(on_disk):  # the latest first
                if self.num_versions and len(window) == self.num_versions:
                    break
                if version not in self._loaded and self._should_load(version):
                    self._load(version)
                if version in self._loaded:
                    window.append(version)
            for version in sorted(self._loaded):
                if version not in window:
                    self._unload(version)

    def _version_path(self, version: int) -> str:
        return f"{self.base_path.rstrip('/')}/{version}"

    def _should_load(self, version: int) -> bool:
        """New versions, unloaded ones back in the window, failed ones whose folder changed."""
        state = self._states.get(version)
        if state is None or (state.state == "END" and state.error_code == "OK"):
            return True
        if state.state == "END":
            return self._failed_contents.get(version) != folder_fingerprint(
                self._version_path(version))
        return False

    def _set_state(self, version: int, state: str, error: Optional[ServingError] = None) -> None:
        with self._lock:
            self._states[version] = VersionStatus(
                version, state, error.code if error else "OK", error.message if error else "")

    def _load(self, version: int) -> None:
        path = self._version_path(version)
        contents = folder_fingerprint(path)
        self._set_state(version, "LOADING")
        try:
            servable = self._loader(self.name, version, path)
            warmed = servable.warm_up() if self._warm_up else 0
        except Exception as error:  # pylint: disable=broad-except
            failure = error if isinstance(error, ServingError) else ServingError(
                "UNKNOWN", f"{type(error).__name__}: {error}")
            logging.error("Loading version %d of model %s from %s failed (tried again when "
                          "the folder changes): %s", version, self.name, path, failure)
            self._failed_contents[version] = contents
            self._set_state(version, "END", failure)
            return
        self._failed_contents.pop(version, None)
        with self._lock:
            self._loaded[version] = servable
        self._set_state(version, "AVAILABLE")
        logging.info("Model %s version %d is AVAILABLE (%s; %d warm-up requests).", self.name,
                     version, path, warmed)

    def _unload(self, version: int) -> None:
        self._set_state(version, "UNLOADING")
        with self._lock:
            self._loaded.pop(version, None)
        self._set_state(version, "END")
        logging.info("Model %s version %d unloaded.", self.name, version)

    # ------------------------------------------------------------------ requests

    def _label_version(self, label: str) -> int:
        if label not in self.labels:
            raise invalid_argument(f"Unrecognized servable version label: {label}")
        return self.labels[label]

    def servable(self, version: Optional[int] = None, label: Optional[str] = None) -> Servable:
        """Returns the loaded version asked for: ``version``, ``label``'s or the latest.

        Raises:
          ServingError: NOT_FOUND when that version is not loaded,
            INVALID_ARGUMENT for an unknown label or both version and label.
        """
        if version is not None and label is not None:
            raise invalid_argument(f"Both model version ({version}) and model version label "
                                   f"({label}) cannot be supplied.")
        if label is not None:
            version = self._label_version(label)
        with self._lock:
            if version is None:
                if not self._loaded:
                    raise not_found(f"Servable not found for request: Latest({self.name})")
                return self._loaded[max(self._loaded)]
            if version not in self._loaded:
                raise not_found(f"Servable not found for request: Specific({self.name}, "
                                f"{version})")
            return self._loaded[version]

    def status(self, version: Optional[int] = None, label: Optional[str] = None
               ) -> List[VersionStatus]:
        """Returns the state of one version (``version`` or ``label``'s) or of all known ones."""
        if label is not None:
            version = self._label_version(label)
        with self._lock:
            states = dict(self._states)
        if version is not None:
            if version not in states:
                raise not_found(f"Could not find version {version} of model {self.name}")
            return [states[version]]
        if not states:
            raise not_found(f"Could not find any versions of model {self.name}")
        return [states[v] for v in sorted(states, reverse=True)]


def _message_to_dict(message) -> dict:
    """The message's JSON with its default-valued fields, as TF Serving prints them."""
    try:
        return json_format.MessageToDict(message, always_print_fields_with_no_presence=True,
                                         preserving_proto_field_name=True)
    except TypeError:  # protobuf < 5.26 (the TFX 1.16 stack) names the option differently
        return json_format.MessageToDict(message, including_default_value_fields=True,
                                         preserving_proto_field_name=True)


def status_json(statuses: List[VersionStatus]) -> dict:
    """The JSON of a GetModelStatusResponse, as TF Serving's ``GET /v1/models/{name}``."""
    response = get_model_status_pb2.GetModelStatusResponse()
    for status in statuses:
        entry = response.model_version_status.add()
        entry.version = status.version
        entry.state = get_model_status_pb2.ModelVersionStatus.State.Value(status.state)
        code_enum = entry.status.DESCRIPTOR.fields_by_name["error_code"].enum_type
        entry.status.error_code = code_enum.values_by_name[status.error_code].number
        entry.status.error_message = status.error_message
    return _message_to_dict(response)


def metadata_json(servable: Servable) -> dict:
    """The JSON of TF Serving's ``GET /v1/models/{name}/metadata``: the signature defs."""
    spec = model_pb2.ModelSpec(name=servable.name, signature_name="")
    spec.version.value = servable.version
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for key, signature in servable.signature_defs.items():
        signature_map.signature_def[key].CopyFrom(signature)
    return {"model_spec": _message_to_dict(spec),
            "metadata": {"signature_def": _message_to_dict(signature_map)}}
