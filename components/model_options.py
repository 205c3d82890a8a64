"""Options of the architectures: one typed, frozen record that every builder reads.

It lives outside ``components/models`` (which imports Keras) so that
configuration code can import it without TensorFlow;
``imagepipe.components.models`` re-exports it.

An architecture declares the options it takes when it registers (see
:func:`imagepipe.components.models.registry.register`); it ignores the others,
so one set of options can describe a comparison across models (the
Fashion-MNIST CNNs ignore ``weights``). A name that no option has fails, with
the known names in the message.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Mapping, Optional

WEIGHTS_NONE = "none"
WEIGHTS_IMAGENET = "imagenet"
MIN_INPUT_SIZE = 32  # the smallest input Keras' ResNet50 accepts


class UnknownModelOptionError(ValueError):
    """A model option that no architecture knows; the message lists the known ones."""


@dataclasses.dataclass(frozen=True)
class ModelOptions:
    """What a user may choose about an architecture beyond its name.

    Attributes:
      weights: pretrained-model weights: ``none`` (random initialisation),
        ``imagenet`` (Keras downloads them; needs the internet) or the path of
        a local weights file (``.h5``) of the same base model, e.g. one saved
        by ``ResNet50(include_top=False, weights="imagenet").save_weights()``.
      augment: in-model augmentation, the report's ``RandomFlip('horizontal')``
        + ``RandomRotation(0.2)``, active in training only.
      input_size: side of the square image the pretrained base sees; images
        of another size are resized inside the model. None (default): the
        transformed image's own size (the photo pipeline's ``--image-size``,
        224 by default, ResNet50's own), raised to 32 when smaller.
      fine_tune_blocks: how many of the base's top residual blocks the
        fine-tuning phase unfreezes (ResNet50 has 16; 3 = stage conv5).
      dropout: dropout rate of the architecture's Dropout layers; None keeps
        the report's 0.2.
      width: multiplier of every layer's filters and units (1.0: the
        report's sizes); the tuner searches over it.
    """

    weights: str = WEIGHTS_NONE
    augment: bool = False
    input_size: Optional[int] = None
    fine_tune_blocks: int = 3
    dropout: Optional[float] = None
    width: float = 1.0

    def __post_init__(self):
        if not isinstance(self.weights, str) or not self.weights:
            raise ValueError(f"model option weights must be 'none', 'imagenet' or a file path, "
                             f"got {self.weights!r}")
        if self.input_size is not None and self.input_size < MIN_INPUT_SIZE:
            raise ValueError(f"model option input_size must be at least {MIN_INPUT_SIZE}, "
                             f"got {self.input_size}")
        if self.fine_tune_blocks < 0:
            raise ValueError(f"model option fine_tune_blocks must be >= 0, "
                             f"got {self.fine_tune_blocks}")
        if self.dropout is not None and not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"model option dropout must be in [0, 1), got {self.dropout}")
        if self.width <= 0:
            raise ValueError(f"model option width must be positive, got {self.width}")

    @property
    def pretrained(self) -> bool:
        """True when the base starts from weights (ImageNet or a file)."""
        return self.weights != WEIGHTS_NONE

    def dropout_or(self, default: float) -> float:
        """The dropout rate: the option when set, else ``default``."""
        return default if self.dropout is None else self.dropout

    def scaled(self, units: int) -> int:
        """``units`` (filters or neurons) times ``width``, at least 1."""
        return max(1, int(round(units * self.width)))

    def changed(self) -> Dict[str, Any]:
        """The options that differ from their defaults."""
        defaults = ModelOptions()
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(defaults, f.name)}

    def to_dict(self) -> Dict[str, Any]:
        """The options as a JSON-serializable dict (for the Trainer's custom_config)."""
        return dataclasses.asdict(self)

    @classmethod
    def names(cls) -> tuple:
        """The names of all options."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, values: Optional[Mapping[str, Any]]) -> "ModelOptions":
        """Builds options from a mapping; missing names take their defaults.

        Raises:
          UnknownModelOptionError: a name that is not an option; the message
            lists the known ones.
          ValueError: a value out of range, naming the option.
        """
        values = dict(values or {})
        unknown = sorted(set(values) - set(cls.names()))
        if unknown:
            raise UnknownModelOptionError(
                f"unknown model option{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))}; known options: {', '.join(cls.names())}")
        return cls(**values)
