"""User-style models as people write them: correct ones stay clean, buggy ones are caught where torch fails.

The correct ones run in torch on their own inputs; each buggy one raises in torch, at the layer named here
(read from the code and its comment, and confirmed by running it).
"""

import runpy
from pathlib import Path

import pytest

from torchshape_lint.checks.analyze import analyze_source

USERS = Path(__file__).resolve().parent.parent / "fixtures" / "users"
BUGGY = Path(__file__).resolve().parent.parent / "fixtures" / "buggy"

# file: (code, line of the offending call, model class and input for files that do not run themselves)
EXPECTED = {
    "b01_lenet_view.py": ("TSL005", 17, None),
    "b02_cifar_in_features.py": ("TSL001", 12, None),
    "b03_in_channels.py": ("TSL002", 12, ("Net", (1, 3, 32, 32))),
    "b04_gray_rgb.py": ("TSL002", 8, None),
    "b05_pool_too_small.py": ("TSL003", 12, ("Deep", (1, 1, 28, 28))),
    "b06_conv1d_features.py": ("TSL001", 11, None),
    "b07_symbolic_channels.py": ("TSL001", 12, ("Net", (1, 3, 32, 32))),
    "b08_unet_cat.py": ("TSL002", 12, None),
    "b09_resblock_linear.py": ("TSL001", 21, None),
    "b10_lstm_fc.py": ("TSL001", 10, None),
    "b11_vgg_head.py": ("TSL001", 22, None),
    "b12_resnet_symbolic.py": ("TSL001", 26, ("Net", (1, 3, 32, 32))),
    "b13_dataclass_cfg.py": ("TSL001", 17, None),
    "b14_mean_pool.py": ("TSL001", 9, None),
    "b15_pragma_flatten_bug.py": ("TSL001", 9, ("MLP", (1, 3, 32, 32))),
    "b16_resnet_shortcut_stride.py": ("TSL009", 26, None),
    "b17_unet_skip_size.py": ("TSL009", 29, None),
    "b18_channel_split.py": ("TSL009", 20, None),
    "b19_two_streams_add.py": ("TSL009", 16, None),
}


def test_every_buggy_file_is_listed():
    assert sorted(p.name for p in BUGGY.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("path", sorted(USERS.glob("*.py")), ids=lambda p: p.name)
@pytest.mark.parametrize("input_shape", [None, (1, 3, 224, 224)], ids=["no-input", "default-224"])
def test_correct_user_models_are_clean(path, input_shape):
    found = analyze_source(path.read_text(), path.name, input_shape=input_shape).findings
    assert found == [], [f.text for f in found]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_buggy_user_models_are_caught_at_the_failing_layer(name):
    code, line, _ = EXPECTED[name]
    found = analyze_source((BUGGY / name).read_text(), name).findings
    assert [(f.code, f.line) for f in found] == [(code, line)], [f.text for f in found]


@pytest.mark.parametrize("path", sorted(USERS.glob("*.py")), ids=lambda p: p.name)
def test_correct_user_models_run_in_torch(path):
    pytest.importorskip("torch")
    runpy.run_path(str(path), run_name="__main__")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_buggy_user_models_fail_in_torch(name):
    torch = pytest.importorskip("torch")
    _, _, build = EXPECTED[name]
    with pytest.raises(RuntimeError):
        namespace = runpy.run_path(str(BUGGY / name), run_name="__main__")
        if build is not None:
            model_class, shape = build
            namespace[model_class]()(torch.zeros(shape))
