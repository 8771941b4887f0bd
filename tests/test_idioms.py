"""Idioms of real model code: each file is checked statically, and the verdict is checked against torch."""

from pathlib import Path

import pytest

from torchshape_lint.checks.analyze import analyze_source

IDIOMS = Path(__file__).parent / "idioms"

# file -> (expected codes, the input torch runs it on, the in_features that would be right)
CASES = {
    "dataclass_config.py": (["TSL001"], None, 256),  # its own usage: MLP(Config(hidden=256))
    "lstm_classifier.py": (["TSL001"], None, 256),  # bidirectional: 2 * 128
    "torchinfo_summary.py": (["TSL001"], (1, 3, 32, 32), 16 * 15 * 15),
    "global_mean_pool.py": (["TSL001"], (2, 3, 17, 23), 128),  # wrong for every input: mean leaves 128 channels
    "residual_symbolic.py": (["TSL001"], (2, 3, 32, 32), 256),  # 128 * 2 after the last block, any input
    "method_decorators.py": (["TSL001"], None, 16 * 4 * 4),  # @staticmethod, @classmethod, @property
    "view_raw_input.py": (["TSL001"], (3, 784), 10 * 12 * 12),  # x.view(-1, 1, 28, 28) on the raw input
    # timm's to_2tuple: isinstance(x, collections.abc.Iterable), tuple(itertools.repeat(x, 2))
    "ntuple_patch_embed.py": (["TSL001"], (1, 3, 32, 32), 8 * 8 * 48),
}


def findings(name):
    return analyze_source((IDIOMS / name).read_text(), name).findings


@pytest.mark.parametrize("name", sorted(CASES))
def test_static_verdict(name):
    codes, _, right = CASES[name]
    found = findings(name)
    assert [f.code for f in found] == codes, [f.text for f in found]
    assert f"but {right} features arrive" in found[0].message


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_agrees(name):
    torch = pytest.importorskip("torch")
    _, shape, right = CASES[name]
    source = (IDIOMS / name).read_text()
    if "summary(" in source:  # torchinfo wraps the error: run the model ourselves
        pytest.importorskip("torchinfo")
        source = source[: source.index("summary(Net()")]
    namespace: dict = {}
    with pytest.raises(RuntimeError, match="mat1 and mat2") as error:
        exec(compile(source, name, "exec"), namespace)  # the file's own usage, if any, runs here
        model_class = namespace.get("Net") or namespace.get("ResNetish")
        model_class()(torch.zeros(shape))
    assert f"x{right} and" in str(error.value)  # PyTorch's own count of the features that arrive


def test_torchvision_resnet_mutation_is_found_without_input():
    tv = pytest.importorskip("torchvision.models.resnet")
    source = Path(tv.__file__).read_text()
    assert "nn.Linear(512 * block.expansion, num_classes)" in source
    clean = analyze_source(source, "resnet.py")
    assert clean.findings == []
    assert any(c.label == "Linear(in_features=512)" and c.agrees for c in clean.checks)
    broken = analyze_source(source.replace("nn.Linear(512 * block.expansion", "nn.Linear(500 * block.expansion"),
                            "resnet.py")
    assert {f.code for f in broken.findings} == {"TSL001"}
    assert any("but 512 features arrive" in f.message for f in broken.findings)  # BasicBlock: expansion 1
    assert any("but 2048 features arrive" in f.message for f in broken.findings)  # Bottleneck: expansion 4
