"""The fixtures' expected numbers, checked against PyTorch itself (the test extra installs it)."""

import runpy

import pytest

from conftest import FIXTURES

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["clean_seq_view.py", "clean_tencrop.py", "clean_pragma_flatten.py",
                                  "clean_option_vs_usage.py", "vgg.py", "sequential_forms.py"])
def test_clean_fixtures_run(name):
    namespace = runpy.run_path(str(FIXTURES / name), run_name="__main__")  # their own usage, if any, runs here
    assert any(isinstance(v, type) and issubclass(v, torch.nn.Module) for v in namespace.values()) or any(
        isinstance(v, torch.nn.Module) for v in namespace.values())  # it defines or builds a model


def test_lenet_on_mnist_fails_and_256_is_right():
    net_class = runpy.run_path(str(FIXTURES / "lenet_mnist.py"))["Net"]
    net = net_class()
    with pytest.raises(RuntimeError, match="mat1 and mat2"):
        net(torch.randn(64, 1, 28, 28))
    x = torch.nn.functional.max_pool2d(net.conv2(torch.nn.functional.max_pool2d(net.conv1(torch.zeros(1, 1, 28, 28)), 2)), 2)
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
