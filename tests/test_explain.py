"""`torchshape-lint explain`: golden tables for VGG16 at 224 and LeNet on 28x28 MNIST, checked against torch."""

import importlib.util
import json
import math
import re

import pytest

from conftest import FIXTURES, ROOT, cli

GOLDEN = ROOT / "tests" / "golden"
VGG16 = ("fixtures/vgg.py::vgg16", "--input-shape", "1,3,224,224")
LENET = ("fixtures/lenet_mnist.py::<module>",)
ROW = re.compile(r"^ *(\d+)  (\S+) +(\([^)]*\)) +(\S+)(?:  (.*))?$")  # line, layer, output, params, formula
# The torch function each layer or op of the tables runs (as a TorchFunctionMode sees it).
TORCH_OP = {"Conv2d": "conv2d", "ReLU": "relu", "MaxPool2d": "max_pool2d", "AdaptiveAvgPool2d": "adaptive_avg_pool2d",
            "torch.flatten": "flatten", "Linear": "linear", "Dropout": "dropout"}


def rows(text):
    """(line, layer, output, formula) of each table row of a text table."""
    return [(int(m[1]), m[2], m[3], m[5] or "") for m in map(ROW.match, text.splitlines()) if m]


def counts(text):
    """The params column of each table row of a text table."""
    return [m[4] for m in map(ROW.match, text.splitlines()) if m]


@pytest.mark.parametrize("args, golden, code", [
    (VGG16, "explain_vgg16_224.txt", 0),
    (LENET, "explain_lenet_mnist.txt", 1),
    (LENET + ("--format", "markdown"), "explain_lenet_mnist.md", 1),
    (LENET + ("--format", "json"), "explain_lenet_mnist.json", 1),
])
def test_golden_output(args, golden, code):
    result = cli("explain", *args)
    assert (result.stdout, result.stderr, result.returncode) == ((GOLDEN / golden).read_text(), "", code)


def test_vgg16_golden_shows_the_seed_arithmetic():
    """Written by hand from the question: five 2x2 pools take 224 to 7, and 512*7*7 = 25088."""
    table = rows((GOLDEN / "explain_vgg16_224.txt").read_text())
    pooled = [output for _, layer, output, _ in table if layer == "MaxPool2d"]
    assert [o.split(", ")[-1].rstrip(")") for o in pooled] == ["112", "56", "28", "14", "7"]
    assert ("torch.flatten", "(1, 25088)", "512*7*7 = 25088") in [t[1:] for t in table]
    first_linear = next(t for t in table if t[1] == "Linear")
    assert first_linear[0] == 16 and "nn.Linear(512 * 7 * 7" in (FIXTURES / "vgg.py").read_text().splitlines()[15]


def test_lenet_golden_marks_the_linear_with_what_arrives():
    """By hand: 28 -conv5-> 24 -pool2-> 12 -conv5-> 8 -pool2-> 4: 16*4*4 = 256 arrive where 16*5*5 = 400 is declared."""
    text = (GOLDEN / "explain_lenet_mnist.txt").read_text()
    lines = text.splitlines()
    marked = lines.index(next(line for line in lines if "^ breaks here" in line))
    assert ROW.match(lines[marked - 1]).group(1, 2) == ("13", "Linear")
    assert "Linear(in_features=400) but 256 features arrive" in lines[marked] and "use 16 * 4 * 4" in lines[marked]
    assert [t[2] for t in rows(text)][:5] == [
        "(64, 6, 24, 24)", "(64, 6, 12, 12)", "(64, 16, 8, 8)", "(64, 16, 4, 4)", "(64, 256)"]


