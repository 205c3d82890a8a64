"""One loaded version of a SavedModel, run the way TF Serving runs it.

* ``predict`` runs any signature on named input arrays, checking input names
  and shapes against the SignatureDef first;
* ``classify`` runs a classification signature (method name
  ``tensorflow/serving/classify``: serialized tf.Examples in ``inputs``,
  ``classes`` and/or ``scores`` out) and, like TF Serving, refuses any other
  signature with TF Serving's own message;
* ``warm_up`` replays ``assets.extra/tf_serving_warmup_requests`` as TF
  Serving does before a version becomes AVAILABLE.
"""

from __future__ import annotations

import os
import re
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2
from tensorflow_serving.apis import prediction_log_pb2

from imagepipe.components import features
from imagepipe.serving.status import ServingError, invalid_argument

DEFAULT_SIGNATURE = features.SERVING_SIGNATURE  # TF Serving's kDefaultServingSignatureDefKey
SERVE_TAG = "serve"
CLASSIFY_METHOD = "tensorflow/serving/classify"
CLASSIFY_INPUTS = "inputs"
CLASSIFY_CLASSES = "classes"
CLASSIFY_SCORES = "scores"
REGRESS_METHOD = "tensorflow/serving/regress"
REGRESS_INPUTS = "inputs"
REGRESS_OUTPUTS = "outputs"
# TF Serving's fixed location of warm-up requests inside a version folder.
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
MAX_WARMUP_RECORDS = 1000  # TF Serving's limit


