"""TF Serving's REST JSON formats, to and from numpy arrays.

A faithful Python rendering of TF Serving's ``util/json_tensor.cc``, messages
included, so that a client sees the same answers from ``imagepipe serve`` as
from the real server:

* predict requests in the row format (``{"instances": [...]}``) or the
  columnar format (``{"inputs": ...}``), with binary strings written as
  ``{"b64": "..."}``;
* predict responses as ``{"predictions": [...]}`` (row) or
  ``{"outputs": ...}`` (columnar); string outputs whose name ends in
  ``_bytes`` are written as ``{"b64": ...}``, floats in their shortest form;
* classify requests (``{"examples": [...], "context": {...}}``) as serialized
  tf.Examples, and classification results as ``{"results": [[[label, score]]]}``.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2

from imagepipe.serving.status import ServingError, invalid_argument

ROW = "row"
COLUMNAR = "columnar"
B64_KEY = "b64"
BYTES_SUFFIX = "_bytes"
_SHOWN_CHARS = 200  # JSON values quoted in error messages are cut to this length


# --------------------------------------------------------------------------- helpers


def _show(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


def dtype_string(dtype: tf.dtypes.DType) -> str:
    """Returns TF's name of a dtype as TF Serving prints it (``float``, ``string``...)."""
    return types_pb2.DataType.Name(dtype.as_datatype_enum)[len("DT_"):].lower()


def _type_error(value: Any, dtype: tf.dtypes.DType) -> ServingError:
    return invalid_argument(f"JSON Value: {_show(value)} Type: {_json_type(value)} "
                            f"is not of expected type: {dtype_string(dtype)}")