@pytest.mark.parametrize("golden, fixture, layer_words", [
    ("explain_vgg16_224.txt", "vgg.py", {
        "Conv2d": "nn.Conv2d(", "ReLU": "nn.ReLU(", "MaxPool2d": "nn.MaxPool2d(", "Linear": "nn.Linear(",
        "AdaptiveAvgPool2d": "nn.AdaptiveAvgPool2d(", "torch.flatten": "torch.flatten(", "Dropout": "nn.Dropout("}),
    ("explain_lenet_mnist.txt", "lenet_mnist.py", {"Conv2d": "nn.Conv2d(", "MaxPool2d": "F.max_pool2d(",
                                                   "torch.flatten": "torch.flatten(", "Linear": "nn.Linear("}),
])
def test_golden_lines_point_at_the_source(golden, fixture, layer_words):
    source = (FIXTURES / fixture).read_text().splitlines()
    for line, layer, _, _ in rows((GOLDEN / golden).read_text()):
        assert layer_words[layer] in source[line - 1], (line, layer)


@pytest.mark.parametrize("golden", ["explain_vgg16_224.txt", "explain_lenet_mnist.txt"])
def test_golden_formulas_compute_what_they_say(golden):
    """Each formula's arithmetic, evaluated here, gives its stated result: the row's size, from the row before."""
    table = rows((GOLDEN / golden).read_text())
    assert any(formula.startswith("floor(") for *_, formula in table)
    for (_, _, before, _), (_, layer, output, formula) in zip(table, table[1:]):
        if formula.startswith("floor("):
            expression, stated = formula.rsplit(" = ", 1)
            assert eval(expression, {"floor": math.floor}) == int(stated) == int(output.split(", ")[-1].rstrip(")"))
            assert expression.startswith(f"floor(({before.split(', ')[-1].rstrip(')')} + "), (layer, formula)


