"""A Pusher executor that publishes blessed models safely to a TF Serving model folder.

* A version appears all at once: the model is copied to a hidden temporary
  folder beside the versions (TF Serving only loads numeric folders), then
  renamed to its version number.
* Versions only grow: a new version is above every existing one.
* A model that is already the latest version (same Trainer output) is not
  copied again; the push is recorded against that version.
* An unblessed model is never pushed.
* A model card (``model_card.md``, ``.html``, ``.json`` and its PNG
  pictures) is written into the staging folder with the model, from the
  run's records (the Pusher's optional ``examples``, ``model_run`` and
  ``evaluation`` inputs), so a
  version never appears without its card and a published version is never
  written to again.
* A blessed model is held back when SpanDrift's report (the optional
  ``drift`` input) finds the newest span drifted, unless ``accept_drift``:
  the PushedModel then says why (``held_by_drift``), or, when accepted, what
  was accepted (``drift_accepted``).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

import tensorflow as tf
from absl import logging
from tfx import types
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.components.base import base_component, executor_spec
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.types.component_spec import ChannelParameter, ExecutionParameter
from tfx.utils import io_utils, proto_utils

from imagepipe.components import drift as drift_lib
from imagepipe.components import features, pushed_card

PUSH_RECORD = os.path.join("assets.extra", "imagepipe_push.json")
ACCEPT_DRIFT_KEY = "accept_drift"
HELD_PROPERTY = "held_by_drift"  # on the PushedModel: why drift held the push back
ACCEPTED_PROPERTY = "drift_accepted"  # on the PushedModel: the drift a push accepted


def next_version(base_directory: str, now: Optional[float] = None) -> int:
    """Returns a version above every existing one: the Unix time, or latest + 1."""
    versions = features.serving_versions(base_directory)
    candidate = int(now if now is not None else time.time())
    return max([candidate] + [v + 1 for v in versions])


def _push_record(version_dir: str) -> Dict[str, Any]:
    path = os.path.join(version_dir, PUSH_RECORD)
    if not tf.io.gfile.exists(path):
        return {}
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)


def publish(model_path: str, base_directory: str, source: Dict[str, Any],
            beside: Optional[Callable[[str], Mapping[str, Union[str, bytes]]]] = None) -> str:
    """Publishes a SavedModel as a new version under ``base_directory``, atomically.

    Args:
      model_path: the SavedModel folder to publish.
      base_directory: ``<serving_dir>/<model_name>``.
      source: what is published (e.g. the model artifact's URI), recorded in
        ``assets.extra/imagepipe_push.json``; when the latest version records
        the same source, nothing is copied and that version is returned.
      beside: the new version's number -> files (name -> text, or bytes for
        a picture) to write in the version folder beside the SavedModel (the
        model card and its PNGs); written
        while staging, so a version appears with them or not at all.

    Returns:
      The published version's folder.

    Raises:
      FileNotFoundError: ``model_path`` holds no SavedModel; nothing is published.
    """
    if not tf.io.gfile.exists(os.path.join(model_path, "saved_model.pb")):
        raise FileNotFoundError(f"{model_path} is not a SavedModel (no saved_model.pb); "
                                f"nothing was published")
    versions = features.serving_versions(base_directory)
    if versions:
        latest = os.path.join(base_directory, str(versions[-1]))
        if _push_record(latest).get("source") == source:
            logging.info("Model %s is already the latest version %s.", model_path, latest)
            return latest
    tf.io.gfile.makedirs(base_directory)
    staging = os.path.join(base_directory, f".staging-{uuid.uuid4().hex}")
    try:
        io_utils.copy_dir(model_path, staging)
        tf.io.gfile.makedirs(os.path.dirname(os.path.join(staging, PUSH_RECORD)))
        with tf.io.gfile.GFile(os.path.join(staging, PUSH_RECORD), "w") as f:
            json.dump({"source": source, "pushed_at": time.time()}, f, sort_keys=True)
        version = str(next_version(base_directory))
        for name, content in (beside(version) if beside else {}).items():
            with tf.io.gfile.GFile(os.path.join(staging, name),
                                   "wb" if isinstance(content, bytes) else "w") as f:
                f.write(content)
        version_dir = os.path.join(base_directory, version)
        tf.io.gfile.rename(staging, version_dir)
    finally:
        if tf.io.gfile.exists(staging):
            tf.io.gfile.rmtree(staging)
    logging.info("Model written to serving path %s.", version_dir)
    return version_dir


class Executor(pusher_executor.Executor):
    """Pushes blessed models with :func:`publish`, their model card beside them."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        model_push = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(model_push)
            return
        drifted = _drift(input_dict)
        if drifted and not exec_properties.get(ACCEPT_DRIFT_KEY):
            logging.warning("Push held: %s; rerun with --accept-drift to push.", drifted)
            self._MarkNotPushed(model_push)
            model_push.set_string_custom_property(HELD_PROPERTY, drifted)
            return
        push_destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY],
                                  push_destination)
        if push_destination.WhichOneof("destination") != "filesystem":
            raise NotImplementedError("only a filesystem push destination is supported")
        model = artifact_utils.get_single_instance(input_dict[standard_component_specs.MODEL_KEY])
        base_directory = push_destination.filesystem.base_directory
        card = pushed_card.card_files(input_dict, os.path.basename(base_directory.rstrip("/")))
        version_dir = publish(self.GetModelPath(input_dict), base_directory,
                              {"model_uri": model.uri, "model_id": model.id}, card)
        self._MarkPushed(model_push, pushed_destination=version_dir,
                         pushed_version=os.path.basename(version_dir))
        if drifted:
            model_push.set_string_custom_property(ACCEPTED_PROPERTY, drifted)


