"""Warm start: a built model takes a saved model's weights, or says why it cannot."""

import numpy as np
import pytest

from imagepipe.components import models
from imagepipe.components.trainer import data
from imagepipe.components.trainer import warm_start


def _model(num_classes: int = 10, seed: int = 0):
    import tf_keras as keras
    keras.utils.set_random_seed(seed)
    return models.build("arch5", models.ModelSpec(input_shape=(28, 28, 1),
                                                   num_classes=num_classes,
                                                   input_name=data.IMAGE_XF))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A model saved as the Trainer exports it (a SavedModel without the optimizer)."""
    model = _model(seed=1)
    path = str(tmp_path_factory.mktemp("base") / "Format-Serving")
    model.save(path, save_format="tf", include_optimizer=False)
    return model, path


def test_the_new_model_starts_with_the_saved_weights(saved):
    base, path = saved
    model = _model(seed=2)
    assert any(not np.array_equal(a, b) for a, b in zip(model.get_weights(), base.get_weights()))
    assert warm_start.initialise(model, path) == path
    for loaded, original in zip(model.get_weights(), base.get_weights()):
        np.testing.assert_array_equal(loaded, original)


def test_without_a_base_model_nothing_changes():
    model = _model(seed=3)
    before = model.get_weights()
    assert warm_start.initialise(model, None) is None
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_a_base_model_of_another_shape_is_refused(saved):
    _, path = saved
    with pytest.raises(warm_start.WarmStartError, match="does not fit the model being trained"):
        warm_start.initialise(_model(num_classes=3), path)
