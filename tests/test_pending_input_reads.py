"""Sizes read from a model's input before a layer has fixed its rank, as 1-D nets with a hand-written "same" padding
do (`x.shape[-1]`, then `F.pad`), and inputs given through torchsummaryX's `summary(model, x)`.

A pragma's rank-3 shape may be a batch of 1-D signals or one 2-D sample: the sizes counted from the end are the same
for both readings, so `x.shape[-1]` is known; `F.pad` pads the last sizes whatever the rank, so it applies once a
layer fixes it. Without any input, the padding is unknown and the channels are still checked."""

import runpy
import shutil

import pytest

from conftest import FIXTURES, cli, flake8, locate
from torchshape_lint.checks.analyze import analyze_source

ECG = FIXTURES / "pending_input" / "ecg_same_padding.py"
SUMMARYX = FIXTURES / "projects" / "ecg_summaryx"

# the block's second conv with stride 2: 1500 → 750 while its shortcut keeps 1500
STRIDE = ("self.conv2 = Conv1dPadSame(channels, channels, kernel_size, 1)",
          "self.conv2 = Conv1dPadSame(channels, channels, kernel_size, 2)")


def planted(tmp_path, source, original, mistake, name="ecg.py"):
    assert original in source
    path = tmp_path / name
    path.write_text(source.replace(original, mistake, 1))
    return path


def torch_error(path, shape):
    torch = pytest.importorskip("torch")
    namespace = runpy.run_path(str(path))
    with pytest.raises(RuntimeError) as error:
        namespace["ECGNet"]()(torch.zeros(shape))
    return str(error.value)


def test_the_correct_net_is_clean_and_runs_in_torch():
    assert flake8(str(ECG)).stdout == ""
    result = cli("--no-cache", "-q", str(ECG))
    assert result.stdout == "" and result.returncode == 0, result.stdout + result.stderr
    torch = pytest.importorskip("torch")
    assert tuple(runpy.run_path(str(ECG))["ECGNet"]()(torch.zeros(2, 1, 3000)).shape) == (2, 4)


def test_a_length_mistake_after_same_padding_is_found_on_the_pragmas_input(tmp_path):
    path = planted(tmp_path, ECG.read_text(), *STRIDE)
    message = torch_error(path, (2, 1, 3000))
    assert "The size of tensor a (750) must match the size of tensor b (1500) at non-singleton dimension 2" in message
    line, column = locate(path, "out + identity")
    expected = f"{path.name}:{line}:{column}: TSL009 a + b: {message}"
    assert flake8(path.name, cwd=tmp_path).stdout.splitlines()[0].startswith(expected)
    result = cli("--no-cache", "-q", path.name, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.splitlines() == [result.stdout.splitlines()[0]]
    assert result.stdout.startswith(expected), result.stdout


def test_the_padded_length_is_torchs():
    """The stem's padding comes from the pragma's length: what its Conv1d reads and gives is what PyTorch gives."""
    torch = pytest.importorskip("torch")
    model = runpy.run_path(str(ECG))["ECGNet"]()
    expected = tuple(model.stem(torch.zeros(2, 1, 3000)).shape)
    report = analyze_source(ECG.read_text(), str(ECG))
    stems = [step for build in report.builds for step in build.steps if step.label == "Conv1d"]
    assert stems and stems[0].after == expected and stems[0].before[:2] == (2, 1)


def test_without_an_input_the_channels_after_same_padding_are_checked(tmp_path):
    """No pragma, no usage: the padding is unknown, so the length is, but 32 channels still arrive at the head."""
    source = ECG.read_text().replace("# torchshape: input=(2, 1, 3000)\n", "")
    clean = tmp_path / "clean.py"
    clean.write_text(source)
    assert cli("--no-cache", "-q", clean.name, cwd=tmp_path).stdout == ""
    path = planted(tmp_path, source, "nn.Linear(channels, n_classes)", "nn.Linear(2 * channels, n_classes)")
    message = torch_error(path, (2, 1, 3000))
    assert "2x32 and 64x4" in message
    line, column = locate(path, "nn.Linear(2 * channels")
    result = cli("--no-cache", "-q", path.name, cwd=tmp_path)
    assert result.stdout.startswith(f"{path.name}:{line}:{column}: TSL001 Linear(in_features=64) but 32 features "
                                    "arrive"), result.stdout
    assert len(result.stdout.splitlines()) == 1


def test_only_the_sizes_both_readings_agree_on_are_known():
    """(2, 1, 3000) as a batch or as one sample (N, 2, 1, 3000): counted from the end, the sizes are the same; from
    the front (or past the written ones) they differ, so they stay unknown."""
    from torchshape_lint.evaluate.tensor_methods import tensor_attribute
    from torchshape_lint.shapes.tensor import model_input
    from torchshape_lint.unknown import UNKNOWN

    sizes = tensor_attribute(model_input((2, 1, 3000), exact=True, origin="pragma"), "shape", None)
    assert [sizes.item(i) for i in (-1, -2, -3)] == [3000, 1, 2]
    assert [sizes.item(i) for i in (0, 1, 2, -4)] == [UNKNOWN] * 4
    assert tensor_attribute(model_input((2, 1, 3000)), "shape", None) is UNKNOWN  # a run-wide default: not exact


# the segments' channel count one too many: 30 segments of (2, 50) where the Conv1d reads 1 channel
SEGMENTS = ("out.reshape(-1, self.n_len_seg, n_channel)", "out.reshape(-1, self.n_len_seg, n_channel + 1)")


def test_torchsummaryx_runs_the_model_on_the_tensor_it_is_given(tmp_path):
    project = tmp_path / "ecg_summaryx"
    shutil.copytree(SUMMARYX, project)
    assert cli("--no-cache", "-q", ".", cwd=project).stdout == ""
    model = project / "segment_net.py"
    model.write_text(model.read_text().replace(*SEGMENTS))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=r"expected input\[30, 2, 50\] to have 1 channels, but got 2 channels"):
        runpy.run_path(str(model))["SegmentNet"](in_channels=1, out_channels=16, n_len_seg=50,
                                                 n_classes=2)(torch.zeros(1, 1, 3000))
    use_line, use_column = locate(project / "check_model.py", "summary(model")
    layer_line, layer_column = locate(model, "nn.Conv1d(")
    finding = "TSL002 Conv1d(in_channels=1) but 2 arrive"
    through_flake8 = flake8("check_model.py", cwd=project).stdout.splitlines()
    assert through_flake8[0].startswith(f"check_model.py:{use_line}:{use_column}: {finding}"), through_flake8
    assert through_flake8[0].endswith(f"[layer at segment_net.py:{layer_line}]")
    lines = cli("--no-cache", "-q", ".", cwd=project).stdout.splitlines()
    assert any(line.startswith(f"./segment_net.py:{layer_line}:{layer_column}: {finding}") and
               line.endswith(f"[input from check_model.py:{use_line}]") for line in lines), lines