def read_signature_defs(path: str) -> Dict[str, meta_graph_pb2.SignatureDef]:
    """Returns the SignatureDefs of the ``serve`` MetaGraph of the SavedModel at ``path``."""
    saved_model = saved_model_pb2.SavedModel()
    with tf.io.gfile.GFile(os.path.join(path, "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    for meta_graph in saved_model.meta_graphs:
        if SERVE_TAG in meta_graph.meta_info_def.tags:
            return dict(meta_graph.signature_def)
    raise invalid_argument(f"SavedModel {path} has no MetaGraph tagged '{SERVE_TAG}'")


def op_error_message(error: tf.errors.OpError) -> str:
    """Returns the core of a TF runtime error: the op's message and node, no Python preamble."""
    lines = error.message.strip().splitlines()
    if lines and lines[0].startswith("Graph execution error"):
        start = next((i for i, line in enumerate(lines) if line.startswith("Detected at node")), 0)
        lines = lines[start + 1:]
        while lines and (not lines[0].strip() or lines[0].startswith((" ", "<stack traces"))):
            lines = lines[1:]
    message = "\n".join(lines)
    return re.sub(r"\s*\[Op:[^\]]*\]\s*$", "", message) or error.message


def _shape_string(dims: Sequence[int]) -> str:
    return "[" + ",".join(str(d) for d in dims) + "]"


def _check_shape(name: str, signature: str, array: np.ndarray,
                 info: meta_graph_pb2.TensorInfo) -> None:
    if info.tensor_shape.unknown_rank:
        return
    expected = [d.size for d in info.tensor_shape.dim]
    matches = len(expected) == array.ndim and all(
        e < 0 or e == a for e, a in zip(expected, array.shape))
    if not matches:
        raise invalid_argument(
            f"input {name} of signature {signature} has shape {_shape_string(array.shape)} but "
            f"the model expects {_shape_string(expected)} (-1: any size)")


def _check_input_names(servable: str, signature: meta_graph_pb2.SignatureDef,
                       inputs: Mapping[str, np.ndarray]) -> None:
    expected = set(signature.inputs)
    for alias in inputs:
        if alias not in expected:
            raise invalid_argument(f"input tensor alias not found in signature: {alias}. Inputs "
                                   f"expected to be in the set {{{','.join(sorted(expected))}}}.")
    missing = expected - set(inputs)
    if missing:
        raise invalid_argument(f"Request inputs do not match required inputs for model "
                               f"`{servable}`. Send extra: {{}}. Missing but required: "
                               f"{{{','.join(sorted(missing))}}}.")


def _check_method_and_input(signature: meta_graph_pb2.SignatureDef, method: str,
                            kind: str) -> None:
    """The checks TF Serving's classifier and regressor share: the method, one input."""
    if signature.method_name != method:
        raise invalid_argument(f"Expected {kind} signature method_name to be {method}. Was: "
                               f"{signature.method_name}")
    if len(signature.inputs) != 1:
        raise invalid_argument("Expected one input Tensor.")


def _check_classification_signature(signature: meta_graph_pb2.SignatureDef) -> None:
    _check_method_and_input(signature, CLASSIFY_METHOD, "classification")
    if len(signature.outputs) not in (1, 2):
        raise invalid_argument(f"Expected one or two output Tensors, found "
                               f"{len(signature.outputs)}")
    if CLASSIFY_INPUTS not in signature.inputs:
        raise invalid_argument(f"No classification inputs found in SignatureDef: {signature}")
    if CLASSIFY_CLASSES not in signature.outputs and CLASSIFY_SCORES not in signature.outputs:
        raise invalid_argument(f'Expected classification signature outputs to contain at least '
                               f'one of "{CLASSIFY_CLASSES}" or "{CLASSIFY_SCORES}". Signature '
                               f'was: {signature}')


def _check_regression_signature(signature: meta_graph_pb2.SignatureDef) -> None:
    """TF Serving's checks of a regression signature (``servables/tensorflow/regressor.cc``)."""
    _check_method_and_input(signature, REGRESS_METHOD, "regression")
    if len(signature.outputs) != 1:
        raise invalid_argument("Expected one output Tensor.")
    if REGRESS_INPUTS not in signature.inputs:
        raise invalid_argument(f"No regression inputs found in SignatureDef: {signature}")
    if REGRESS_OUTPUTS not in signature.outputs:
        raise invalid_argument(f"No regression outputs found in SignatureDef: {signature}")


def _check_classification_output(name: str, array: Optional[np.ndarray], kind: str,
                                  num_examples: int) -> None:
    if array is None:
        return
    if array.ndim != 2:
        raise invalid_argument(f"Expected Tensor shape: [batch_size num_classes] but got "
                               f"{list(array.shape)}")
    if (kind == "string") != (array.dtype == object):
        raise invalid_argument(f"Expected {name} Tensor of DT_{kind.upper()}. Got: {array.dtype}")
    if array.shape[0] != num_examples:
        raise invalid_argument(f"Expected {name} output batch size of {num_examples}. "
                               f"Got: {array.shape[0]}")


class Servable:
    """A loaded version of a model: its signatures, ready to run.

    Args:
      name: the model's name.
      version: the version number.
      path: the version's SavedModel folder.
    """

    def __init__(self, name: str, version: int, path: str):
        self.name = name
        self.version = version
        self.path = path
        self.signature_defs = read_signature_defs(path)
        self._model = tf.saved_model.load(path, tags=[SERVE_TAG])

    def __repr__(self) -> str:
        return f"Servable({self.name!r}, {self.version})"

    def signature_def(self, name: str = "") -> meta_graph_pb2.SignatureDef:
        """Returns the SignatureDef called ``name`` (empty: the default signature)."""
        key = name or DEFAULT_SIGNATURE
        if key not in self.signature_defs or key not in self._model.signatures:
            raise invalid_argument(f'Serving signature name: "{key}" not found in signature def')
        return self.signature_defs[key]

    def input_dtypes(self, signature: str = "") -> Dict[str, tf.dtypes.DType]:
        """Returns the inputs of a signature, name -> dtype."""
        return {name: tf.dtypes.as_dtype(info.dtype)
                for name, info in self.signature_def(signature).inputs.items()}

    def predict(self, signature: str, inputs: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Runs a signature on named arrays; returns its outputs by name.

        Raises:
          ServingError: INVALID_ARGUMENT for an unknown signature, wrong input
            names or shapes, or input the model rejects (e.g. bytes that are
            not an image); the code of the TF error otherwise.
        """
        key = signature or DEFAULT_SIGNATURE
        signature_def = self.signature_def(key)
        _check_input_names(self.name, signature_def, inputs)
        for name, array in inputs.items():
            _check_shape(name, key, array, signature_def.inputs[name])
        return self._run(key, inputs)

    def classify(self, signature: str, examples: Sequence[bytes]
                 ) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """Runs a classification signature on serialized tf.Examples.

        Returns:
          ``classes`` (string [batch, num_classes]) and ``scores`` (float
          [batch, num_classes]); either may be None when the signature lacks it.
        """
        key = signature or DEFAULT_SIGNATURE
        if key not in self.signature_defs:
            raise invalid_argument(f"No signature was found with the name: {key}")
        signature_def = self.signature_defs[key]
        _check_classification_signature(signature_def)
        outputs = self._run(key, {CLASSIFY_INPUTS: np.array(list(examples), dtype=object)})
        classes, scores = outputs.get(CLASSIFY_CLASSES), outputs.get(CLASSIFY_SCORES)
        _check_classification_output(CLASSIFY_CLASSES, classes, "string", len(examples))
        _check_classification_output(CLASSIFY_SCORES, scores, "float", len(examples))
        if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
            raise invalid_argument(f"Tensors class and score should match in dim_size(1). Got "
                                   f"{classes.shape[1]} vs. {scores.shape[1]}")
        return classes, scores

    def regress(self, signature: str, examples: Sequence[bytes]) -> np.ndarray:
        """Runs a regression signature on serialized tf.Examples; returns one float each."""
        key = signature or DEFAULT_SIGNATURE
        if key not in self.signature_defs:
            raise invalid_argument(f"No signature was found with the name: {key}")
        _check_regression_signature(self.signature_defs[key])
        values = self._run(key, {REGRESS_INPUTS: np.array(list(examples), dtype=object)})[
            REGRESS_OUTPUTS]
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1 or values.shape[0] != len(examples):
            raise invalid_argument(f"Expected output Tensor shape to be either [batch_size] or "
                                   f"[batch_size, 1] but got {list(values.shape)}")
        if values.dtype.kind != "f":
            raise invalid_argument(f"Expected output Tensor of DT_FLOAT. Got: {values.dtype}")
        return values

    def _run(self, key: str, inputs: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        function = self._model.signatures[key]
        infos = self.signature_defs[key].inputs
        tensors = {name: tf.constant(array, dtype=tf.dtypes.as_dtype(infos[name].dtype))
                   for name, array in inputs.items()}
        try:
            outputs = function(**tensors)
        except tf.errors.OpError as error:
            raise ServingError(_code_name(error), op_error_message(error)) from None
        except (TypeError, ValueError) as error:
            raise invalid_argument(str(error)) from None
        return {name: tensor.numpy() for name, tensor in outputs.items()}

    def warm_up(self) -> int:
        """Replays the version's TF Serving warm-up requests; returns how many ran.

        Raises:
          ServingError: when a warm-up request fails (TF Serving then fails the
            load), or there are more than TF Serving's 1000.
        """
        path = os.path.join(self.path, WARMUP_FILE)
        if not tf.io.gfile.exists(path):
            return 0
        count = 0
        for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
            count += 1
            if count > MAX_WARMUP_RECORDS:
                raise invalid_argument(f"Number of warmup records exceeds the maximum "
                                       f"({MAX_WARMUP_RECORDS}) at {path}")
            self._replay(prediction_log_pb2.PredictionLog.FromString(record))
        return count

    def _replay(self, log: prediction_log_pb2.PredictionLog) -> None:
        kind = log.WhichOneof("log_type")
        if kind == "predict_log":
            request = log.predict_log.request
            self.predict(request.model_spec.signature_name,
                         {name: tf.make_ndarray(proto) for name, proto in request.inputs.items()})
        elif kind == "classify_log":
            request = log.classify_log.request
            examples: List[bytes] = [e.SerializeToString()
                                     for e in request.input.example_list.examples]
            self.classify(request.model_spec.signature_name, examples)
        else:
            raise ServingError("UNIMPLEMENTED", f"Unsupported log_type for warmup: {kind}")


def _code_name(error: tf.errors.OpError) -> str:
    """Returns the canonical code name of a TF error, e.g. ``INVALID_ARGUMENT``."""
    names = {getattr(tf.errors, name): name for name in (
        "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED")}
    return names.get(error.error_code, "UNKNOWN")
