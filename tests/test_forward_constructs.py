"""The forward() that real models write (fixtures/forward): branches on the module, tensor methods that keep or change
the shape in place, starred sizes, weight_norm wrappers, RNN initial states. Each fixture is correct, runs in torch
and is clean through flake8 and the CLI; with one planted mistake torch raises, and the finding sits at the line of
the call torch fails in (or the layer it names), with its exact column."""

import runpy

import pytest

from conftest import FIXTURES, cli, flake8, locate, plant
from torchshape_lint.checks.analyze import analyze_source
from torchshape_lint.evaluate.interpreter import Interpreter
from torchshape_lint.evaluate.layer_attributes import layer_attribute
from torchshape_lint.source.reader import SourceFile
from torchshape_lint.unknown import UNKNOWN

FORWARD = FIXTURES / "forward"

# fixture: (text replaced, planted mistake, code, text locating the finding, what torch's error says)
PLANTED = {
    # 32 → 16 (max_pool2d: the stem's stride reads (1, 1)) → 8 → 4 through the blocks: 64 * 4 * 4 arrive
    "resnet_branches.py": ("nn.Linear(64 * 4 * 4", "nn.Linear(64 * 8 * 8", "TSL001", "nn.Linear(64 * 8 * 8",
                           "2x1024 and 4096x10"),
    # unsqueeze_ gives the (4, 28, 28) batch one channel
    "tensor_methods.py": ("nn.Conv2d(1, 8", "nn.Conv2d(3, 8", "TSL002", "nn.Conv2d(3, 8",
                          "to have 3 channels, but got 1 channels"),
    # 8 samples of 3 * 28 * 28 cannot be viewed as (8, 1, 28, 28)
    "gan_starred_view.py": ("nn.Linear(256, 1 * 28 * 28)", "nn.Linear(256, 3 * 28 * 28)", "TSL005",
                            "img.view(img.size(0), *self.img_shape)", "invalid for input of size 18816"),
    # block1 gives 16 channels; block2's weight_norm-wrapped conv1 declares 8
    "tcn_weight_norm.py": ("self.block2 = TemporalBlock(16,", "self.block2 = TemporalBlock(8,", "TSL002",
                           "nn.Conv1d(n_inputs", "to have 8 channels, but got 16 channels"),
    # the domain head reads the features through GradientReversal.apply: 48 * 4 * 4 arrive
    "dann_gradient_reversal.py": ("nn.Sequential(nn.Linear(48 * 4 * 4, 100)",
                                  "nn.Sequential(nn.Linear(48 * 5 * 5, 100)", "TSL001", "nn.Linear(48 * 5 * 5",
                                  "2x768 and 1200x100"),
    # without output_size the unpooling gives (4 - 1) * 2 + 2 = 8, not the 9 the encoder saw
    "segnet_unpool.py": ("output_size=size1)", ")", "TSL001", "nn.Linear(num_classes * 9 * 9",
                         "2x256 and 324x1"),
    # the levels, registered and read back by name, keep 3 channels: the last conv reads 3, not 4
    "tree_named_levels.py": ("self.last = nn.Conv2d(3, 8, 1)", "self.last = nn.Conv2d(4, 8, 1)", "TSL002",
                             "nn.Conv2d(4, 8, 1)", "to have 4 channels, but got 3 channels"),
    # num_layers=2: h0 must be (2, 4, 20)
    "lstm_initial_state.py": ("h0 = torch.zeros(self.num_layers,", "h0 = torch.zeros(1,", "TSL011",
                              "self.lstm(x, (h0, c0))", "Expected hidden[0] size (2, 4, 20), got [1, 4, 20]"),
}


def planted(name, tmp_path):
    original, mistake, *_ = PLANTED[name]
    return plant(FORWARD / name, original, mistake, tmp_path / name)


def test_every_fixture_has_a_planted_mistake():
    assert sorted(p.name for p in FORWARD.glob("*.py")) == sorted(PLANTED)


