"""The fixtures' expected numbers, checked against PyTorch itself (the test extra installs it)."""

import runpy

import pytest

from conftest import FIXTURES

torch = pytest.importorskip("torch")


VGG_BUILDERS = [f"vgg{depth}{bn}" for depth in (11, 13, 16, 19) for bn in ("", "_bn")]
# Each clean fixture's models, built as the file builds them, on the input its pragma or usage gives (written by
# hand), with the text of that pragma or usage as it stands in the file.
CLEAN_RUNS = {
    "clean_seq_view.py": [("M()", (3, 7, 16), "M()(torch.randn(3, 7, 16))")],
    "clean_tencrop.py": [("M()", (2, 10, 3, 32, 32), "M()(torch.randn(2, 10, 3, 32, 32))")],
    "clean_option_vs_usage.py": [("Net()", (1, 1, 32, 32), "Net()(torch.randn(1, 1, 32, 32))")],
    # the batch left out of the pragma: one 3x32x32 image
    "clean_pragma_flatten.py": [("M()", (1, 3, 32, 32), "# torchshape: input=(3, 32, 32)\nclass M(nn.Module):")],
    # `nested` is the wrong one (test_nested_ceil_mode_pool_gives_15); the other three are clean
    "sequential_forms.py": [
        ("flat", (1, 3, 32, 32), "# torchshape: input=(1, 3, 32, 32)\nflat = nn.Sequential("),
        ("named", (1, 3, 32, 32), "# torchshape: input=(1, 3, 32, 32)\nnamed = nn.Sequential("),
        ("Classifier()", (1, 3, 32, 32), "# torchshape: input=(1, 3, 32, 32)\nclass Classifier(nn.Module):"),
    ],
    # torchvision's file as it is, with neither pragma nor usage: the tests give it 224x224 (--input-shape)
    "vgg.py": [(f"{builder}()", (1, 3, 224, 224), f"def {builder}(") for builder in VGG_BUILDERS],
}
NOT_CLEAN = {"sequential_forms.py": 1}  # pragmas above a model that is wrong on purpose


@pytest.mark.parametrize("name", sorted(CLEAN_RUNS))
def test_clean_fixtures_run(name):
    """Every model of a clean fixture runs in torch on its input: the file runs as `__main__` (its own usage runs),
    then each model is built as the file builds it and run on its input. All on the meta device, where torch checks
    shapes as on the CPU without computing. Every pragma of the file has its model here."""
    text = (FIXTURES / name).read_text()
    runs = CLEAN_RUNS[name]
    assert text.count("# torchshape:") == sum("# torchshape:" in where for *_, where in runs) + NOT_CLEAN.get(name, 0)
    with torch.device("meta"), torch.no_grad():
        namespace = runpy.run_path(str(FIXTURES / name), run_name="__main__")
        for build, shape, where in runs:
            assert where in text, where
            model = eval(build, namespace)
            assert isinstance(model.eval()(torch.zeros(shape)), torch.Tensor), build


def test_lenet_on_mnist_fails_and_256_is_right():
    net_class = runpy.run_path(str(FIXTURES / "lenet_mnist.py"))["Net"]
    net = net_class()
    with pytest.raises(RuntimeError, match="mat1 and mat2"):
        net(torch.randn(64, 1, 28, 28))
    pool = torch.nn.functional.max_pool2d
    x = pool(net.conv2(pool(net.conv1(torch.zeros(1, 1, 28, 28)), 2)), 2)
    assert x.flatten(1).shape[1] == 16 * 4 * 4


@pytest.mark.parametrize("size, per_side", [(32, 1), (224, 7)])
def test_vgg_without_adaptive_pool(size, per_side):
    module = runpy.run_path(str(FIXTURES / "vgg_no_avgpool.py"))
    model = module["vgg11"]().to("meta")
    features = model.features(torch.empty(1, 3, size, size, device="meta"))
    assert features.shape[1:] == (512, per_side, per_side)
    if per_side != 7:
        with pytest.raises(RuntimeError):
            model(torch.empty(1, 3, size, size, device="meta"))


def test_pool_removed_gives_14x14_and_7x6_is_wrong_at_224():
    removed = runpy.run_path(str(FIXTURES / "vgg_pool_removed.py"))["vgg16"]().to("meta")
    assert removed.features(torch.empty(1, 3, 224, 224, device="meta")).shape[1:] == (512, 14, 14)
    wrong = runpy.run_path(str(FIXTURES / "vgg_linear_7x6.py"))["vgg11"]().to("meta")
    with pytest.raises(RuntimeError):
        wrong(torch.empty(1, 3, 224, 224, device="meta"))
    # and 7x6 maps exist: H=224, W=192
    assert wrong.features(torch.empty(1, 3, 224, 192, device="meta")).shape[2:] == (7, 6)


def test_nested_ceil_mode_pool_gives_15():
    nested = runpy.run_path(str(FIXTURES / "sequential_forms.py"))["nested"]
    assert nested[:3](torch.zeros(1, 3, 32, 32)).shape[1] == 8 * 15 * 15