def load(path, replace=None):
    text = path.read_text()
    if replace:
        text = text.replace(*replace)
    spec = importlib.util.spec_from_file_location(f"explained_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    exec(compile(text, str(path), "exec"), module.__dict__)
    return module


def torch_ops(model, shape):
    """(op, output shape) of every torch function the model's forward calls, on the meta device."""
    torch = pytest.importorskip("torch")
    from torch.overrides import TorchFunctionMode

    calls = []

    class Record(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            shape = str(tuple(out.shape)) if isinstance(out, torch.Tensor) else ""
            calls.append((getattr(func, "__name__", ""), shape))
            return out

    x = torch.zeros(*shape, device="meta")
    with Record():
        model(x)
    return calls


@pytest.mark.parametrize("golden, build", [
    ("explain_vgg16_224.txt", lambda torch: (load(FIXTURES / "vgg.py").vgg16(), (1, 3, 224, 224))),
    # Right in_features written by hand (16 * 4 * 4), so that torch runs past the broken Linear: explain goes on as if
    # each layer got what it declares, and torch then gives the same shapes.
    ("explain_lenet_mnist.txt",
     lambda torch: (load(FIXTURES / "lenet_mnist.py", ("16 * 5 * 5", "16 * 4 * 4")).Net(), (64, 1, 28, 28))),
])
def test_golden_shapes_are_torchs(golden, build):
    torch = pytest.importorskip("torch")
    with torch.device("meta"):
        model, shape = build(torch)
    table = rows((GOLDEN / golden).read_text())
    ops = {TORCH_OP[layer] for _, layer, _, _ in table}
    ran = [(name, out) for name, out in torch_ops(model, shape) if name in ops]
    assert ran == [(TORCH_OP[layer], output) for _, layer, output, _ in table]


@pytest.mark.parametrize("golden, fixture, build", [
    ("explain_vgg16_224.txt", "vgg.py", lambda module: module.vgg16()),
    ("explain_lenet_mnist.txt", "lenet_mnist.py", lambda module: module.Net()),  # as written: it builds, then breaks
])
def test_golden_parameter_counts_are_torchs(golden, fixture, build):
    """Each row's params, in the order the model runs its layers (here also the order it makes them), and the total
    are those of torch's modules."""
    torch = pytest.importorskip("torch")
    with torch.device("meta"):
        model = build(load(FIXTURES / fixture))
    text = (GOLDEN / golden).read_text()
    shown = [int(c.replace(",", "")) for c in counts(text) if c != "--"]
    layers = [sum(p.numel() for p in m.parameters()) for m in model.modules() if not list(m.children())]
    assert shown == [n for n in layers if n]
    total = sum(p.numel() for p in model.parameters())
    assert f"total params (layers above): {total:,}" in text.splitlines()


def test_lenet_as_written_fails_in_torch_where_marked():
    torch = pytest.importorskip("torch")
    with torch.device("meta"):
        model = load(FIXTURES / "lenet_mnist.py").Net()
    with pytest.raises(RuntimeError, match=r"\[64, 256\] X \[400, 120\]"):
        torch_ops(model, (64, 1, 28, 28))


def test_repeated_call_site_marks_the_run_that_breaks(tmp_path):
    """One Conv2d call in a loop runs three times; the third gets 16 channels where it declares 32."""
    (tmp_path / "loop.py").write_text(
        "import torch\nimport torch.nn as nn\n\nlayers = []\n"
        "for c_in, c_out in [(3, 8), (8, 16), (32, 64)]:\n"
        "    layers.append(nn.Conv2d(c_in, c_out, 3))  # 32 -> 30 -> 28 -> 26\n"
        "    layers.append(nn.ReLU())\n"
        "model = nn.Sequential(*layers)\nmodel(torch.zeros(1, 3, 32, 32))\n")
    result = cli("explain", f"{tmp_path / 'loop.py'}::<module>")
    lines = result.stdout.splitlines()
    marked = next(i for i, line in enumerate(lines) if "^ breaks here" in line)
    assert result.returncode == 1 and "TSL002" in lines[marked] and "16 arrive" in lines[marked]
    assert ROW.match(lines[marked - 1]).group(2, 3) == ("Conv2d", "(1, 64, 26, 26)")
    assert sum("breaks here" in line for line in lines) == 1


def test_every_build_without_model_and_symbolic_sizes():
    result = cli("explain", "fixtures/lenet_mnist.py", "--format", "json")
    tables = json.loads(result.stdout)
    assert [t["model"] for t in tables] == ["<module>", "Net"]
    symbolic = tables[1]
    assert symbolic["origin"] == "symbolic" and [s["output"][1] for s in symbolic["steps"][:4]] == [6, 6, 16, 16]
    assert symbolic["steps"][4]["layer"] == "torch.flatten" and symbolic["steps"][4]["output"][0] == "N"


def test_usage_errors():
    assert cli("explain", "fixtures/vgg.py::nope").returncode == 2
    assert cli("explain", "does/not/exist.py").returncode == 2
    assert cli("explain", "fixtures/vgg.py::vgg16", "--input-shape", "1,0").returncode == 2
    assert cli("explain", "fixtures/vgg.py::vgg16", "--input-shape", "1,3,224,224").returncode == 0


# ---- models that once stopped explain, or showed `?` -----------------------------------------------------------

CIFAR_RESNET = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super(BasicBlock, self).__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(self.expansion * planes)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        out = F.relu(out)
        return out


class ResNet(nn.Module):
    def __init__(self, block, num_blocks, num_classes=10):
        super(ResNet, self).__init__()
        self.in_planes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(block, 16, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, 32, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(block, 64, num_blocks[2], stride=2)
        self.linear = nn.Linear(64 * block.expansion, num_classes)

    def _make_layer(self, block, planes, num_blocks, stride):
        strides = [stride] + [1] * (num_blocks - 1)
        layers = []
        for stride in strides:
            layers.append(block(self.in_planes, planes, stride))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = F.avg_pool2d(out, 8)
        out = out.view(out.size(0), -1)
        out = self.linear(out)
        return out


# torchshape: input=(2, 3, 32, 32)
def resnet8():
    return ResNet(BasicBlock, [1, 1, 1])
'''

DANN = '''
import torch
import torch.nn as nn


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.alpha, None


class DANN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=5),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 48, kernel_size=5),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(48, num_classes)
        self.discriminator = nn.Sequential(nn.Linear(48, 100), nn.ReLU(inplace=True), nn.Linear(100, 2))

    def forward(self, x, alpha=1.0):
        features = self.features(x).mean((2, 3))
        reversed_features = GradReverse.apply(features, alpha)
        return self.classifier(features), self.discriminator(reversed_features)


# torchshape: input=(2, 3, 28, 28)
def dann():
    return DANN()
'''

TAGGER = '''
import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, vocab_size=100, num_tags=5):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, 32)
        self.lstm = nn.LSTM(32, 64, num_layers=2, batch_first=True, bidirectional=True)
        self.gru = nn.GRU(128, 16)
        self.fc = nn.Linear(16, num_tags)

    def forward(self, tokens):
        x = self.embedding(tokens)
        x, _ = self.lstm(x)
        x, hidden = self.gru(x.transpose(0, 1))
        return self.fc(x[-1])


