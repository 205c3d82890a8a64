"""Warm start: a new model initialised with the weights of the latest blessed model.

With ``--warm-start`` the pipeline hands the Trainer the latest blessed model
of the pipeline (its ``latest_blessed_model_resolver``, as TFX's ``base_model``).
The model being trained is built as usual, then its weights are read from the
base model's SavedModel checkpoint (``variables/variables``), object by object:
the same architecture, classes and input size are needed, and anything else
is refused with a message. Without a blessed model the Trainer trains from
scratch and says so.
"""

from __future__ import annotations

import os
from typing import Optional

import tensorflow as tf
import tf_keras as keras
from absl import logging


class WarmStartError(ValueError):
    """The latest blessed model's weights do not fit the model being trained."""


def checkpoint_path(base_model: str) -> str:
    """The variables checkpoint of a SavedModel folder (local or gs://)."""
    return os.path.join(base_model, "variables", "variables") if "://" not in base_model \
        else base_model.rstrip("/") + "/variables/variables"


def initialise(model: keras.Model, base_model: Optional[str]) -> Optional[str]:
    """Loads ``base_model``'s weights into ``model`` (built, not yet compiled).

    Args:
      model: the freshly built model.
      base_model: the latest blessed model's SavedModel folder, or None/'' when
        the pipeline has none yet.

    Returns:
      ``base_model`` when its weights were loaded; None: trained from scratch.

    Raises:
      WarmStartError: the base model's weights do not fit ``model`` (another
        architecture, class count or input size).
    """
    if not base_model:
        logging.warning("--warm-start: the pipeline has no blessed model yet; training from "
                        "scratch")
        return None
    try:
        status = model.load_weights(checkpoint_path(base_model))
        status.assert_existing_objects_matched()
    except (ValueError, AssertionError, tf.errors.OpError) as error:
        raise WarmStartError(
            f"--warm-start: the latest blessed model {base_model} does not fit the model being "
            f"trained (another architecture, class count or input size?); train once without "
            f"--warm-start: {str(error)[:500]}") from None
    logging.info("--warm-start: initialised from the latest blessed model %s", base_model)
    return base_model