def test_correct_fixtures_are_clean_through_flake8_and_the_cli():
    paths = [str(FORWARD / name) for name in sorted(PLANTED)]
    result = flake8(*paths)
    assert result.stdout == "" and result.returncode == 0, result.stdout + result.stderr
    result = cli("--quiet", *paths)
    assert result.stdout == "" and result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_planted_mistake_is_found_at_the_failing_call(name, tmp_path):
    path = planted(name, tmp_path)
    _, _, code, needle, message = PLANTED[name]
    line, col = locate(path, needle)
    result = flake8(path.name, cwd=tmp_path)
    found = result.stdout.splitlines()
    assert len(found) == 1 and found[0].startswith(f"{path.name}:{line}:{col}: {code} "), result.stdout + result.stderr
    result = cli("--quiet", path.name, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.startswith(f"{path.name}:{line}:{col}: {code} "), result.stdout
    if code == "TSL011":  # the state's check words it as torch does
        assert message in result.stdout


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_torch_runs_the_fixture_and_fails_on_the_planted_mistake(name, tmp_path):
    pytest.importorskip("torch")
    runpy.run_path(str(FORWARD / name), run_name="__main__")
    with pytest.raises(RuntimeError) as error:
        runpy.run_path(str(planted(name, tmp_path)), run_name="__main__")
    assert PLANTED[name][4] in str(error.value)


def test_unknown_presence_stays_unknown_and_the_stop_is_named(tmp_path):
    """hasattr of an attribute set on a path the evaluator cannot decide decides nothing: no finding either way;
    explain's last row and --verbose say where the tensors stopped being followed, and why."""
    source = (FORWARD / "resnet_branches.py").read_text().replace(
        "if stride != 1 or in_planes != planes:", "if torch.cuda.is_available() or stride != 1:").replace(
        "nn.Linear(64 * 4 * 4", "nn.Linear(64 * 8 * 8")
    path = tmp_path / "unknown_branch.py"
    path.write_text(source)
    result = cli("--quiet", path.name, cwd=tmp_path)
    assert result.stdout == "" and result.returncode == 0, result.stdout
    line, _ = locate(path, 'if hasattr(self, "downsample"):')
    stop = f"x not known past the `if` at line {line}: its condition is not known"
    table = cli("explain", f"{path.name}::ResNet", cwd=tmp_path).stdout.splitlines()
    assert table[-2:] == [f"stops here: {stop}", table[-1]] and table[-1].startswith("total params"), table
    verbose = cli("--quiet", "--verbose", "--no-cache", path.name, cwd=tmp_path).stdout.splitlines()
    assert f"{path.name}:{line}: ResNet stops here: {stop}" in verbose


LAYERS = [  # (constructor as written, the attributes forward() reads)
    ("nn.Conv2d(3, 8, 3, 2, 1)", ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                                  "groups", "bias")),
    ("nn.Conv1d(3, 8, 5, padding='same', bias=False)", ("kernel_size", "padding", "bias")),
    ("nn.ConvTranspose2d(8, 4, 4, 2, 1, 1)", ("kernel_size", "stride", "output_padding")),
    ("nn.MaxPool2d(3)", ("kernel_size", "stride", "padding", "ceil_mode")),
    ("nn.AvgPool1d(3)", ("kernel_size", "stride", "padding")),
    ("nn.AvgPool2d(3, 1)", ("kernel_size", "stride")),
    ("nn.BatchNorm2d(8, affine=False)", ("num_features", "eps", "momentum", "affine")),
    ("nn.LayerNorm(8)", ("normalized_shape", "eps")),
    ("nn.Linear(3, 4, bias=False)", ("in_features", "out_features", "bias")),
    ("nn.LSTM(10, 20, 2, batch_first=True, dropout=0)", ("input_size", "hidden_size", "num_layers", "batch_first",
                                                         "dropout", "bidirectional", "proj_size")),
    ("nn.Dropout(0)", ("p", "inplace")),
    ("nn.Dropout2d()", ("p",)),
    ("nn.Upsample(scale_factor=2)", ("scale_factor", "size", "mode")),
    ("nn.Upsample(scale_factor=(2, 3))", ("scale_factor",)),
    ("nn.Upsample(size=4)", ("scale_factor", "size")),
]


@pytest.mark.parametrize("constructor, names", LAYERS, ids=[c for c, _ in LAYERS])
def test_layer_attributes_read_as_torch_stores_them(constructor, names):
    nn = pytest.importorskip("torch.nn")
    interpreter = Interpreter(SourceFile(f"import torch.nn as nn\nlayer = {constructor}\n", "layer.py"))
    interpreter.run_module()
    layer = interpreter.globals.vars["layer"]
    built = eval(constructor, {"nn": nn})
    for name in names:
        value, expected = layer_attribute(layer, name), getattr(built, name)
        if hasattr(expected, "shape"):  # a parameter tensor (a bias): not a value the evaluator holds
            assert value is UNKNOWN, name
        else:
            assert (value, type(value)) == (expected, type(expected)), name