def _format_error(value: Any, message: str) -> ServingError:
    return invalid_argument(f"JSON Value: {_show(value)} {message}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_b64_object(value: Any) -> bool:
    return (isinstance(value, dict) and len(value) == 1
            and isinstance(value.get(B64_KEY), str))


def _is_named_object(value: Any) -> bool:
    """An object of named values, as opposed to a ``{"b64": ...}`` value."""
    return isinstance(value, dict) and not _is_b64_object(value)


def _decode_b64(value: Any) -> bytes:
    if not _is_b64_object(value):
        raise invalid_argument(f"JSON Value: {_show(value)} not formatted correctly for "
                               f"base64 data")
    text = value[B64_KEY]
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise invalid_argument("Unable to base64 decode") from None


def _lossless_float32(value: Any) -> bool:
    if isinstance(value, int):
        return abs(value) <= 2**24 - 1
    finite = np.isfinite(value)
    return not finite or abs(value) <= float(np.finfo(np.float32).max)


# --------------------------------------------------------------------------- documents


def parse_document(body: bytes) -> Dict[str, Any]:
    """Parses a request body into its top-level JSON object.

    Raises:
      ServingError: INVALID_ARGUMENT for an empty body, invalid JSON or a
        top-level value that is not an object.
    """
    if not body:
        raise invalid_argument("JSON Parse error: The document is empty")
    try:
        document = json.loads(body)
    except json.JSONDecodeError as error:
        raise invalid_argument(f"JSON Parse error: {error.msg} at offset: {error.pos}") from None
    except UnicodeDecodeError as error:
        raise invalid_argument(
            f"JSON Parse error: Invalid encoding in string. at offset: {error.start}") from None
    except RecursionError:
        raise invalid_argument("JSON Parse error: the document is nested too deeply") from None
    except ValueError:  # an integer of more digits than Python converts
        raise invalid_argument(f"JSON Parse error: a number has more than "
                               f"{sys.get_int_max_str_digits()} digits") from None
    if not isinstance(document, dict):
        raise _format_error(document, "Is not object")
    return document


def signature_name(document: Mapping[str, Any]) -> str:
    """Returns the request's ``signature_name``; empty when absent (the default signature)."""
    name = document.get("signature_name", "")
    if not isinstance(name, str):
        raise _format_error(document, "not formatted correctly. 'signature_name' key must be a "
                                      "string value.")
    return name


# --------------------------------------------------------------------------- tensors in


def _leaf(value: Any, dtype: tf.dtypes.DType) -> Any:
    if isinstance(value, dict):
        if dtype == tf.string:
            return _decode_b64(value)
        raise _type_error(value, dtype)
    if dtype == tf.string:
        if not isinstance(value, str):
            raise _type_error(value, dtype)
        return value.encode("utf-8")
    if dtype == tf.bool:
        if not isinstance(value, bool):
            raise _type_error(value, dtype)
        return value
    if dtype.is_floating:
        if not _is_number(value):
            raise _type_error(value, dtype)
        if dtype != tf.float64 and not _lossless_float32(value):
            raise invalid_argument(f"Cannot convert JSON value: {_show(value)} to "
                                   f"{dtype_string(dtype)} without loss of precision.")
        return value
    if dtype.is_integer:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _type_error(value, dtype)
        if not dtype.min <= value <= dtype.max:
            raise _type_error(value, dtype)
        return value
    raise ServingError("UNIMPLEMENTED", f"Conversion of JSON Value: {_show(value)} to type: "
                                        f"{dtype_string(dtype)}")


def _dense_shape(value: Any) -> List[int]:
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _fill(value: Any, level: int, shape: Sequence[int], dtype: tf.dtypes.DType,
          out: List[Any]) -> None:
    if not isinstance(value, list):
        if level != len(shape):
            raise invalid_argument(f"JSON Value: {_show(value)} found at incorrect level: "
                                   f"{level + 1} in the JSON DOM. Expected at level: {len(shape)}")
        out.append(_leaf(value, dtype))
        return
    if level >= len(shape):
        raise invalid_argument(f"Encountered list at unexpected level: {level} "
                               f"expected < {len(shape)}")
    if len(value) != shape[level]:
        raise invalid_argument(f"Encountered list at unexpected size: {len(value)} at level: "
                               f"{level} expected size: {shape[level]}")
    for item in value:
        _fill(item, level + 1, shape, dtype, out)


def to_array(value: Any, dtype: tf.dtypes.DType) -> np.ndarray:
    """Converts one JSON value (a scalar or nested lists) to an array of ``dtype``.

    Strings become ``bytes`` in an object array; ``{"b64": ...}`` values are
    decoded.
    """
    shape = _dense_shape(value)
    flat: List[Any] = []
    _fill(value, 0, shape, dtype, flat)
    numpy_dtype = object if dtype == tf.string else dtype.as_numpy_dtype
    array = np.empty(len(flat), dtype=numpy_dtype)
    array[:] = flat
    return array.reshape(shape)


def _shape_string(shape: Sequence[int]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _add_instance_item(item: Any, name: str, dtypes: Mapping[str, tf.dtypes.DType],
                       collected: Dict[str, List[np.ndarray]]) -> None:
    if name not in dtypes:
        raise invalid_argument(f"JSON object: does not have named input: {name}")
    array = to_array(item, dtypes[name])
    if collected.get(name):
        first = collected[name][0]
        if first.size != array.size:
            raise invalid_argument(f"Expecting tensor size: {first.size} but got: {array.size}")
        if first.shape != array.shape:
            raise invalid_argument(f"Expecting shape {_shape_string(first.shape)} "
                                   f"but got: {_shape_string(array.shape)}")
    collected.setdefault(name, []).append(array)


def _add_named_instance(index: int, element: Any, dtypes: Mapping[str, tf.dtypes.DType],
                        collected: Dict[str, List[np.ndarray]]) -> None:
    if not _is_named_object(element):
        raise invalid_argument(f"Expecting object but got list at item {index} of input list")
    for key, item in element.items():
        try:
            _add_instance_item(item, key, dtypes, collected)
        except ServingError as error:
            raise invalid_argument(f"Failed to process element: {index} key: {key} of "
                                   f"'instances' list. Error: {error}") from None
    if set(element) != set(dtypes):
        raise invalid_argument(f"Failed to process element: {index} of 'instances' list. "
                               f"JSON object: {_show(element)} keys must be equal to: "
                               f"{','.join(sorted(dtypes))}")


def _tensors_from_instances(instances: List[Any], dtypes: Mapping[str, tf.dtypes.DType]
                            ) -> Dict[str, np.ndarray]:
    named = _is_named_object(instances[0])
    if not named and len(dtypes) > 1:
        raise invalid_argument("instances is a plain list, but expecting list of objects as "
                               "multiple input tensors required as per tensorinfo_map")
    collected: Dict[str, List[np.ndarray]] = {}
    only_input = next(iter(dtypes))
    for index, element in enumerate(instances):
        if named:
            _add_named_instance(index, element, dtypes, collected)
            continue
        if _is_named_object(element):
            raise invalid_argument(f"Expecting value/list but got object at item {index} "
                                   f"of input list")
        try:
            _add_instance_item(element, only_input, dtypes, collected)
        except ServingError as error:
            raise invalid_argument(f"Failed to process element: {index} of 'instances' list. "
                                   f"Error: {error}") from None
    return {name: np.stack(arrays) for name, arrays in collected.items()}


def _tensors_from_inputs(inputs: Any, dtypes: Mapping[str, tf.dtypes.DType]
                         ) -> Dict[str, np.ndarray]:
    if not _is_named_object(inputs):
        if len(dtypes) > 1:
            raise invalid_argument("inputs is a plain value/list, but expecting an object as "
                                   "multiple input tensors required as per tensorinfo_map")
        name, dtype = next(iter(dtypes.items()))
        return {name: to_array(inputs, dtype)}
    arrays = {}
    for name, dtype in dtypes.items():
        if name not in inputs:
            raise invalid_argument(f"Missing named input: {name} in 'inputs' object.")
        arrays[name] = to_array(inputs[name], dtype)
    return arrays


def predict_inputs(document: Mapping[str, Any], dtypes: Mapping[str, tf.dtypes.DType],
                   signature: str = "") -> Tuple[str, Dict[str, np.ndarray]]:
    """Reads the input tensors of a predict request.

    Args:
      document: the parsed request.
      dtypes: the signature's inputs, name -> dtype.
      signature: the signature's name, for messages.

    Returns:
      The request's format (``ROW`` or ``COLUMNAR``) and the arrays by input name.

    Raises:
      ServingError: INVALID_ARGUMENT, with TF Serving's message, for a
        malformed request.
    """
    if not dtypes:
        raise invalid_argument(f"Failed to get input map for signature: {signature or 'DEFAULT'}")
    if "instances" in document and "inputs" in document:
        raise _format_error(document, "Not formatted correctly expecting only one of 'inputs' "
                                      "or 'instances' keys to exist ")
    if "instances" in document:
        instances = document["instances"]
        if not isinstance(instances, list):
            raise _format_error(document, "Excepting 'instances' to be an list/array")
        if not instances:
            raise _format_error(document, "No values in 'instances' array")
        return ROW, _tensors_from_instances(instances, dtypes)
    if "inputs" in document:
        return COLUMNAR, _tensors_from_inputs(document["inputs"], dtypes)
    raise invalid_argument("Missing 'inputs' or 'instances' key")


# --------------------------------------------------------------------------- tensors out


def short_float(value: Any) -> float:
    """A float32 as the shortest decimal that reads back to the same float32 (as TF Serving)."""
    return float(str(np.float32(value)))


def _nest(flat: List[Any], shape: Sequence[int]) -> Any:
    if not shape:
        return flat[0]
    if 0 in shape:
        return np.zeros(shape).tolist()
    for size in reversed(shape[1:]):
        flat = [flat[i:i + size] for i in range(0, len(flat), size)]
    return flat


def _converter(array: np.ndarray, name: str) -> Optional[Callable[[Any], Any]]:
    if array.dtype == object or array.dtype.kind == "S":
        if name.endswith(BYTES_SUFFIX):
            return lambda b: {B64_KEY: base64.b64encode(b).decode("ascii")}
        return lambda b: b.decode("utf-8", "replace")
    if array.dtype in (np.float32, np.float16):
        return short_float
    return None


def to_json_value(array: np.ndarray, name: str) -> Any:
    """Converts an output array to JSON values (nested lists), as TF Serving writes them."""
    array = np.asarray(array)
    convert = _converter(array, name)
    if convert is None:
        return array.tolist()
    return _nest([convert(v) for v in array.reshape(-1)], array.shape)


def _batch_size(outputs: Mapping[str, np.ndarray]) -> int:
    batch_size = -1
    for name, array in sorted(outputs.items()):
        if np.ndim(array) == 0:
            raise invalid_argument(f"Tensor name: {name} has no shape information ")
        if batch_size >= 0 and batch_size != len(array):
            raise invalid_argument(f"Tensor name: {name} has inconsistent batch size: "
                                   f"{len(array)} expecting: {batch_size}")
        batch_size = len(array)
    return batch_size


def predict_response(outputs: Mapping[str, np.ndarray], request_format: str) -> Dict[str, Any]:
    """Builds the JSON answer of a predict request in the format the request used."""
    if not outputs:
        raise invalid_argument("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    if request_format == COLUMNAR:
        columns = {name: to_json_value(outputs[name], name) for name in names}
        return {"outputs": columns[names[0]] if len(names) == 1 else columns}
    batch_size = _batch_size(outputs)
    columns = {name: to_json_value(outputs[name], name) for name in names}
    if len(names) == 1:
        return {"predictions": columns[names[0]]}
    return {"predictions": [{name: columns[name][i] for name in names}
                            for i in range(batch_size)]}


# --------------------------------------------------------------------------- classify


def _check_feature_kind(feature: tf.train.Feature, name: str, kind: str) -> None:
    existing = feature.WhichOneof("kind")
    if existing not in (None, kind):
        raise invalid_argument(f"Unexpected element type in feature: {name} expecting type: "
                               f"{existing.replace('_list', '')}")


def _add_to_feature(value: Any, name: str, feature: tf.train.Feature) -> None:
    if value is None or isinstance(value, list) or (
            isinstance(value, dict) and not _is_b64_object(value)):
        raise invalid_argument(f"Feature: {name} has element with unexpected JSON type: "
                               f"{_json_type(value)}")
    if isinstance(value, (dict, str)):
        _check_feature_kind(feature, name, "bytes_list")
        feature.bytes_list.value.append(
            _decode_b64(value) if isinstance(value, dict) else value.encode("utf-8"))
    elif isinstance(value, float):
        _check_feature_kind(feature, name, "float_list")
        if not _lossless_float32(value):
            raise invalid_argument(f"Cannot convert JSON value: {_show(value)} to float without "
                                   f"loss of precision.")
        feature.float_list.value.append(value)
    else:  # bool or int
        _check_feature_kind(feature, name, "int64_list")
        if not -2**63 <= value < 2**63:
            raise invalid_argument(f"Feature: {name} has uint64 element. Only int64 is supported.")
        feature.int64_list.value.append(int(value))


def json_to_example(value: Any) -> tf.train.Example:
    """Converts ``{"feature": value or [values]}`` to a tf.Example, as TF Serving does."""
    if not isinstance(value, dict):
        raise invalid_argument(f"Example must be JSON object but got JSON {_json_type(value)}")
    example = tf.train.Example()
    for name, content in value.items():
        feature = example.features.feature[name]
        for item in (content if isinstance(content, list) else [content]):
            _add_to_feature(item, name, feature)
    return example


def classify_examples(document: Mapping[str, Any], method: str = "classify") -> List[bytes]:
    """The serialized tf.Examples of a classify or regress request, each merged with ``context``."""
    context = b""
    if "context" in document:
        context = json_to_example(document["context"]).SerializeToString()
    if "examples" not in document:
        raise _format_error(document, f"When method is {method}, key 'examples' is expected and "
                                      f"was not found")
    examples = document["examples"]
    if not isinstance(examples, list):
        raise _format_error(document, "Expecting 'examples' value to be an list/array")
    if not examples:
        raise _format_error(document, "'examples' value is an empty array")
    # Serialized protos concatenate into their merge; the example's own features win.
    return [context + json_to_example(e).SerializeToString() for e in examples]


def regress_response(values: np.ndarray) -> Dict[str, Any]:
    """Builds ``{"results": [value, ...]}``, TF Serving's regression answer."""
    if not len(values):  # pylint: disable=g-explicit-length-test
        raise invalid_argument("Cannot convert empty RegressionResults to JSON")
    return {"results": [short_float(value) for value in values]}


def classify_response(classes: Optional[np.ndarray], scores: Optional[np.ndarray]
                      ) -> Dict[str, Any]:
    """Builds ``{"results": [[[label, score], ...], ...]}`` from [batch, num_classes] arrays."""
    reference = classes if classes is not None else scores
    results = []
    for i in range(reference.shape[0]):
        row = []
        for c in range(reference.shape[1]):
            label = classes[i, c].decode("utf-8", "replace") if classes is not None else ""
            score = short_float(scores[i, c]) if scores is not None else 0.0
            row.append([label, score])
        results.append(row)
    if not results:
        raise invalid_argument("Cannot convert empty ClassificationResults to JSON")
    return {"results": results}
