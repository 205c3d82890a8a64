"""Model architectures, registered by name.

Importing this package registers every architecture; use :func:`build`.
"""

from . import cnn, efficientnet, resnet  # noqa: F401  (registers the architectures)
from imagepipe.components.settings import ModelOptions
from .registry import (FASHION_MNIST, PHOTOS, Architecture, ModelSpec, UnknownModelError,
                       architecture, build, fine_tune, get, ignored_options, names, register)

__all__ = ["FASHION_MNIST", "PHOTOS", "Architecture", "ModelOptions", "ModelSpec",
           "UnknownModelError", "architecture", "build", "fine_tune",
           "get", "ignored_options", "names", "register"]
