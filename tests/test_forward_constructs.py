"""The forward() that real models write (fixtures/forward): branches on the module, tensor methods that keep or change
the shape in place, starred sizes, weight_norm wrappers, RNN initial states, merges of channel cuts, dims named for a
known rank. Each fixture is correct, runs in torch and is clean through flake8 and the CLI; with each of its planted
mistakes torch raises, and the one finding sits at the line of the call torch fails in (or the layer it names), with
its exact column; --confirm on the CPU confirms each (and on meta, or says why not) and adds nothing to the correct
fixtures."""

import runpy

import pytest

from conftest import FIXTURES, cli, flake8, locate, plant, torch_error
from torchshape_lint.checks.analyze import analyze_source
from torchshape_lint.evaluate.interpreter import Interpreter
from torchshape_lint.evaluate.layer_attributes import layer_attribute
from torchshape_lint.source.reader import SourceFile
from torchshape_lint.unknown import UNKNOWN

FORWARD = FIXTURES / "forward"

# planted mistake: (fixture, text replaced, the mistake, code, text locating the finding, what torch's error says)
PLANTED = {
    # 32 → 16 (max_pool2d: the stem's stride reads (1, 1)) → 8 → 4 through the blocks: 64 * 4 * 4 arrive
    "resnet_branches": ("resnet_branches.py", "nn.Linear(64 * 4 * 4", "nn.Linear(64 * 8 * 8", "TSL001",
                        "nn.Linear(64 * 8 * 8", "2x1024 and 4096x10"),
    # unsqueeze_ gives the (4, 28, 28) batch one channel
    "tensor_methods": ("tensor_methods.py", "nn.Conv2d(1, 8", "nn.Conv2d(3, 8", "TSL002", "nn.Conv2d(3, 8",
                       "to have 3 channels, but got 1 channels"),
    # 8 samples of 3 * 28 * 28 cannot be viewed as (8, 1, 28, 28)
    "gan_starred_view": ("gan_starred_view.py", "nn.Linear(256, 1 * 28 * 28)", "nn.Linear(256, 3 * 28 * 28)",
                         "TSL005", "img.view(img.size(0), *self.img_shape)", "invalid for input of size 18816"),
    # block1 gives 16 channels; block2's weight_norm-wrapped conv1 declares 8
    "tcn_weight_norm": ("tcn_weight_norm.py", "self.block2 = TemporalBlock(16,", "self.block2 = TemporalBlock(8,",
                        "TSL002", "nn.Conv1d(n_inputs", "to have 8 channels, but got 16 channels"),
    # the domain head reads the features through GradientReversal.apply: 48 * 4 * 4 arrive
    "dann_gradient_reversal": ("dann_gradient_reversal.py", "nn.Sequential(nn.Linear(48 * 4 * 4, 100)",
                               "nn.Sequential(nn.Linear(48 * 5 * 5, 100)", "TSL001", "nn.Linear(48 * 5 * 5",
                               "2x768 and 1200x100"),
    # without output_size the unpooling gives (4 - 1) * 2 + 2 = 8, not the 9 the encoder saw
    "segnet_unpool": ("segnet_unpool.py", "output_size=size1)", ")", "TSL001", "nn.Linear(num_classes * 9 * 9",
                      "2x256 and 324x1"),
    # the levels, registered and read back by name, keep 3 channels: the last conv reads 3, not 4
    "tree_named_levels": ("tree_named_levels.py", "self.last = nn.Conv2d(3, 8, 1)", "self.last = nn.Conv2d(4, 8, 1)",
                          "TSL002", "nn.Conv2d(4, 8, 1)", "to have 4 channels, but got 3 channels"),
    # num_layers=2: h0 must be (2, 4, 20)
    "lstm_initial_state": ("lstm_initial_state.py", "h0 = torch.zeros(self.num_layers,", "h0 = torch.zeros(1,",
                           "TSL011", "self.lstm(x, (h0, c0))", "Expected hidden[0] size (2, 4, 20), got [1, 4, 20]"),
    # the first block of layer2 halves the map; its downsample (applied: `is not None`) keeps 32x32
    "torchvision_resnet": ("torchvision_resnet.py", "conv1x1(self.inplanes, planes * block.expansion, stride)",
                           "conv1x1(self.inplanes, planes * block.expansion)", "TSL009", "out += identity",
                           "The size of tensor a (16) must match the size of tensor b (32) at non-singleton "
                           "dimension 3"),
    # the layer scale, torch.ones(dim * 2), against the channels-last (N, H, W, dim) map
    "convnext_block": ("convnext_block.py", "torch.ones((dim))", "torch.ones((dim * 2))", "TSL009", "self.gamma * x",
                       "The size of tensor a (64) must match the size of tensor b (32) at non-singleton dimension 3"),
    # Unflatten's `x.view(x.size(0), *self.shape)` gives 16 channels to a ConvTranspose2d of 64
    "vae_unflatten": ("vae_view_shape.py", "Unflatten(64, 7, 7)", "Unflatten(16, 14, 14)", "TSL002",
                      "nn.ConvTranspose2d(64", "expected input[8, 16, 14, 14] to have 64 channels, but got 16"),
    # 64 * 7 * 8 features cannot be viewed as (8, 64, 7, 7)
    "vae_decoder_input": ("vae_view_shape.py", "nn.Linear(latent_dim, 64 * 7 * 7)", "nn.Linear(latent_dim, 64 * 7 * 8)",
                          "TSL005", "x.view(x.size(0), *self.shape)", "shape '[8, 64, 7, 7]' is invalid for input "
                          "of size 28672"),
    # without padding the encoder gives 6x6: View's `x.view(*self.shape)`, (-1, 3136), of 8 * 64 * 6 * 6 values
    "vae_view": ("vae_view_shape.py", "nn.Conv2d(1, 32, 4, stride=2, padding=1)",
                 "nn.Conv2d(1, 32, 4, stride=2, padding=0)", "TSL005", "x.view(*self.shape)",
                 "shape '[-1, 3136]' is invalid for input of size 18432"),
    # torch.Tensor of a nested list: (6, 1)
    "tensor_literal_regression": ("regression_tensor_literal.py", "model = nn.Linear(1, 1)",
                                  "model = nn.Linear(2, 1)", "TSL001", "nn.Linear(2, 1)",
                                  "mat1 and mat2 shapes cannot be multiplied (6x1 and 2x1)"),
    # torch.tensor of the XOR table: (4, 2)
    "tensor_literal_xor": ("xor_tensor_of_list.py", "nn.Linear(2, 4)", "nn.Linear(3, 4)", "TSL001", "nn.Linear(3, 4)",
                           "mat1 and mat2 shapes cannot be multiplied (4x2 and 3x4)"),
    # the cat of noise, label and code has 62 + 10 + 2 features
    "infogan_cat": ("infogan_generator.py", "input_dim = latent_dim + n_classes + code_dim",
                    "input_dim = latent_dim + n_classes", "TSL001", "nn.Linear(input_dim",
                    "mat1 and mat2 shapes cannot be multiplied (4x74 and 72x8192)"),
    # the Linear's output viewed as (N, 128, 8, 8) reaches the BatchNorm2d
    "infogan_batchnorm": ("infogan_generator.py", "nn.BatchNorm2d(128),", "nn.BatchNorm2d(64),", "TSL002",
                          "nn.BatchNorm2d(64)", "running_mean should contain 128 elements not 64"),
    # dims out of range for the rank that arrives (TSL007), each where torch raises
    "dims_unsqueeze": ("crnn_dims.py", "spectrogram.unsqueeze(1)", "spectrogram.unsqueeze(9)", "TSL007",
                       "spectrogram.unsqueeze(9)", "Dimension out of range (expected to be in range of [-4, 3], but "
                       "got 9)"),
    "dims_cat": ("crnn_dims.py", "torch.cat([avg_out, max_out], dim=1)", "torch.cat([avg_out, max_out], dim=4)",
                 "TSL007", "torch.cat([avg_out", "Dimension out of range (expected to be in range of [-4, 3], but got "
                 "4)"),
    "dims_permute_count": ("crnn_dims.py", "x.permute(0, 3, 1, 2)", "x.permute(0, 3, 1)", "TSL007", "x.permute(",
                           "number of dimensions in the tensor input does not match the length of the desired "
                           "ordering of dimensions i.e. input.dim() = 4 is not equal to len(dims) = 3"),
    "dims_flatten_start": ("crnn_dims.py", "torch.flatten(x, start_dim=2)", "torch.flatten(x, start_dim=6)", "TSL007",
                           "torch.flatten(x", "Dimension out of range (expected to be in range of [-4, 3], but got "
                           "6)"),
    "dims_flatten_order": ("crnn_dims.py", "torch.flatten(x, start_dim=2)", "x.flatten(2, 1)", "TSL007",
                           "x.flatten(2, 1)", "flatten() has invalid args: start_dim cannot come after end_dim"),
    "dims_transpose": ("crnn_dims.py", "out.transpose(1, 2)", "out.transpose(1, 7)", "TSL007", "out.transpose(1, 7)",
                       "Dimension out of range (expected to be in range of [-3, 2], but got 7)"),
    "dims_log_softmax": ("crnn_dims.py", "F.log_softmax(logits, dim=1)", "F.log_softmax(logits, dim=3)", "TSL007",
                         "F.log_softmax(", "Dimension out of range (expected to be in range of [-2, 1], but got 3)"),
    # without GhostModule's `out[:, :self.oup]` its 8 + 24 channels reach a BatchNorm2d of 30
    "split_ghost_slice": ("channel_split.py", "return out[:, :self.oup, :, :]", "return out", "TSL002",
                          "nn.BatchNorm2d(30)", "running_mean should contain 32 elements not 30"),
    # the CSP stage's merge of torch.split's halves is added to x at half its resolution
    "split_csp_residual": ("channel_split.py", "self.transition = nn.Conv2d(channels, channels, 1)",
                           "self.transition = nn.Conv2d(channels, channels, 1, stride=2)", "TSL009",
                           "x + self.transition(", "The size of tensor a (16) must match the size of tensor b (8) at "
                           "non-singleton dimension 3"),
    # narrow(1, 0, 23) gives the partial conv of 7 channels the untouched part
    "split_narrow": ("channel_split.py", "x.narrow(1, 0, self.dim_conv3)", "x.narrow(1, 0, self.dim_untouched)",
                     "TSL002", "nn.Conv2d(self.dim_conv3", "expected input[2, 23, 16, 16] to have 7 channels"),
    # x[:, :7] in place of x[:, 7:]: 7 + 7 channels reach the head's Linear of 30
    "split_slice": ("channel_split.py", "x[:, self.dim_conv3:]", "x[:, :self.dim_conv3]", "TSL001", "nn.Linear(30",
                    "mat1 and mat2 shapes cannot be multiplied (2x14 and 30x10)"),
}
AT_THE_CALL = {"TSL005", "TSL007", "TSL009", "TSL011"}  # reported where torch raises; the others at the layer's
QUOTING = {"TSL007", "TSL009", "TSL011"}  # the rules that word the problem as torch does