@pytest.mark.parametrize("constructor, shape", [
    ("nn.LSTM(10, 20, 2, batch_first=True)", (4, 7, 10)),
    ("nn.LSTM(10, 20, proj_size=5, bidirectional=True)", (7, 3, 10)),
    ("nn.GRU(10, 16, 3)", (7, 10)),
    ("nn.RNN(10, 8, bidirectional=True, batch_first=True)", (2, 5, 10)),
])
def test_recurrent_final_states_are_torch_shapes(constructor, shape):
    torch = pytest.importorskip("torch")
    interpreter = Interpreter(SourceFile(f"import torch\nimport torch.nn as nn\nout, state = {constructor}("
                                         f"torch.zeros{shape})\n", "rnn.py"))
    interpreter.run_module()
    state = interpreter.globals.vars["state"]
    _, expected = eval(constructor, {"nn": torch.nn})(torch.zeros(shape))
    if isinstance(expected, tuple):
        assert [t.shape for t in state] == [tuple(t.shape) for t in expected]
    else:
        assert state.shape == tuple(expected.shape)


STATES = [  # (layer, input shape, state as written): every one raises in torch, and the finding words it as torch does
    ("nn.LSTM(10, 20, 2, batch_first=True)", (4, 7, 10), "(torch.zeros(1, 4, 20), torch.zeros(2, 4, 20))"),
    ("nn.LSTM(10, 20, 2, batch_first=True)", (4, 7, 10), "(torch.zeros(2, 4, 20), torch.zeros(2, 7, 20))"),
    ("nn.LSTM(10, 20, proj_size=5)", (7, 3, 10), "(torch.zeros(1, 3, 20), torch.zeros(1, 3, 20))"),
    ("nn.LSTM(10, 20)", (7, 3, 10), "(torch.zeros(1, 20), torch.zeros(1, 20))"),
    ("nn.GRU(10, 16, bidirectional=True)", (7, 3, 10), "torch.zeros(1, 3, 16)"),
    ("nn.GRU(10, 16)", (7, 10), "torch.zeros(1, 1, 16)"),
    ("nn.RNN(10, 16, 3)", (7, 10), "torch.zeros(2, 16)"),
]


@pytest.mark.parametrize("constructor, shape, state", STATES, ids=[f"{c} {s}" for c, _, s in STATES])
def test_recurrent_state_findings_say_what_torch_says(constructor, shape, state):
    pytest.importorskip("torch")
    source = f"import torch\nimport torch.nn as nn\n\nrnn = {constructor}\nout = rnn(torch.zeros{shape}, {state})\n"
    found = analyze_source(source, "state.py").findings
    with pytest.raises(RuntimeError) as error:
        exec(source, {})
    assert [(f.code, f.line) for f in found] == [("TSL011", 5)], [f.text for f in found]
    assert found[0].message == f"{constructor.split('(')[0][3:]}: {error.value}"


def test_the_right_states_are_clean_and_run():
    torch = pytest.importorskip("torch")
    source = ("import torch\nimport torch.nn as nn\n\nlstm = nn.LSTM(10, 20, 2, batch_first=True, bidirectional=True)\n"
              "x = torch.zeros(4, 7, 10)\n"
              "out, (h, c) = lstm(x, (torch.zeros(4, x.size(0), 20), torch.zeros(4, 4, 20)))\n"
              "gru = nn.GRU(10, 16)\nout, h = gru(torch.zeros(7, 10), torch.zeros(1, 16))\n")
    assert analyze_source(source, "state.py").findings == []
    exec(source, {"torch": torch})


def test_in_place_reshapes_reach_every_name_of_the_tensor():
    source = ("import torch\nimport torch.nn as nn\n\nx = torch.zeros(4, 28, 28)\ny = x\nx.unsqueeze_(1)\n"
              "nn.Conv2d(1, 8, 3)(y)\nz = torch.zeros(4, 3, 8)\nz.transpose_(1, 2)\nnn.Linear(3, 2)(z)\n"
              "w = torch.zeros(4, 3)\nw.resize_(4, 5)\nnn.Linear(9, 2)(w)\n")  # resize_: unknown, so silent
    assert analyze_source(source, "inplace.py").findings == []
    torch = pytest.importorskip("torch")
    exec(source[: source.index("w = ")], {"torch": torch})  # torch agrees on the shapes the evaluator followed
    broken = source.replace("nn.Conv2d(1, 8, 3)", "nn.Conv2d(3, 8, 3)").replace("nn.Linear(3, 2)", "nn.Linear(8, 2)")
    assert [(f.code, f.line) for f in analyze_source(broken, "inplace.py").findings] == [("TSL002", 7), ("TSL001", 10)]