def _drift(input_dict: Dict[str, List[types.Artifact]]) -> Optional[str]:
    """The drift over the threshold that SpanDrift reported, if any (no ``drift`` input: None)."""
    reports = input_dict.get(pushed_card.DRIFT_KEY) or []
    if not reports:
        return None
    return drift_lib.read_report(reports[0].uri).reason()


class PusherSpec(standard_component_specs.PusherSpec):
    """TFX's Pusher spec, the records of the model card and the drift gate (each optional)."""

    PARAMETERS = {**standard_component_specs.PusherSpec.PARAMETERS,
                  ACCEPT_DRIFT_KEY: ExecutionParameter(type=int, optional=True)}
    INPUTS = {**standard_component_specs.PusherSpec.INPUTS,
              pushed_card.DRIFT_KEY: ChannelParameter(type=standard_artifacts.ExampleAnomalies,
                                          optional=True),
              pushed_card.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples,
                                                         optional=True),
              pushed_card.MODEL_RUN_KEY: ChannelParameter(type=standard_artifacts.ModelRun,
                                                          optional=True),
              pushed_card.EVALUATION_KEY: ChannelParameter(
                  type=standard_artifacts.ModelEvaluation, optional=True)}


class Pusher(base_component.BaseComponent):
    """TFX's Pusher with :class:`Executor`: safe publishing and a model card per version."""

    SPEC_CLASS = PusherSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, model: types.BaseChannel, model_blessing: types.BaseChannel,
                 push_destination: pusher_pb2.PushDestination,
                 examples: Optional[types.BaseChannel] = None,
                 model_run: Optional[types.BaseChannel] = None,
                 evaluation: Optional[types.BaseChannel] = None,
                 drift: Optional[types.BaseChannel] = None, accept_drift: bool = False):
        """Creates the component.

        Args:
          model: the Trainer's model.
          model_blessing: the Evaluator's blessing; an unblessed model is not pushed.
          push_destination: a filesystem destination, ``<serving_dir>/<model_name>``.
          examples: the ExampleGen's examples (their ingest report), for the card.
          model_run: the Trainer's model_run (its training summary), for the card.
          evaluation: the Evaluator's evaluation, for the card.
          drift: SpanDrift's drift report; drift over its threshold holds the push.
          accept_drift: push despite drift (the PushedModel records what was accepted).
        """
        spec = PusherSpec(
            model=model, model_blessing=model_blessing, push_destination=push_destination,
            examples=examples, model_run=model_run, evaluation=evaluation,
            drift=drift, accept_drift=int(accept_drift),
            pushed_model=types.Channel(type=standard_artifacts.PushedModel))
        super().__init__(spec=spec)