def planted(name, tmp_path):
    fixture, original, mistake, *_ = PLANTED[name]
    return plant(FORWARD / fixture, original, mistake, tmp_path / f"{name}.py")


def test_every_fixture_has_a_planted_mistake():
    assert sorted(p.name for p in FORWARD.glob("*.py")) == sorted({fixture for fixture, *_ in PLANTED.values()})


def test_correct_fixtures_are_clean_through_flake8_and_the_cli():
    paths = sorted(str(p) for p in FORWARD.glob("*.py"))
    result = flake8(*paths)
    assert result.stdout == "" and result.returncode == 0, result.stdout + result.stderr
    result = cli("--quiet", *paths)
    assert result.stdout == "" and result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_planted_mistake_is_found_at_the_failing_call(name, tmp_path):
    path = planted(name, tmp_path)
    *_, code, needle, message = PLANTED[name]
    line, col = locate(path, needle)
    result = flake8(path.name, cwd=tmp_path)
    found = result.stdout.splitlines()
    assert len(found) == 1 and found[0].startswith(f"{path.name}:{line}:{col}: {code} "), result.stdout + result.stderr
    result = cli("--quiet", path.name, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.startswith(f"{path.name}:{line}:{col}: {code} "), result.stdout
    if code in QUOTING:
        assert message in result.stdout


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_torch_runs_the_fixture_and_fails_on_the_planted_mistake(name, tmp_path):
    pytest.importorskip("torch")
    runpy.run_path(str(FORWARD / PLANTED[name][0]), run_name="__main__")
    path = planted(name, tmp_path)
    *_, code, needle, message = PLANTED[name]
    error, raised_at = torch_error(path)
    assert message in error
    if code in AT_THE_CALL:
        assert raised_at == locate(path, needle)[0]


def confirm_planted(tmp_path, device):
    """Every planted mistake written to tmp_path, and `--confirm` run on them all on the device."""
    names = sorted(PLANTED)
    for name in names:
        planted(name, tmp_path)
    return names, cli("--no-cache", "--quiet", "--confirm", "--device", device, *(f"{name}.py" for name in names),
                      cwd=tmp_path)


def test_confirm_runs_the_fixtures_and_agrees(tmp_path):
    """--confirm builds each model and runs it in PyTorch on the CPU: nothing added to the correct fixtures (no shape
    PyTorch contradicts, no error the analysis did not predict), and every planted mistake confirmed."""
    pytest.importorskip("torch")
    result = cli("--no-cache", "--quiet", "--confirm", "--device", "cpu", *sorted(str(p) for p in FORWARD.glob("*.py")))
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr
    names, result = confirm_planted(tmp_path, "cpu")
    reported = result.stdout.splitlines()
    assert [row.split(":")[0] for row in reported] == [f"{name}.py" for name in names], result.stdout
    assert all(row.endswith("[confirmed on cpu]") for row in reported), result.stdout


# what --confirm --device meta says where it cannot confirm, and why (torch 2.14's meta device)
ON_META = {
    # the meta kernel of a transposed conv does not check its input channels: it runs
    "vae_unflatten": "[not reproduced on meta: the meta device does not check everything the CPU does (try --device "
                     "cpu)]",
    # `Classifier(device).to(device)` copies a meta module's parameters, which have no data
    "tensor_methods": "[not confirmed: the meta device cannot run this: NotImplementedError: Cannot copy out of meta "
                      "tensor",
}


def test_confirm_on_meta_confirms_each_mistake_or_says_why_not(tmp_path):
    torch = pytest.importorskip("torch")
    with torch.device("meta"):  # the gap ON_META names, in torch itself
        assert torch.nn.ConvTranspose2d(64, 32, 4)(torch.zeros(8, 16, 14, 14)).shape == (8, 32, 17, 17)
    names, result = confirm_planted(tmp_path, "meta")
    rows = result.stdout.splitlines()
    verdicts = {row.split(":")[0][:-len(".py")]: row for row in rows if " TSL90" not in row}
    assert sorted(verdicts) == names, result.stdout
    # nothing PyTorch contradicts; the one model meta cannot run says so (TSL903)
    line, column = locate(tmp_path / "tensor_methods.py", "Classifier(device)")
    assert [row.split(" ")[:2] for row in rows if " TSL90" in row] == [
        [f"tensor_methods.py:{line}:{column}:", "TSL903"]], rows
    for name, row in verdicts.items():
        assert row.endswith("[confirmed on meta]") if name not in ON_META else ON_META[name] in row, row


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


SPELLINGS = [  # on x of (2, 3, 4, 5): reductions giving values and indices, and dims given by name
    "torch.max(x, dim=1, keepdim=True)[0]", "x.max(1)[1]", "x.min(dim=2).values", "torch.median(x, -1, True).indices",
    "torch.max(x, torch.zeros(5))", "x.min(torch.zeros(3, 1, 1))", "x.max()", "x.median()",
    "x.unsqueeze(dim=0)", "torch.transpose(x, dim0=1, dim1=3)", "x.permute(dims=(0, 2, 3, 1))", "x.squeeze(dim=0)",
    "torch.unsqueeze(x, dim=-1)",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_reductions_with_indices_and_dims_by_name_are_torch_shapes(spelling):
    torch = pytest.importorskip("torch")
    interpreter = Interpreter(SourceFile(f"import torch\nx = torch.zeros(2, 3, 4, 5)\ny = {spelling}\n", "y.py"))
    interpreter.run_module()
    assert interpreter.globals.vars["y"].shape == tuple(eval(spelling, {"torch": torch, "x": torch.zeros(2, 3, 4, 5)})
                                                        .shape)


@pytest.mark.parametrize("spelling", ["x.max(dim=4)", "torch.min(x, -5)", "x.unsqueeze(dim=5)",
                                      "torch.transpose(x, dim0=0, dim1=4)", "x.squeeze(dim=-5)"])
def test_their_dims_out_of_range_are_reported_in_torchs_words(spelling):
    torch = pytest.importorskip("torch")
    source = f"import torch\nx = torch.zeros(2, 3, 4, 5)\ny = {spelling}\n"
    found = analyze_source(source, "y.py").findings
    with pytest.raises(IndexError) as error:
        eval(spelling, {"torch": torch, "x": torch.zeros(2, 3, 4, 5)})
    assert [(f.code, f.line) for f in found] == [("TSL007", 3)] and found[0].message.endswith(str(error.value))


def test_a_tensor_moved_to_a_device_behind_an_undecided_branch_keeps_its_shape():
    """`if self.use_cuda: x = x.cuda()` gives x of the same shape whichever way it goes; any other rebinding there
    leaves it unknown (silent)."""
    source = ("import torch\nimport torch.nn as nn\n\nx = torch.zeros(2, 10)\nif torch.cuda.is_available():\n"
              "    x = x.cuda().float()\nelse:\n    x = x.to('cpu')\nnn.Linear(11, 3)(x)\n")
    assert [(f.code, f.line) for f in analyze_source(source, "move.py").findings] == [("TSL001", 9)]
    rebatched = source.replace("x = x.to('cpu')", "x = x.view(-1)")
    assert analyze_source(rebatched, "move.py").findings == []


def test_a_merge_with_a_tensor_the_model_makes_is_as_concrete_as_the_models_input(tmp_path):
    """`self.gamma * x`, gamma of torch.ones(dim * 2): one finding, the usage's; without the usage, from the
    run-wide default or on symbolic sizes, as the input is (not the concrete origin of the tensor the model made)."""
    source = planted("convnext_block", tmp_path).read_text()
    line, _ = locate(tmp_path / "convnext_block.py", "self.gamma * x")
    found = analyze_source(source, "block.py").findings
    assert [(f.code, f.line, f.origin) for f in found] == [("TSL009", line, "usage")]
    unused = source[:source.index("logits = ")]
    for shape, origin in ((None, "symbolic"), ((1, 3, 32, 32), "option")):
        found = analyze_source(unused, "block.py", input_shape=shape).findings
        assert [(f.code, f.line, f.origin) for f in found] == [("TSL009", line, origin)], shape
