"""The plugin as users run it: `flake8 --select TSL` in a subprocess, exact path:line:col."""

from conftest import FIXTURES, flake8, locate

# PyTorch's formulas, by hand: conv k=3 p=1 keeps the size; MaxPool2d(2, 2) halves it (floor).
# 224 → 112 → 56 → 28 → 14 → 7;  32 → 16 → 8 → 4 → 2 → 1.


def lines_of(output):
    return sorted(line for line in output.splitlines() if line.strip())


def test_clean_vgg_family_and_symbolic_inputs_give_nothing():
    result = flake8("fixtures/vgg.py", "fixtures/vgg_no_avgpool.py", "fixtures/no_torch.py", "fixtures/noqa.py")
    assert result.stdout == "" and result.returncode == 0, result.stdout + result.stderr


def test_vgg_at_224_is_clean_with_and_without_the_adaptive_pool():
    result = flake8("--torchshape-input-shape=1,3,224,224", "fixtures/vgg.py", "fixtures/vgg_no_avgpool.py")
    assert result.stdout == "" and result.returncode == 0, result.stdout + result.stderr


def test_vgg_at_32_without_adaptive_pool_names_512():
    result = flake8("--torchshape-input-shape=1,3,32,32", "fixtures/vgg.py", "fixtures/vgg_no_avgpool.py")
    line, col = locate(FIXTURES / "vgg_no_avgpool.py", "nn.Linear(512 * 7 * 7")
    out = lines_of(result.stdout)
    assert len(out) == 1, result.stdout
    assert out[0].startswith(f"fixtures/vgg_no_avgpool.py:{line}:{col}: TSL001 ")
    assert "512 features arrive" in out[0] and "use 512 * 1 * 1" in out[0]
    assert "32x32 → 16x16 → 8x8 → 4x4 → 2x2 → 1x1" in out[0]
    assert "[in 8 builds]" in out[0]  # vgg11..vgg19_bn share the line


def test_linear_7x6_at_224():
    result = flake8("--torchshape-input-shape=1,3,224,224", "fixtures/vgg_linear_7x6.py")
    line, col = locate(FIXTURES / "vgg_linear_7x6.py", "nn.Linear(512 * 7 * 6")
    out = lines_of(result.stdout)
    assert len(out) == 1 and out[0].startswith(f"fixtures/vgg_linear_7x6.py:{line}:{col}: TSL001 ")
    assert f"in_features={512 * 7 * 6}" in out[0] and f"but {512 * 7 * 7} features arrive" in out[0]
    assert "use 512 * 7 * 7" in out[0]


def test_linear_7x6_without_input_is_silent():
    """7x6 maps come from some non-square inputs (H in 224..255, W in 192..223): not wrong for every input."""
    assert flake8("fixtures/vgg_linear_7x6.py").stdout == ""


def test_cfg_with_a_pool_removed_at_224():
    result = flake8("--torchshape-input-shape=1,3,224,224", "fixtures/vgg_pool_removed.py")
    line, col = locate(FIXTURES / "vgg_pool_removed.py", "nn.Linear(512 * 7 * 7")
    out = lines_of(result.stdout)
    assert len(out) == 1, result.stdout
    assert out[0].startswith(f"fixtures/vgg_pool_removed.py:{line}:{col}: TSL001 ")
    assert f"but {512 * 14 * 14} features arrive" in out[0] and "use 512 * 14 * 14" in out[0]
    assert "[in 2 builds]" in out[0]  # vgg16 and vgg16_bn use config D


def test_usage_input_lenet_on_mnist():
    result = flake8("fixtures/lenet_mnist.py")
    line, col = locate(FIXTURES / "lenet_mnist.py", "nn.Linear(16 * 5 * 5")
    # 28 -conv5-> 24 -pool2-> 12 -conv5-> 8 -pool2-> 4: 16 * 4 * 4 = 256
    assert lines_of(result.stdout) == [
        f"fixtures/lenet_mnist.py:{line}:{col}: TSL001 Linear(in_features=400) but 256 features arrive: "
        "input (64, 1, 28, 28); 28x28 → 24x24 → 12x12 → 8x8 → 4x4 through 2 Conv2d, 2 MaxPool2d; "
        "flattened 16*4*4 = 256; use 16 * 4 * 4"]
    assert result.returncode == 1


def test_sequential_forms():
    result = flake8("fixtures/sequential_forms.py")
    line, col = locate(FIXTURES / "sequential_forms.py", "nn.Linear(8 * 14 * 14")
    out = lines_of(result.stdout)
    # nested: 32 -conv4-> 29 -ceil pool2-> 15; the others are right
    assert len(out) == 1 and out[0].startswith(f"fixtures/sequential_forms.py:{line}:{col}: TSL001 ")
    assert f"but {8 * 15 * 15} features arrive" in out[0]


def test_noqa_is_honoured_and_without_it_the_finding_shows(tmp_path):
    source = (FIXTURES / "noqa.py").read_text()
    assert flake8("fixtures/noqa.py").stdout == ""
    bare = tmp_path / "bare.py"
    bare.write_text(source.replace("  # noqa: TSL001", ""))
    line, col = locate(bare, "nn.Linear(16 * 8 * 8")
    out = flake8(str(bare), cwd=tmp_path).stdout
    assert out.startswith(f"{bare}:{line}:{col}: TSL001 Linear(in_features=1024) but 4096 features arrive")


def test_option_read_from_setup_cfg(tmp_path):
    (tmp_path / "setup.cfg").write_text("[flake8]\ntorchshape-input-shape = 1,3,32,32\n")
    (tmp_path / "model.py").write_text((FIXTURES / "vgg_no_avgpool.py").read_text())
    out = flake8("model.py", cwd=tmp_path).stdout
    assert "TSL001" in out and "use 512 * 1 * 1" in out


def test_stdin_mode_as_editors_call_it():
    source = (FIXTURES / "lenet_mnist.py").read_text()
    result = flake8("--stdin-display-name", "pkg/lenet.py", "-", stdin=source)
    line, col = locate(FIXTURES / "lenet_mnist.py", "nn.Linear(16 * 5 * 5")
    assert result.stdout.startswith(f"pkg/lenet.py:{line}:{col}: TSL001 ")


def test_bad_option_value_is_a_usage_error():
    result = flake8("--torchshape-input-shape=1,x,3", "fixtures/vgg.py")
    assert result.returncode != 0 and "--torchshape-input-shape" in (result.stderr + result.stdout)
