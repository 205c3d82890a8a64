"""Registry of model architectures, looked up by name.

An architecture is a function ``(spec: ModelSpec) -> keras.Model`` that returns
an uncompiled model whose input is the transformed image and whose output is
one logit per class. Architectures register themselves with ``@register``.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Tuple

import tf_keras as keras


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What an architecture needs to know to build a model.

    Attributes:
      input_shape: (height, width, channels) of the transformed image.
      num_classes: number of output logits.
      input_name: name of the model's input, the transformed image key.
      learning_rate: the optimizer's learning rate; None takes the
        architecture's default.
    """

    input_shape: Tuple[int, int, int]
    num_classes: int
    input_name: str
    learning_rate: float | None = None


Builder = Callable[[ModelSpec], keras.Model]

_REGISTRY: Dict[str, Builder] = {}


class UnknownModelError(KeyError):
    """No architecture is registered under the requested name."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


def register(name: str) -> Callable[[Builder], Builder]:
    """Registers an architecture builder under ``name``."""
    def decorator(builder: Builder) -> Builder:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = builder
        return builder
    return decorator


def names() -> List[str]:
    """Returns the names of all registered architectures, sorted."""
    return sorted(_REGISTRY)


def get(name: str) -> Builder:
    """Returns the builder registered under ``name``.

    Raises:
      UnknownModelError: no such architecture; the message lists the known ones.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}; known models: {', '.join(names())}") from None


def build(name: str, spec: ModelSpec) -> keras.Model:
    """Builds the architecture ``name`` for ``spec``; logits out, not compiled."""
    return get(name)(spec)
