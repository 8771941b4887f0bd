"""Matrix products, explicit weights, factories and channel dropout as users write them (fixtures/products): each
fixture is correct, runs in torch and is clean through flake8 and the command line; with one planted mistake torch
raises, and the finding sits at the line and column of the call torch fails in (a layer's constructor for a layer),
in torch's own words where the rule quotes them."""

import runpy

import pytest

from conftest import FIXTURES, cli, flake8, locate, plant, torch_error

PRODUCTS = FIXTURES / "products"

# fixture: (text replaced, planted mistake, code, text locating the finding, what torch's error says)
PLANTED = {
    # without the transpose, (2, 4, 10, 16) @ (2, 4, 10, 16): 16 columns against 10 rows, over 2 * 4 batches
    "attention.py": ("q @ k.transpose(-2, -1)", "q @ k", "TSL012", "q @ k",
                     "Expected size for first two dimensions of batch2 tensor to be: [8, 16] but got: [8, 10]"),
    # the features have 1433 columns, the first weight 1432 rows
    "gcn.py": ("model = GCN()", "model = GCN(nfeat=1432)", "TSL012", "torch.mm(x, self.weight)",
               "mat1 and mat2 shapes cannot be multiplied (50x1433 and 1432x16)"),
    # the keys are projected to 32 features, the queries to 16: `d` names both
    "bilinear_einsum.py": ("nn.Linear(key_dim, dim)", "nn.Linear(key_dim, dim * 2)", "TSL012", "torch.einsum(",
                           "einsum(): subscript d has size 32 for operand 1 which does not broadcast with previously "
                           "seen size 16"),
    # conv1 gives 32 channels; conv2's weight takes 16
    "functional_weights.py": ("torch.randn(64, 32, 3, 3)", "torch.randn(64, 16, 3, 3)", "TSL002",
                              "F.conv2d(x, self.conv2_weight",
                              "expected input[4, 32, 14, 14] to have 16 channels, but got 32 channels instead"),
    # 28 -> 14 -> 7 through the two pools: 64 * 7 * 7 features arrive, not 64 * 8 * 8
    "functional_weights_fc.py": ("64 * 7 * 7", "64 * 8 * 8", "TSL001", "F.linear(x.flatten(1)",
                                 "mat1 and mat2 shapes cannot be multiplied (4x3136 and 4096x5)"),
    # one position more than tokens
    "positions.py": ("torch.arange(0, T,", "torch.arange(0, T + 1,", "TSL009", "self.tokens(ids) + self.positions",
                     "The size of tensor a (16) must match the size of tensor b (17) at non-singleton dimension 1"),
    # the pool gives 8 * 5 * 5 features, the projection takes 8 * 4 * 4
    "projection_in_place.py": ("nn.AdaptiveAvgPool2d(4)", "nn.AdaptiveAvgPool2d(5)", "TSL012", "x @= self.proj",
                               "mat1 and mat2 shapes cannot be multiplied (4x200 and 128x16)"),
    # Dropout1d reads (N, C, L), and the block gives (N, C, H, W)
    "spectrogram_dropout.py": ("nn.Dropout2d(0.1)", "nn.Dropout1d(0.1)", "TSL004", "nn.Dropout1d(0.1)",
                               "dropout1d: Expected 2D or 3D input, but received a 4D input"),
}
FIXTURE = {"functional_weights_fc.py": "functional_weights.py"}  # two mistakes planted in one fixture


def planted(name, tmp_path):
    original, mistake, *_ = PLANTED[name]
    return plant(PRODUCTS / FIXTURE.get(name, name), original, mistake, tmp_path / name)


def test_every_fixture_has_a_planted_mistake():
    assert sorted(p.name for p in PRODUCTS.glob("*.py")) == sorted({FIXTURE.get(n, n) for n in PLANTED})


def test_correct_fixtures_run_in_torch_and_are_clean_through_flake8_and_the_cli():
    pytest.importorskip("torch")
    paths = sorted(str(p) for p in PRODUCTS.glob("*.py"))
    for path in paths:
        runpy.run_path(path, run_name="__main__")
    result = flake8(*paths)
    assert result.stdout == "" and result.returncode == 0, result.stdout + result.stderr
    result = cli("--quiet", *paths)
    assert result.stdout == "" and result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_planted_mistake_is_found_where_torch_fails(name, tmp_path):
    path = planted(name, tmp_path)
    _, _, code, needle, message = PLANTED[name]
    line, column = locate(path, needle)
    result = flake8(path.name, cwd=tmp_path)
    found = result.stdout.splitlines()
    assert len(found) == 1 and found[0].startswith(f"{path.name}:{line}:{column}: {code} "), \
        result.stdout + result.stderr
    result = cli("--quiet", path.name, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.startswith(f"{path.name}:{line}:{column}: {code} "), result.stdout
    error, raised_at = torch_error(path)
    assert message in error
    if code != "TSL004":  # a layer's rank is reported at its constructor, torch raises where it is applied
        assert raised_at == line
    if code in ("TSL009", "TSL012"):  # these rules quote torch
        assert message in found[0]


def test_confirm_runs_the_planted_mistakes_and_agrees(tmp_path):
    """--confirm builds each model and runs it in torch on zeros (integer ones where an Embedding reads them first,
    as in positions): every finding confirmed. Not the models that take two tensors (gcn, bilinear_einsum: confirm
    feeds one): those files run in torch in the test above."""
    pytest.importorskip("torch")
    correct = cli("--no-cache", "--quiet", "--confirm", "--device", "cpu", *sorted(map(str, PRODUCTS.glob("*.py"))))
    assert (correct.returncode, correct.stdout) == (0, ""), correct.stdout  # nothing added to a correct file
    names = sorted(set(PLANTED) - {"gcn.py", "bilinear_einsum.py"})
    for name in names:
        planted(name, tmp_path)
    result = cli("--confirm", "--device", "cpu", "--quiet", *names, cwd=tmp_path)
    reported = result.stdout.splitlines()
    assert [row.split(" ")[1] for row in reported] == [PLANTED[name][2] for name in names], result.stdout
    assert all(row.endswith("[confirmed on cpu]") for row in reported), result.stdout


@pytest.mark.parametrize("rank", range(1, 6))
@pytest.mark.parametrize("spelling", ["nn.Dropout1d(0.2)(x)", "F.dropout1d(x, 0.2, training=False)"])
def test_dropout1d_reports_what_torch_raises_on(spelling, rank):
    """Dropout1d raises on a rank other than 2 or 3, in eval mode too (torch 2.14); the finding says so, no other."""
    torch = pytest.importorskip("torch")
    from torchshape_lint.checks.analyze import analyze_source

    shape = (2, 3, 4, 5, 6)[:rank]
    text = (f"import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
            f"x = torch.zeros{shape}\ny = {spelling}\n")
    try:
        eval(spelling, {"nn": torch.nn, "F": torch.nn.functional, "x": torch.zeros(shape)})
        raises = False
    except RuntimeError as error:
        raises = "dropout1d: Expected 2D or 3D input" in str(error)
    codes = [finding.code for finding in analyze_source(text, "drop.py").findings]
    assert codes == (["TSL004"] if raises else [])
