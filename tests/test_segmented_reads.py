"""Sizes read from the end of a model's input of symbolic sizes (`x.shape[-2]`) before an op fixes its rank: each is a
symbol of its own, which `x.permute(0, 2, 1)` (rank 3) keeps, so a view by that size is followed, and `c + 1` of it is
never 1: a Conv1d of 1 input channel after it fails for every input."""

import runpy

import pytest

from conftest import FIXTURES, cli, flake8, locate
from torchshape_lint.evaluate.tensor_methods import PendingSizes
from torchshape_lint.shapes import dims
from torchshape_lint.shapes.tensor import model_input, of_rank

NET = FIXTURES / "pending_input" / "segmented_ecg.py"
PLANTED = ("out.view(-1, self.n_len_seg, n_channel)", "out.view(-1, self.n_len_seg, n_channel + 1)")


def test_the_correct_net_is_clean_and_runs_in_torch():
    torch = pytest.importorskip("torch")
    assert tuple(runpy.run_path(str(NET))["SegmentNet"]()(torch.zeros(2, 1, 3000)).shape) == (120, 2)
    assert flake8(str(NET)).stdout == ""
    result = cli("--no-cache", "-q", str(NET))
    assert result.stdout == "" and result.returncode == 0, result.stdout + result.stderr


def test_the_channels_one_more_than_read_are_found_where_torch_fails(tmp_path):
    path = tmp_path / "segmented.py"
    path.write_text(NET.read_text().replace(*PLANTED))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="expected input.* to have 1 channels, but got 2 channels"):
        runpy.run_path(str(path))["SegmentNet"]()(torch.zeros(2, 1, 3000))
    line, column = locate(path, "nn.Conv1d(in_channels, out_channels")
    expected = (f"{path.name}:{line}:{column}: TSL002 Conv1d(in_channels=1) but C+1 arrive for every input (input "
                "(N, C, L); permute (N, L, C) → view (?, 50, C+1) → permute (?, C+1, 50))")
    result = cli("--no-cache", "-q", path.name, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.splitlines()[0].startswith(expected), result.stdout
    assert flake8(path.name, cwd=tmp_path).stdout.splitlines()[0].startswith(expected)


def test_reads_from_the_end_are_the_sizes_a_fixed_rank_gives():
    x = model_input()
    sizes = PendingSizes((), dims.symbol("N"), x.family)
    assert of_rank(x, 3).shape == (sizes.item(0), sizes.item(-2), sizes.item(-1))
    assert sizes.unpacked(3) == list(of_rank(x, 3).shape)
    assert of_rank(x, 4).shape[-2:] == of_rank(x, 3).shape[-2:]  # counted from the end, whatever the rank
    assert sizes.item(-1) != PendingSizes((), dims.symbol("N"), model_input().family).item(-1)  # another input's
    assert of_rank(model_input(hint=(1, 3000), exact=True), 3) is None


def test_a_size_plus_an_int_is_never_below_it():
    c = dims.size_from_end(dims.new_family(), 2)
    assert dims.can_equal(c, 1) is True
    assert dims.can_equal(dims.plus(c, 1), 1) is False and dims.can_equal(dims.plus(c, 1), 2) is True
    assert dims.plus(dims.plus(c, 1), 2) == dims.plus(c, 3) and str(dims.plus(c, 3)) == "C+3"
    assert dims.plus(c, -1) is dims.UNKNOWN and dims.plus(c, 0) is dims.UNKNOWN and dims.plus(4, 1) == 5


def test_unpacking_the_shape_fixes_the_rank_as_permute_does(tmp_path):
    path = tmp_path / "unpacked.py"
    path.write_text(NET.read_text().replace(*PLANTED).replace(
        "n_channel, n_length = x.shape[-2], x.shape[-1]", "n_samples, n_channel, n_length = x.shape"))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="but got 2 channels"):
        runpy.run_path(str(path))["SegmentNet"]()(torch.zeros(2, 1, 3000))
    line, column = locate(path, "nn.Conv1d(in_channels, out_channels")
    result = cli("--no-cache", "-q", path.name, cwd=tmp_path)
    assert result.stdout.startswith(f"{path.name}:{line}:{column}: TSL002 Conv1d(in_channels=1) but C+1 arrive"), \
        result.stdout


def test_transpose_fixes_no_rank_and_stays_silent(tmp_path):
    """`x.transpose(1, 2)` runs on any rank from 3: the size read at -2 need not be the one it moves, so the view
    by it proves nothing (torch runs a rank-4 input through this net's first lines)."""
    path = tmp_path / "transposed.py"
    path.write_text(NET.read_text().replace(*PLANTED).replace("x.permute(0, 2, 1)", "x.transpose(1, 2)"))
    result = cli("--no-cache", "-q", path.name, cwd=tmp_path)
    assert result.stdout == "" and result.returncode == 0, result.stdout


def test_a_net_built_in_another_files_main_block_is_checked_there(tmp_path):
    """resnet1d's way: the class needs arguments, the script builds it under `if __name__ == "__main__":` on data
    it loads (symbolic sizes); the class on its own proves nothing (in_channels any int), the build does."""
    net = tmp_path / "segmented.py"
    net.write_text(NET.read_text().replace(*PLANTED).replace(
        "in_channels=1, out_channels=16, n_len_seg=50, n_classes=2", "in_channels, out_channels, n_len_seg, n_classes"))
    script = tmp_path / "train.py"
    script.write_text("import pickle\n\nimport torch\nfrom segmented import SegmentNet\n\n"
                      "if __name__ == \"__main__\":\n"
                      "    data = pickle.load(open(\"data.pkl\", \"rb\"))\n"
                      "    model = SegmentNet(in_channels=1, out_channels=16, n_len_seg=50, n_classes=2)\n"
                      "    pred = model(data)\n")
    torch = pytest.importorskip("torch")
    namespace = runpy.run_path(str(net))
    with pytest.raises(RuntimeError, match="but got 2 channels"):
        namespace["SegmentNet"](in_channels=1, out_channels=16, n_len_seg=50, n_classes=2)(torch.zeros(2, 1, 3000))
    line, column = locate(net, "nn.Conv1d(in_channels, out_channels")
    result = cli("--no-cache", "-q", net.name, script.name, cwd=tmp_path)
    at_layer = [f for f in result.stdout.splitlines() if f.startswith(f"{net.name}:{line}:{column}: TSL002 ")]
    assert at_layer and "but C+1 arrive for every input" in at_layer[0] and "[input from train.py:6]" in at_layer[0], \
        result.stdout
    assert cli("--no-cache", "-q", net.name, cwd=tmp_path).stdout == ""  # on its own: in_channels any positive int
