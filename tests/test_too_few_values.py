"""TSL008: InstanceNorm over a single spatial value. Reported exactly where torch raises in eval mode (the mode
--confirm runs models in): without running statistics; with them it raises in training only."""

import json

import pytest

from conftest import cli

CASES = [(1, (2, 4, 1)), (2, (2, 4, 1, 1)), (3, (2, 4, 1, 1, 1)), (2, (2, 4, 1, 2)), (1, (2, 4, 3))]
TRACK = ["", ", track_running_stats=False", ", track_running_stats=True", ", affine=True"]


def raises_in_eval(nd, shape, extra):
    torch = pytest.importorskip("torch")
    layer = eval(f"torch.nn.InstanceNorm{nd}d(4{extra})", {"torch": torch}).eval()
    try:
        layer(torch.zeros(shape))
    except ValueError as error:
        return str(error)
    return None


@pytest.mark.parametrize("nd, shape", CASES)
def test_instance_norm_on_one_value_is_reported_where_torch_raises_in_eval_mode(tmp_path, nd, shape):
    lines = ["import torch.nn as nn", ""]
    for i, extra in enumerate(TRACK):
        lines += [f"# torchshape: input={shape}", f"model{i} = nn.Sequential(nn.InstanceNorm{nd}d(4{extra}))", ""]
    (tmp_path / "m.py").write_text("\n".join(lines))
    result = cli("--no-cache", "--format", "json", "m.py", cwd=tmp_path)
    found = {f["line"]: f for f in json.loads(result.stdout)}
    expected = {}
    for i, extra in enumerate(TRACK):
        error = raises_in_eval(nd, shape, extra)
        if error is not None:
            expected[4 + 3 * i] = error
    assert sorted(found) == sorted(expected), result.stdout
    for line, error in expected.items():
        finding = found[line]
        assert (finding["code"], finding["column"]) == ("TSL008", len("model0 = nn.Sequential(") + 1)
        # torch's words, and the size torch shows
        words = error.split(", got input size torch.Size(")[0]
        size = error.split("torch.Size([")[1].split("])")[0]
        assert f"{words}, got input size ({size})" in finding["message"], (finding["message"], error)
    assert result.returncode == (1 if expected else 0)


def test_functional_instance_norm_on_one_value(tmp_path):
    torch = pytest.importorskip("torch")
    source = '''import torch
import torch.nn.functional as F

x = torch.zeros(2, 4, 1, 1)
y = F.instance_norm(x)
z = F.instance_norm(torch.zeros(2, 4, 1, 2))
'''
    (tmp_path / "f.py").write_text(source)
    result = cli("--no-cache", "f.py", cwd=tmp_path)
    assert result.returncode == 1
    assert [line.split(": ", 1)[0] for line in result.stdout.splitlines()] == ["f.py:5:5"]
    assert "F.instance_norm: Expected more than 1 spatial element when training, got input size (2, 4, 1, 1)" \
        in result.stdout
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        exec(source, {})
    torch.nn.functional.instance_norm(torch.zeros(2, 4, 1, 2))  # the other line runs
