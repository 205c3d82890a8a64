"""Registry of model architectures, looked up by name.

An architecture is a function ``(spec: ModelSpec) -> keras.Model`` that returns
an uncompiled model whose input is the transformed image and whose output is
one logit per class. Architectures register themselves with ``@register``,
saying which :class:`ModelOptions` they take (the others are ignored, with a
log line when set), which data they are made for, and, for models with a
pretrained base, how to unfreeze it for a fine-tuning phase.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import tf_keras as keras
from absl import logging

from imagepipe.components.settings import FASHION_MNIST_INPUTS, PHOTO_INPUTS, ModelOptions

# What an architecture is made for (``register(..., inputs=...)``).
FASHION_MNIST = FASHION_MNIST_INPUTS  # 28x28x1 images
PHOTOS = PHOTO_INPUTS  # RGB photos of any size

# (model, options) -> number of layers made trainable.
FineTuner = Callable[[keras.Model, ModelOptions], int]
# weights file -> why it cannot initialise the base (a sentence naming file and key), or None.
WeightsCheck = Callable[[str], Optional[str]]


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What an architecture needs to know to build a model.

    Attributes:
      input_shape: (height, width, channels) of the transformed image.
      num_classes: number of output logits.
      input_name: name of the model's input, the transformed image key.
      learning_rate: the optimizer's learning rate; None takes the
        architecture's default.
      options: weights, augmentation, sizes...; each architecture reads the
        ones it takes (see :class:`ModelOptions`).
    """

    input_shape: Tuple[int, int, int]
    num_classes: int
    input_name: str
    learning_rate: float | None = None
    options: ModelOptions = ModelOptions()


Builder = Callable[[ModelSpec], keras.Model]


@dataclasses.dataclass(frozen=True)
class Architecture:
    """A registered architecture.

    Attributes:
      name: the registry name.
      builder: ``(spec) -> keras.Model``.
      takes: the option names the builder reads.
      inputs: what it is made for, ``FASHION_MNIST`` or ``PHOTOS``.
      fine_tune: unfreezes the top of a pretrained base; None when the
        architecture has no such phase.
      check_weights: reads a local weights file ahead of the run and says
        why it does not fit the base; None when not checked ahead.
      native_size: the input side its pretrained weights were trained at, the
        default image size of a run that uses it; None: the source's default.
    """

    name: str
    builder: Builder
    takes: Tuple[str, ...]
    inputs: str
    fine_tune: Optional[FineTuner] = None
    check_weights: Optional[WeightsCheck] = None
    native_size: Optional[int] = None

    @property
    def summary(self) -> str:
        """The first line of the builder's docstring."""
        return ((self.builder.__doc__ or "").strip().splitlines() or [""])[0]


_REGISTRY: Dict[str, Architecture] = {}


class UnknownModelError(KeyError):
    """No architecture is registered under the requested name."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


def register(name: str, takes: Sequence[str] = (), inputs: str = FASHION_MNIST,
             fine_tune: Optional[FineTuner] = None,
             check_weights: Optional[WeightsCheck] = None,
             native_size: Optional[int] = None) -> Callable[[Builder], Builder]:
    """Registers an architecture builder under ``name``.

    Args:
      name: the registry name.
      takes: names of the :class:`ModelOptions` the builder reads.
      inputs: what the architecture is made for, ``FASHION_MNIST`` or ``PHOTOS``.
      fine_tune: for a pretrained base, the function that unfreezes its top
        for the fine-tuning phase.
      check_weights: for a pretrained base, the function that checks a local
        weights file before a run starts.
      native_size: for a pretrained base, the input side its weights were
        trained at (a photo run's default image size).

    Raises:
      ValueError: the name is taken, or ``takes`` names an unknown option.
    """
    unknown = sorted(set(takes) - set(ModelOptions.names()))
    if unknown:
        raise ValueError(f"model {name!r} takes unknown options {unknown}; "
                         f"known: {', '.join(ModelOptions.names())}")

    def decorator(builder: Builder) -> Builder:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = Architecture(name, builder, tuple(takes), inputs, fine_tune,
                                       check_weights, native_size)
        return builder
    return decorator


def names(inputs: Optional[str] = None) -> List[str]:
    """Returns the names of the registered architectures, sorted; only those for ``inputs``."""
    return sorted(n for n, a in _REGISTRY.items() if inputs is None or a.inputs == inputs)


def architecture(name: str) -> Architecture:
    """Returns the architecture registered under ``name``.

    Raises:
      UnknownModelError: no such architecture; the message lists the known ones.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}; known models: {', '.join(names())}") from None


def get(name: str) -> Builder:
    """Returns the builder registered under ``name`` (see :func:`architecture`)."""
    return architecture(name).builder


def ignored_options(name: str, options: ModelOptions) -> Dict[str, object]:
    """The options set away from their defaults that architecture ``name`` does not take."""
    takes = architecture(name).takes
    return {k: v for k, v in options.changed().items() if k not in takes}


def build(name: str, spec: ModelSpec) -> keras.Model:
    """Builds the architecture ``name`` for ``spec``; logits out, not compiled."""
    ignored = ignored_options(name, spec.options)
    if ignored:
        logging.warning("model %s ignores the options it does not take: %s", name,
                        ", ".join(f"{k}={v!r}" for k, v in ignored.items()))
    return architecture(name).builder(spec)


def fine_tune(name: str, model: keras.Model, options: ModelOptions) -> int:
    """Unfreezes the top of ``model``'s pretrained base for a fine-tuning phase.

    Returns:
      The number of layers made trainable; 0 when the architecture has no
      pretrained base to unfreeze (every CNN, and ResNet50 without weights,
      whose base trains from the start).
    """
    tuner = architecture(name).fine_tune
    return tuner(model, options) if tuner is not None else 0