def tagger():
    model = Tagger()
    return model(torch.zeros(3, 7, dtype=torch.long))
'''


# The torch function of each functional op these models call, by the label explain gives its row.
FUNCTIONAL = {"avg_pool2d": "AvgPool2d", "view": ".view", "mean": ".mean", "transpose": ".transpose",
              "add": "a + b", "add_": "a += b"}  # merges of two tensors (`a + b` runs as torch.add)


def torch_rows(model, x):
    """(label, output shape) of each of torch's own layers and each op of FUNCTIONAL, in the order the model runs
    them, from forward hooks and a TorchFunctionMode. A layer's output is its first tensor (an LSTM's output, not
    its hidden state), as torch's hooks and torchinfo show it; what torch's layers call inside is not counted."""
    torch = pytest.importorskip("torch")
    from torch.overrides import TorchFunctionMode

    def first_tensor(value):
        return value if isinstance(value, torch.Tensor) else first_tensor(value[0])

    rows, inside = [], []

    def enter(module, args):
        inside.append(module)

    def leave(module, args, output):
        inside.pop()
        rows.append((type(module).__name__, list(first_tensor(output).shape)))

    class Record(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            name = getattr(func, "__name__", "")
            if not inside and name in FUNCTIONAL:
                rows.append((FUNCTIONAL[name], list(out.shape)))
            return out

    for module in model.modules():
        if type(module).__module__.startswith("torch.nn") and not list(module.children()):  # torch's own layers
            module.register_forward_pre_hook(enter)
            module.register_forward_hook(leave)
    with Record(), torch.no_grad():
        model.eval()(x)
    return [row for row in rows if row[0] != "Sequential"]  # an empty shortcut Sequential shows no row


@pytest.mark.parametrize("source, builder, make_input, not_followed", [
    (CIFAR_RESNET, "resnet8", lambda torch: torch.zeros(2, 3, 32, 32), 0),
    # The discriminator's three layers take the output of GradReverse.apply: its static forward is followed.
    (DANN, "dann", lambda torch: torch.zeros(2, 3, 28, 28), 0),
    (TAGGER, "tagger", lambda torch: torch.zeros(3, 7, dtype=torch.long), 0),
])
def test_explain_shows_what_torch_gives(tmp_path, source, builder, make_input, not_followed):
    """A flatten of (N, C, 1, 1), a reduction over the spatial sizes beside a custom autograd.Function, and LSTM/GRU
    outputs: explain ends normally and every row's shape is the one torch's forward gives."""
    torch = pytest.importorskip("torch")
    path = tmp_path / f"{builder}.py"
    path.write_text(source)
    result = cli("explain", f"{path}::{builder}", "--format", "json")
    assert (result.returncode, result.stderr) == (0, "")
    (table,) = json.loads(result.stdout)
    shown = [(step["layer"], step["output"]) for step in table["steps"]]
    module = load(path)
    model = module.Tagger() if builder == "tagger" else getattr(module, builder)()
    ran = torch_rows(model, make_input(torch))
    assert (shown, len(ran) - len(shown)) == (ran[:len(shown)], not_followed)
    assert None not in [output for _, output in shown]


def test_flatten_of_a_1x1_map_shows_its_product(tmp_path):
    """By hand: three stages take 32 to 8 (strides 1, 2, 2); avg_pool2d(8) leaves 64 x 1 x 1: 64*1*1 = 64."""
    (tmp_path / "resnet8.py").write_text(CIFAR_RESNET)
    (table,) = json.loads(cli("explain", "resnet8.py::resnet8", "--format", "json", cwd=tmp_path).stdout)
    view = next(step for step in table["steps"] if step["layer"] == ".view")
    assert (view["output"], view["formula"]) == ([2, 64], "64*1*1 = 64")


# ---- parameter counts ----------------------------------------------------------------------------------------

LAYER_ARGUMENTS = [
    ("Conv1d", (4, 8, 3), {}), ("Conv2d", (6, 12, (3, 5)), {"groups": 3, "bias": False}),
    ("Conv3d", (2, 4, 3), {"stride": 2}), ("ConvTranspose2d", (6, 4, 3), {"groups": 2}),
    ("ConvTranspose1d", (3, 5, 4), {"bias": False}), ("Linear", (7, 5), {}), ("Linear", (7, 5), {"bias": False}),
    ("BatchNorm2d", (16,), {}), ("BatchNorm1d", (16,), {"affine": False}), ("BatchNorm3d", (16,), {"bias": False}),
    ("InstanceNorm2d", (8,), {}), ("InstanceNorm1d", (8,), {"affine": True}), ("GroupNorm", (4, 12), {}),
    ("GroupNorm", (4, 12), {"affine": False}), ("LayerNorm", ((4, 5),), {}), ("LayerNorm", (10,), {"bias": False}),
    ("LayerNorm", (10,), {"elementwise_affine": False}), ("Embedding", (100, 16), {"padding_idx": 0}),
    ("RNN", (10, 20), {}), ("RNN", (10, 20, 3), {"bias": False, "nonlinearity": "relu"}),
    ("GRU", (10, 20, 2), {"bidirectional": True}), ("LSTM", (10, 20), {}),
    ("LSTM", (10, 20, 2), {"bidirectional": True, "proj_size": 7}),
    ("LSTM", (10, 20, 3), {"proj_size": 5, "bias": False}),
    ("ReLU", (), {}), ("MaxPool2d", (2,), {}), ("Flatten", (), {}), ("Dropout", (0.5,), {}),
]


@pytest.mark.parametrize("name, args, kwargs", LAYER_ARGUMENTS)
def test_layer_parameter_count_is_torchs(name, args, kwargs):
    torch = pytest.importorskip("torch")
    from torchshape_lint.shapes.layer_spec import bind
    from torchshape_lint.shapes.layers import spec_for

    spec = spec_for(name)
    counted = spec.parameters(bind(spec, args, kwargs))
    assert counted == sum(p.numel() for p in getattr(torch.nn, name)(*args, **kwargs).parameters())


@pytest.mark.parametrize("name, args", [
    ("Linear", ("UNKNOWN", 5)), ("Conv2d", (3, "UNKNOWN", 3)), ("LSTM", (10, 20, "UNKNOWN")),
    ("Conv2d", (3, 8, 3, 1, 0, 1, 2)),  # 3 channels do not split into 2 groups: torch raises, no count
    ("LSTM", (10, 20, 1, True, False, 0.0, False, 20)),  # proj_size must be smaller than hidden_size
    ("LazyLinear", (10,)), ("PReLU", ()),  # sized at the first call; arguments not read
])
def test_layer_parameter_count_unknown(name, args):
    from torchshape_lint.shapes.layer_spec import bind
    from torchshape_lint.shapes.layers import spec_for
    from torchshape_lint.unknown import UNKNOWN, Unknown

    spec = spec_for(name)
    bound = bind(spec, tuple(UNKNOWN if a == "UNKNOWN" else a for a in args), {})
    assert isinstance(spec.parameters(bound), Unknown)


# Models whose table shows every layer they hold: convs, transposed convs, BatchNorm, Linear, a GRU, residual blocks,
# a U-Net; as a class, a module-level instance, a builder. (Where a layer's input is unknown, the table stops
# before it, and the total, of the layers shown, is less than torch's: see the README's explain section.)
WHOLE_MODELS = [
    ("lenet_mnist.py", "Net"), ("vgg.py", "vgg16()"), ("vgg.py", "vgg11_bn()"), ("sequential_forms.py", "nested"),
    ("buggy/b12_resnet_symbolic.py", "Net"), ("users/u04_conv1d.py", "SignalNet"), ("users/u05_conv3d.py", "net"),
    ("users/u08_residual.py", "ResNet"), ("users/u09_unet.py", "UNet"), ("users/u11_lstm.py", "GRUTagger"),
    ("users/u18_rebatch.py", "DCGANGen"), ("users/u18_rebatch.py", "DCGANDisc"),
    ("users/u22_python_semantics.py", "DictNet"),
]


@pytest.mark.parametrize("fixture, model", WHOLE_MODELS)
def test_total_parameters_are_torchs(fixture, model):
    """explain's total equals `sum(p.numel() for p in m.parameters())` of the model torch builds from the same file,
    and each row's count equals that of the layer it shows (the rows' sum is the total: no layer is applied twice)."""
    torch = pytest.importorskip("torch")
    import runpy

    result = cli("explain", f"fixtures/{fixture}::{model}", "--format", "json")
    (table,) = json.loads(result.stdout)
    with torch.device("meta"):
        built = runpy.run_path(str(FIXTURES / fixture), run_name="explained")[model.rstrip("()")]
        built = built() if isinstance(built, type) or model.endswith("()") else built
    assert table["parameters"] == sum(p.numel() for p in built.parameters()) > 0
    layers = [m for m in built.modules() if not list(m.children()) and type(m).__module__.startswith("torch.nn")]
    counted = sorted(step["parameters"] for step in table["steps"] if step["parameters"])
    assert counted == sorted(n for n in (sum(p.numel() for p in m.parameters()) for m in layers) if n)


def test_shared_layer_is_counted_once(tmp_path):
    """By hand: Linear(8, 8) holds 8*8 + 8 = 72; applied twice, torch counts it once."""
    (tmp_path / "twice.py").write_text(
        "import torch\nimport torch.nn as nn\n\n\nclass Twice(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.fc = nn.Linear(8, 8)\n\n    def forward(self, x):\n"
        "        return self.fc(self.fc(x))\n\n\nTwice()(torch.zeros(2, 8))\n")
    result = cli("explain", f"{tmp_path / 'twice.py'}::<module>")
    assert [r[1:] for r in rows(result.stdout)] == [("Linear", "(2, 8)", ""), ("Linear", "(2, 8)", "")]
    assert counts(result.stdout) == ["72", "shared"]
    assert "total params (layers above): 72" in result.stdout.splitlines()


def test_unknown_count_makes_the_total_unknown(tmp_path):
    (tmp_path / "lazy.py").write_text("import torch\nimport torch.nn as nn\n\n"
                                      "model = nn.Sequential(nn.Linear(4, 8), nn.LazyLinear(3))\n"
                                      "model(torch.zeros(2, 4))\n")
    result = cli("explain", f"{tmp_path / 'lazy.py'}::<module>", "--format", "json")
    (table,) = json.loads(result.stdout)
    assert ([s["parameters"] for s in table["steps"]], table["parameters"]) == ([40, None], None)
    text = cli("explain", f"{tmp_path / 'lazy.py'}::<module>").stdout
    assert "total params (layers above): unknown (not known for LazyLinear at line 4)" in text.splitlines()
