"""Model architectures, registered by name.

Importing this package registers every architecture; use :func:`build`.
"""

from . import cnn  # noqa: F401  (registers the CNNs)
from .registry import ModelSpec, UnknownModelError, build, get, names, register

__all__ = ["ModelSpec", "UnknownModelError", "build", "get", "names", "register"]
