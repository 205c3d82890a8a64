"""Which signature TFMA reads the labels through, for the models one Evaluator compares.

Models carry ``transform_labels`` (the mapped label without decoding the
image) since it was added; the Evaluator's eval_config names it. A baseline
exported before then (the latest blessed model of an older version) has only
``transform_features``, and TFMA applies the same model spec to the baseline:
with such a baseline, every model is read through ``transform_features``,
which decodes each image once more but gives the same labels.
"""

from __future__ import annotations

from typing import List, Optional

from absl import logging
from tensorflow.python.saved_model import loader_impl  # pylint: disable=g-direct-tensorflow-import
from tensorflow_model_analysis.proto import config_pb2 as tfma_config
from tfx import types
from tfx.utils import path_utils, proto_utils

from imagepipe.components import features


def signature_names(model_dir: str) -> List[str]:
    """The signatures a SavedModel carries, read from its saved_model.pb (nothing loaded).

    TensorFlow's own entries (``__saved_model_init_op``) are left out.
    """
    saved_model = loader_impl.parse_saved_model(model_dir)
    return sorted({name for graph in saved_model.meta_graphs for name in graph.signature_def
                   if not name.startswith("__")})


def for_baseline(eval_config_json: Optional[str],
                 baseline_models: Optional[List[types.Artifact]]) -> Optional[str]:
    """The eval_config JSON, reading labels through ``transform_features`` for an older baseline.

    Args:
      eval_config_json: the Evaluator's eval_config (None: returned as it is).
      baseline_models: the Evaluator's ``baseline_model`` input, if any.
    """
    if not eval_config_json or not baseline_models:
        return eval_config_json
    model_dir = path_utils.serving_model_path(baseline_models[0].uri)
    if features.LABELS_SIGNATURE in signature_names(model_dir):
        return eval_config_json
    logging.info("baseline model %s has no %s signature: labels read through %s", model_dir,
                 features.LABELS_SIGNATURE, features.TRANSFORM_SIGNATURE)
    eval_config = proto_utils.json_to_proto(eval_config_json, tfma_config.EvalConfig())
    for spec in eval_config.model_specs:
        names = [features.TRANSFORM_SIGNATURE if name == features.LABELS_SIGNATURE else name
                 for name in spec.preprocessing_function_names]
        del spec.preprocessing_function_names[:]
        spec.preprocessing_function_names.extend(names)
    return proto_utils.proto_to_json(eval_config)
