"""Writes PyTorch state dict files without PyTorch, for tests of the weights readers.

The files are what ``torch.save(state_dict)`` writes: the legacy format
(pickles, then raw storages) or the zip format. A tensor may be stored as a
strided view of a storage in another memory layout (``layout="hwio"`` keeps a
4-d kernel in TensorFlow's order behind PyTorch's ``(O, I, H, W)`` shape), as
converted checkpoints do.
"""

from __future__ import annotations

import collections
import contextlib
import io
import pickle
import struct
import sys
import types
import zipfile
from typing import Dict, Iterator, List, Tuple

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_NAMES = {np.dtype(np.float32): "FloatStorage", np.dtype(np.int64): "LongStorage"}


def _rebuild_tensor_v2(*args):  # a stand-in: only its module and name are pickled
    return args


class _Storage:
    """A storage to be pickled by persistent id."""

    def __init__(self, key: str, data: np.ndarray):
        self.key, self.data = key, data


class _Tensor:
    """Pickles as ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``."""

    def __init__(self, storage: _Storage, size: Tuple[int, ...], stride: Tuple[int, ...]):
        self.storage, self.size, self.stride = storage, size, stride

    def __reduce__(self):
        return (_rebuild_tensor_v2, (self.storage, 0, self.size, self.stride, False,
                                     collections.OrderedDict()))


@contextlib.contextmanager
def _fake_torch() -> Iterator[types.ModuleType]:
    """Modules named ``torch`` and ``torch._utils`` so that pickle writes their globals."""
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", \
        "_rebuild_tensor_v2"
    for name in _STORAGE_NAMES.values():
        setattr(torch, name, type(name, (), {"__module__": "torch"}))
    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules.update({"torch": torch, "torch._utils": utils})
    try:
        yield torch
    finally:
        for key, module in saved.items():
            if module is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = module


def _layout(key: str, array: np.ndarray, layout: str) -> Tuple[_Storage, Tuple[int, ...]]:
    """The storage of ``array`` and the strides that view it in PyTorch's shape."""
    if layout == "hwio" and array.ndim == 4:
        physical = np.ascontiguousarray(array.transpose(2, 3, 1, 0))  # (H, W, I, O)
        h, w, i, o = physical.shape
        return _Storage(key, physical.reshape(-1)), (1, o, w * i * o, i * o)
    contiguous = np.ascontiguousarray(array)
    strides = tuple(s // contiguous.itemsize for s in contiguous.strides)
    return _Storage(key, contiguous.reshape(-1)), strides


def _pickled_state(arrays: Dict[str, np.ndarray], layout: str
                   ) -> Tuple[bytes, List[_Storage]]:
    storages: List[_Storage] = []
    state = collections.OrderedDict()
    for name, array in arrays.items():
        storage, stride = _layout(str(len(storages)), array, layout)
        storages.append(storage)
        state[name] = _Tensor(storage, tuple(array.shape), stride)
    with _fake_torch() as torch:
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=2)
        pickler.persistent_id = lambda obj: (
            ("storage", getattr(torch, _STORAGE_NAMES[obj.data.dtype]), obj.key, "cpu",
             obj.data.size) if isinstance(obj, _Storage) else None)
        pickler.dump(state)
    return buffer.getvalue(), storages


def write_state_dict(path: str, arrays: Dict[str, np.ndarray], layout: str = "hwio",
                     zip_format: bool = False) -> str:
    """Writes ``arrays`` (PyTorch shapes, float32 or int64) as a state dict file at ``path``.

    Args:
      path: the file to write.
      arrays: parameter name -> array in PyTorch's shape.
      layout: ``hwio``: 4-d tensors stored in TensorFlow's layout behind
        strides; ``contiguous``: PyTorch's own.
      zip_format: the zip format of PyTorch >= 1.6 instead of the legacy one.
    """
    pickled, storages = _pickled_state(arrays, layout)
    if zip_format:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("archive/data.pkl", pickled)
            for storage in storages:
                archive.writestr(f"archive/data/{storage.key}", storage.data.tobytes())
        return path
    with open(path, "wb") as f:
        for header in (LEGACY_MAGIC, 1001, {"protocol_version": 1001, "little_endian": True}):
            pickle.dump(header, f, protocol=2)
        f.write(pickled)
        pickle.dump([s.key for s in storages], f, protocol=2)
        for storage in storages:
            f.write(struct.pack("<q", storage.data.size))
            f.write(storage.data.tobytes())
    return path
