"""TSL007: a dim the tensor's known rank does not have, at the call, with PyTorch's own words (each message is
compared with the error torch raises for the same line)."""

import pytest

from conftest import cli, flake8

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\nx = torch.zeros(2, 3, 4, 5)\n"

# Each line raises in torch; the call that raises starts at the first character after "y = ".
WRONG = [
    "y = x.permute(0, 1, 2, 7)",
    "y = x.permute((0, 2, 1))",
    "y = x.permute(0, 1, 1, 2)",
    "y = torch.permute(x, (0, -5, 1, 2))",
    "y = x.transpose(1, 4)",
    "y = torch.transpose(x, -5, 1)",
    "y = x.flatten(5)",
    "y = torch.flatten(x, 1, 6)",
    "y = x.flatten(3, 1)",
    "y = nn.Flatten(3, 1)(x)",
    "y = x.unsqueeze(5)",
    "y = x.unsqueeze(-6)",
    "y = x.squeeze(4)",
    "y = torch.cat([x, x], 4)",
    "y = torch.cat((x, x), dim=-5)",
    "y = torch.stack([x, x], 5)",
    "y = F.softmax(x, dim=4)",
    "y = F.log_softmax(x, -5)",
    "y = x.softmax(4)",
    "y = torch.log_softmax(x, dim=7)",
    "y = nn.Softmax(dim=4)(x)",
    "y = nn.LogSoftmax(4)(x)",
    "y = x.size(4)",
    "y = x.size(-5)",
    "y = x.mean(4)",
    "y = x.sum((1, 4))",
    "y = x.sum((1, -3))",
    "y = torch.amax(x, dim=-7)",
    "y = nn.Unflatten(4, (1, 5))(x)",
    "y = x.chunk(2, dim=4)",
    "y = torch.split(x, 2, dim=-5)",
    "y = x.narrow(4, 0, 1)",
    "y = x.unbind(-5)",
]

# The same ops with dims in range: torch runs them, the analysis must stay silent.
RIGHT = [
    "y = x.permute(0, 2, 3, 1)",
    "y = x.permute((0, -1, 1, 2))",
    "y = x.transpose(-1, 0)",
    "y = x.flatten(-4, 3)",
    "y = nn.Flatten(1, -1)(x)",
    "y = x.unsqueeze(4)",
    "y = x.unsqueeze(-5)",
    "y = x.squeeze(-4)",
    "y = torch.cat([x, x], -4)",
    "y = torch.stack([x, x], 4)",
    "y = torch.stack([x, x], -5)",
    "y = F.softmax(x, dim=-4)",
    "y = nn.Softmax(dim=3)(x)",
    "y = x.size(-4)",
    "y = x.mean((0, -1), keepdim=True)",
    "y = nn.Unflatten(-1, (1, 5))(x)",
    "y = x.chunk(2, dim=-1)",
    "y = torch.split(x, [1, 3], dim=-2)",
    "y = x.narrow(3, 1, 4)",
    "y = x.unbind(-4)",
]


def torch_error(line):
    torch = pytest.importorskip("torch")
    namespace = {}
    exec(HEAD, namespace)
    try:
        exec(line, namespace)
    except (IndexError, RuntimeError) as error:
        return str(error).splitlines()[0]
    assert torch  # the line ran
    return None


def findings(tmp_path, lines):
    path = tmp_path / "dims.py"
    path.write_text(HEAD + "\n".join(lines) + "\n")
    result = flake8("dims.py", cwd=tmp_path)
    return result, [line.split(" ", 1) for line in result.stdout.splitlines()]


def test_each_wrong_dim_is_one_finding_at_its_call_with_torchs_words(tmp_path):
    result, found = findings(tmp_path, WRONG)
    first = len(HEAD.splitlines()) + 1
    expected = [f"dims.py:{first + i}:{len('y = ') + 1}:" for i in range(len(WRONG))]
    assert [place for place, _ in found] == expected, result.stdout
    for line, (_, text) in zip(WRONG, found):
        assert text.startswith("TSL007 "), text
        error = torch_error(line)
        assert error is not None, f"torch runs {line}"
        problem = text.split(": ", 1)[1]
        assert problem in error, (line, problem, error)


def test_dims_in_range_are_silent_and_run_in_torch(tmp_path):
    result, found = findings(tmp_path, RIGHT)
    assert (result.returncode, found) == (0, []), result.stdout
    for line in RIGHT:
        assert torch_error(line) is None, line


def test_a_dim_of_a_rank_that_is_not_known_is_silent(tmp_path):
    """Without an input, the rank of what reaches forward() is not known: nothing to prove."""
    path = tmp_path / "net.py"
    path.write_text(HEAD + '''

class Net(nn.Module):
    def forward(self, x):
        return x.permute(0, 1, 2, 7)
''')
    result = cli("--no-cache", "net.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")


def test_a_permute_in_forward_on_the_models_input(tmp_path):
    path = tmp_path / "net.py"
    path.write_text('''import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        x = self.conv(x)
        return x.permute(0, 1, 2, 7)


Net()(torch.zeros(1, 3, 16, 16))
''')
    result = cli("--no-cache", "net.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ("net.py:12:16: TSL007 permute(0, 1, 2, 7) on (1, 8, 16, 16): Dimension out of range "
                             "(expected to be in range of [-4, 3], but got 7)\n")


def test_wrap_dim_is_pytorchs_maybe_wrap_dim():
    """Against torch for every rank 0..4 and dims -6..6 (a scalar wraps as rank 1, as in torch)."""
    torch = pytest.importorskip("torch")
    from torchshape_lint.shapes.dims import dim_out_of_range, wrap_dim

    for rank in range(5):
        x = torch.zeros((2, 3, 4, 5)[:rank])
        for dim in range(-6, 7):
            try:
                x.flatten(dim, dim)  # raises exactly where the dim is out of range
            except IndexError as error:
                assert wrap_dim(dim, rank) is None, (rank, dim)
                assert dim_out_of_range(dim, rank) == str(error), (rank, dim)
                continue
            index = wrap_dim(dim, rank)
            assert index is not None and (rank == 0 and index == 0 or x.size(dim) == x.shape[index]), (rank, dim)
