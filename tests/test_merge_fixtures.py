"""Merges as users write them (fixtures/users/u26-u29, each with one planted mistake in fixtures/buggy/b16-b19): a
ResNet block whose shortcut keeps the stride, a U-Net fed a size the pools do not halve twice, a channel-split block
whose branch gives all the channels, two streams summed with torch.add at different resolutions. Through flake8 and
the command line, at the merge's line and column; and torch raises there, in the words the finding quotes."""


import pytest

from conftest import FIXTURES, cli, flake8, locate, torch_error

# buggy file -> the correct one, and the merge where torch raises (the first line holding it)
CASES = {
    "b16_resnet_shortcut_stride.py": ("u26_resnet_basic_block.py", "self.bn2(self.conv2(out)) + self.shortcut(x)"),
    "b17_unet_skip_size.py": ("u27_unet_skip.py", "torch.cat([x2, x1], dim=1)"),
    "b18_channel_split.py": ("u28_channel_split.py", "x1 + self.branch(x2)"),
    "b19_two_streams_add.py": ("u29_two_streams.py", "torch.add(self.rgb(rgb), self.depth(depth))"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_flake8_reports_the_merge_where_torch_raises(name):
    path = FIXTURES / "buggy" / name
    line, column = locate(path, CASES[name][1])
    result = flake8(f"fixtures/buggy/{name}")
    reported = result.stdout.splitlines()
    assert len(reported) == 1 and reported[0].startswith(f"fixtures/buggy/{name}:{line}:{column}: TSL009 "), \
        result.stdout + result.stderr
    message, raised_at = torch_error(path)
    assert raised_at == line
    assert message.rstrip(".") in reported[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_command_line_agrees_and_the_correct_file_is_clean(name):
    correct = CASES[name][0]
    line, column = locate(FIXTURES / "buggy" / name, CASES[name][1])
    result = cli("--quiet", f"fixtures/buggy/{name}", f"fixtures/users/{correct}")
    assert result.returncode == 1
    assert [row.split(" ")[0] for row in result.stdout.splitlines()] == [f"fixtures/buggy/{name}:{line}:{column}:"]
    clean = flake8(f"fixtures/users/{correct}")
    assert (clean.stdout, clean.returncode) == ("", 0)


def test_noqa_on_the_merge_line_silences_it(tmp_path):
    text = (FIXTURES / "buggy" / "b16_resnet_shortcut_stride.py").read_text()
    merge = CASES["b16_resnet_shortcut_stride.py"][1]
    path = tmp_path / "block.py"
    path.write_text(text.replace(merge, merge + "  # noqa: TSL009"))
    result = flake8(str(path))
    assert (result.stdout, result.returncode) == ("", 0)


def test_the_message_names_both_operands_and_where_each_came_from():
    result = cli("--quiet", "fixtures/buggy/b17_unet_skip_size.py")
    # 50 → 25 (MaxPool2d) → 12 (MaxPool2d) → 24 (ConvTranspose2d, k=2, s=2): the skip has 25, the upsampled map 24
    assert "tensor 0 (1, 64, 25, 25) from BatchNorm2d" in result.stdout
    assert "tensor 1 (1, 64, 24, 24) from ConvTranspose2d (line 24)" in result.stdout


def test_confirm_runs_them_and_agrees():
    """--confirm builds each model and runs it in torch: every merge finding confirmed, nothing new on the correct
    files (no TSL901 shape disagreement, no TSL902 unpredicted error)."""
    pytest.importorskip("torch")
    files = [f"fixtures/buggy/{name}" for name in sorted(CASES)] + [f"fixtures/users/{c}" for c, _ in CASES.values()]
    result = cli("--confirm", "--device", "cpu", "--quiet", *files)
    reported = result.stdout.splitlines()
    assert [row.split(" ")[1] for row in reported] == ["TSL009"] * len(CASES), result.stdout + result.stderr
    assert all(row.endswith("[confirmed on cpu]") for row in reported), result.stdout
