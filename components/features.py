"""The one home of feature keys, class names and the class map.

This module is the contract between ingest, Transform, Trainer, Evaluator and
serving. Nobody else spells a feature key or a class name.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Sequence, Tuple

# Raw features, as written by the ExampleGen components.
IMAGE_KEY = "image"  # encoded image bytes that Transform decodes (PNG, JPEG, GIF, BMP)
LABEL_KEY = "label"  # Fashion-MNIST: original label 0-9; photo folders: class id
LABEL_NAME_KEY = "label_name"  # Fashion-MNIST: original label name; photo folders: class name
EXAMPLE_ID_KEY = "example_id"  # stable id, unique within a data set

RAW_FEATURE_KEYS: Tuple[str, ...] = (IMAGE_KEY, LABEL_KEY, LABEL_NAME_KEY, EXAMPLE_ID_KEY)

# Photo folders: the class map is data (sub-folder names, or a class map file),
# applied at ingest, so LABEL_KEY already holds the class id and the class names
# travel in the pipeline config. IMAGE_KEY holds a normalised copy (8-bit RGB,
# upright, longer side bounded, lossless PNG) that TensorFlow decodes; the file's own
# bytes are kept untouched beside it.
ORIGINAL_IMAGE_KEY = "image_original"  # the file's bytes, not re-encoded
ORIGINAL_FORMAT_KEY = "image_format"  # JPEG, PNG, BMP, GIF, WEBP or TIFF
RELATIVE_PATH_KEY = "relative_path"  # path below the photo folder, '/'-separated
CONTENT_HASH_KEY = "content_hash"  # SHA-256 of the file's bytes, hex
SOURCE_FOLDER_KEY = "source_folder"  # the class sub-folder the file was found in

PHOTO_RAW_FEATURE_KEYS: Tuple[str, ...] = RAW_FEATURE_KEYS + (
    ORIGINAL_IMAGE_KEY, ORIGINAL_FORMAT_KEY, RELATIVE_PATH_KEY, CONTENT_HASH_KEY,
    SOURCE_FOLDER_KEY)
PHOTO_IMAGE_SIZE = 224  # default model input: 224x224x3

# Names of the signatures every exported model carries.
SERVING_SIGNATURE = "serving_default"
FROM_EXAMPLES_SIGNATURE = "from_examples"
TRANSFORM_SIGNATURE = "transform_features"
# Serialized tf.Examples -> the mapped label only, no image decoded: the Evaluator's (TFMA reads
# the label through it; from_examples decodes the image for the predictions).
LABELS_SIGNATURE = "transform_labels"
# Encoded image bytes -> the image as the model sees it (failure analysis: ``imagepipe evaluate``).
NORMALIZED_SIGNATURE = "normalized_images"
NORMALIZED_OUTPUT = "normalized_image"
# No input -> the model's class names in class id order (``imagepipe evaluate`` reads them).
CLASS_NAMES_SIGNATURE = "class_names"
# Serialized tf.Examples -> class ids and probabilities only: BulkInferrer's (tfx_bsl's
# RunInference cannot split a string output of rank 1, such as from_examples' class names).
BULK_INFERENCE_SIGNATURE = "bulk_inference"
SERVING_INPUT_KEY = "image_bytes"

# Outputs of the serving signatures.
CLASS_IDS_OUTPUT = "class_ids"
CLASS_NAMES_OUTPUT = "class_names"
PROBABILITIES_OUTPUT = "probabilities"

# Transform output: the class distribution of the training split, measured by
# an analyzer and stored as a vocabulary file with frequencies.
CLASS_DISTRIBUTION_VOCAB = "class_distribution"

FASHION_MNIST_IMAGE_SIZE = 28

FASHION_MNIST_LABEL_NAMES: Tuple[str, ...] = (
    "t-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)

SUPER_CLASS_NAMES: Tuple[str, ...] = ("upper", "lower", "shoes")

# Original Fashion-MNIST label -> super-class id. Labels absent here (8, bag)
# belong to no super-class and are left out at ingest.
FASHION_MNIST_CLASS_MAP: Mapping[int, int] = {
    0: 0, 2: 0, 3: 0, 4: 0, 6: 0,  # t-shirt, pullover, dress, coat, shirt
    1: 1,  # trouser
    5: 2, 7: 2, 9: 2,  # sandal, sneaker, ankle boot
}

UNMAPPED_CLASS = -1


def transformed_name(key: str) -> str:
    """Returns the name of a feature after Transform.

    Args:
      key: a raw feature key, e.g. ``IMAGE_KEY``.

    Returns:
      The transformed feature key, e.g. ``"image_xf"``.
    """
    return f"{key}_xf"


def class_map_table(class_map: Mapping[int, int] = FASHION_MNIST_CLASS_MAP,
                    num_original: int = len(FASHION_MNIST_LABEL_NAMES)) -> Tuple[int, ...]:
    """Returns the class map as a dense lookup table.

    Args:
      class_map: original label -> super-class id.
      num_original: number of original labels.

    Returns:
      A tuple whose i-th entry is the super-class of original label i, or
      ``UNMAPPED_CLASS`` when label i belongs to no super-class.
    """
    return tuple(class_map.get(label, UNMAPPED_CLASS) for label in range(num_original))


def excluded_labels(class_map: Mapping[int, int] = FASHION_MNIST_CLASS_MAP,
                    num_original: int = len(FASHION_MNIST_LABEL_NAMES)) -> Tuple[int, ...]:
    """Returns the original labels that belong to no super-class (bag)."""
    return tuple(label for label in range(num_original) if label not in class_map)


def super_class_members(class_map: Mapping[int, int] = FASHION_MNIST_CLASS_MAP,
                        label_names: Sequence[str] = FASHION_MNIST_LABEL_NAMES
                        ) -> Dict[str, Tuple[str, ...]]:
    """Returns, for each super-class name, the names of its original classes."""
    members: Dict[str, Tuple[str, ...]] = {}
    for super_id, super_name in enumerate(SUPER_CLASS_NAMES):
        members[super_name] = tuple(
            label_names[label] for label, target in sorted(class_map.items()) if target == super_id)
    return members


def serving_versions(base_path: str) -> List[int]:
    """The numeric version folders of a served model's folder, sorted; [] when it is missing.

    The Pusher writes ``<base_path>/<version>/``; serving loads them and
    ``imagepipe evaluate`` reads the latest. Anything else there (the Pusher's
    hidden staging folders) is not a version.
    """
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    if not tf.io.gfile.isdir(base_path):
        return []
    names = [name.rstrip("/") for name in tf.io.gfile.listdir(base_path)]
    return sorted(int(name) for name in names if name.isdigit())
