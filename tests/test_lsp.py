"""The language server driven as an editor drives it: JSON-RPC over the stdio of `torchshape-lint lsp`."""

import json
import shutil
import subprocess
import sys
import threading
import time

import pytest

from conftest import FIXTURES, locate

pytest.importorskip("pygls")


class Client:
    LIFETIME = 300  # seconds: a test waiting for a message that never comes fails instead of hanging

    def __init__(self, cwd):
        self.process = subprocess.Popen([sys.executable, "-m", "torchshape_lint.frontends.cli", "lsp"], cwd=cwd,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0
        self.watchdog = threading.Timer(self.LIFETIME, self.process.kill)
        self.watchdog.daemon = True
        self.watchdog.start()

    def send(self, message):
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method, params):
        self.send({"method": method, "params": params})

    def request(self, method, params):
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        return self.receive(lambda m: m.get("id") == self.next_id and "method" not in m)["result"]

    def receive(self, wanted):
        while True:
            length = None
            while (line := self.process.stdout.readline().strip()):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None, "the server closed its output"
            message = json.loads(self.process.stdout.read(length))
            if wanted(message):
                return message

    def diagnostics(self, uri):
        message = self.receive(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                               and m["params"]["uri"] == uri)
        return message["params"]["diagnostics"]

    def close(self):
        self.watchdog.cancel()
        self.request("shutdown", None)
        self.notify("exit", None)
        assert self.process.wait(timeout=30) == 0


def started(cwd, initialization_options=None):
    client = Client(cwd)
    client.request("initialize", {"processId": None, "rootUri": cwd.as_uri(), "capabilities": {},
                                  "initializationOptions": initialization_options})
    client.notify("initialized", {})
    return client


@pytest.fixture
def client(tmp_path):
    client = started(tmp_path)
    yield client
    client.close()


def opened(client, path, source):
    """Open `source` as the document `path` (written there too) and wait for its diagnostics."""
    path.write_text(source)
    client.notify("textDocument/didOpen", {"textDocument": {"uri": path.as_uri(), "languageId": "python",
                                                            "version": 1, "text": source}})
    return client.diagnostics(path.as_uri())


def test_diagnostics_on_open_change_and_save_and_a_quick_fix(client, tmp_path):
    source = (FIXTURES / "lenet_mnist.py").read_text()
    path = tmp_path / "lenet.py"
    path.write_text(source)
    uri = path.as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                            "text": source}})
    [diagnostic] = client.diagnostics(uri)
    line, col = locate(path, "nn.Linear(16 * 5 * 5")
    assert diagnostic["range"]["start"] == {"line": line - 1, "character": col - 1}
    assert diagnostic["code"] == "TSL001" and diagnostic["source"] == "torchshape-lint"
    # 28 -conv5-> 24 -pool2-> 12 -conv5-> 8 -pool2-> 4: 16 * 4 * 4 = 256 features, not 400
    assert "but 256 features arrive" in diagnostic["message"]
    assert diagnostic["codeDescription"]["href"].endswith("docs/rules.md#tsl001-linear-in-features")

    [action] = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diagnostic["range"], "context": {"diagnostics": [diagnostic]}})
    assert action["kind"] == "quickfix"
    [edit] = action["edit"]["changes"][uri]
    argument_col = source.splitlines()[line - 1].index("16 * 5 * 5")
    assert edit == {"range": {"start": {"line": line - 1, "character": argument_col},
                              "end": {"line": line - 1, "character": argument_col + len("16 * 5 * 5")}},
                    "newText": "16 * 4 * 4"}

    fixed = source.replace("16 * 5 * 5", "16 * 4 * 4")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": fixed}]})
    assert client.diagnostics(uri) == []

    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                             "contentChanges": [{"text": source}]})
    assert [d["code"] for d in client.diagnostics(uri)] == ["TSL001"]
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    assert [d["code"] for d in client.diagnostics(uri)] == ["TSL001"]


def test_pyproject_input_shape_applies_and_close_clears(client, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.torchshape-lint]\ninput-shape = "1,3,32,32"\n')
    source = (FIXTURES / "vgg_no_avgpool.py").read_text()
    uri = (tmp_path / "vgg.py").as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                            "text": source}})
    # 32 halved by five MaxPool2d(2, 2): 16, 8, 4, 2, 1 → 512 * 1 * 1 features
    [diagnostic] = client.diagnostics(uri)
    assert "512 features arrive" in diagnostic["message"]
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert client.diagnostics(uri) == []


def lenet_shapes():
    """The shapes PyTorch gives LeNet's layers on the fixture's 64 MNIST digits, (64, 1, 28, 28)."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    images = torch.zeros(64, 1, 28, 28)
    conv1 = torch.nn.Conv2d(1, 6, 5)(images)
    pool1 = F.max_pool2d(F.relu(conv1), 2)
    pool2 = F.max_pool2d(F.relu(torch.nn.Conv2d(6, 16, 5)(pool1)), 2)
    return {"conv1": tuple(conv1.shape), "pool1": tuple(pool1.shape), "pool2": tuple(pool2.shape),
            "flat": tuple(torch.flatten(pool2, 1).shape)}


def hover(client, uri, line, character):
    return client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": {"line": line, "character": character}})


def test_hover_on_a_layer_constructor_shows_each_build(client, tmp_path):
    path = tmp_path / "lenet.py"
    opened(client, path, (FIXTURES / "lenet_mnist.py").read_text())
    line, col = locate(path, "nn.Conv2d(1, 6, 5)")
    shapes = lenet_shapes()
    assert shapes["conv1"] == (64, 6, 24, 24)  # 28 - (5 - 1) = 24
    result = hover(client, path.as_uri(), line - 1, col - 1 + len("nn.Con"))
    # the file's own use runs it on (64, 1, 28, 28); the class alone, on symbolic sizes whose channels the conv fixes
    assert result["contents"] == {"kind": "markdown", "value": (
        "```text\n"
        f"Conv2d  (64, 1, 28, 28) → {shapes['conv1']}   [<module>, input from usage]\n"
        "Conv2d  ? → (N, 6, h', w')   [Net, symbolic input]\n"
        "```")}
    assert result["range"] == {"start": {"line": line - 1, "character": col - 1},
                               "end": {"line": line - 1, "character": col - 1 + len("nn.Conv2d(1, 6, 5)")}}
    assert hover(client, path.as_uri(), line - 1, 0) is None  # `self.conv1 = `: no layer or op there


def test_hover_on_a_forward_line_shows_the_op_called_there(client, tmp_path):
    path = tmp_path / "lenet.py"
    opened(client, path, (FIXTURES / "lenet_mnist.py").read_text())
    shapes = lenet_shapes()
    assert shapes["pool2"] == (64, 16, 4, 4) and shapes["flat"] == (64, 256)  # 12 - 4 = 8, pooled by 2: 4
    line, col = locate(path, "torch.flatten(x, 1)")
    result = hover(client, path.as_uri(), line - 1, col - 1)
    assert result["contents"]["value"] == (
        "```text\n"
        f"torch.flatten  {shapes['pool2']} → {shapes['flat']}   [<module>, input from usage]\n"
        "torch.flatten  (N, 16, h', w') → (N, 16*h'*w')   [Net, symbolic input]\n"
        "```")
    # inside `F.max_pool2d(F.relu(self.conv1(x)), 2)` the call the analysis followed is the pool
    line, col = locate(path, "F.relu(self.conv1(x))")
    result = hover(client, path.as_uri(), line - 1, col - 1)
    assert result["contents"]["value"].splitlines()[1] == (
        f"MaxPool2d  {shapes['conv1']} → {shapes['pool1']}   [<module>, input from usage]")
    assert result["range"]["start"] == {"line": line - 1, "character": locate(path, "F.max_pool2d")[1] - 1}


def lenet_hints(shapes):
    """The inlay hints expected on the fixture: after `x = torch.flatten(x, 1)`, an op at its own call. None after
    `self.conv1 = nn.Conv2d(...)` (it binds the layer), after `x = F.relu(self.fc1(x))` (an op that adds no step), nor
    after `x = F.max_pool2d(...)` (a layer built and applied at one call, which the hints leave out)."""
    lines = (FIXTURES / "lenet_mnist.py").read_text().splitlines()
    [number] = [n for n, text in enumerate(lines) if "torch.flatten(x, 1)" in text]
    return [{"position": {"line": number, "character": len(lines[number])},
             "label": f"▸ {shapes['flat']} | (N, 16*h'*w')"}]


def inlay_hints(client, uri):
    result = client.request("textDocument/inlayHint", {
        "textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0},
                                                "end": {"line": 100, "character": 0}}})
    return [{"position": hint["position"], "label": hint["label"]} for hint in result]


def test_inlay_hints_are_off_by_default_and_the_configuration_turns_them_on(client, tmp_path):
    path = tmp_path / "lenet.py"
    opened(client, path, (FIXTURES / "lenet_mnist.py").read_text())
    assert inlay_hints(client, path.as_uri()) == []
    client.notify("workspace/didChangeConfiguration", {"settings": {"torchshape-lint": {"inlayHints": True}}})
    assert inlay_hints(client, path.as_uri()) == lenet_hints(lenet_shapes())
    client.notify("workspace/didChangeConfiguration", {"settings": {"torchshape-lint": {"inlayHints": False}}})
    assert inlay_hints(client, path.as_uri()) == []


def test_inlay_hints_turned_on_by_initialization_options(tmp_path):
    client = started(tmp_path, {"inlayHints": True})
    try:
        path = tmp_path / "lenet.py"
        opened(client, path, (FIXTURES / "lenet_mnist.py").read_text())
        assert inlay_hints(client, path.as_uri()) == lenet_hints(lenet_shapes())
    finally:
        client.close()


def deep_model(convs, in_features):
    """A plain model of `convs` same-size 3x3 convs (padding 1) on 32x32 images, then a Linear: 2 lines a conv."""
    layers = "".join(f"        self.conv{i} = nn.Conv2d(16, 16, 3, padding=1)\n" for i in range(1, convs))
    calls = "".join(f"        x = F.relu(self.conv{i}(x))\n" for i in range(1, convs))
    return (f'"""{convs} convs and a Linear."""\n'
            "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
            "class Deep(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.conv0 = nn.Conv2d(3, 16, 3, padding=1)\n" + layers +
            f"        self.fc = nn.Linear({in_features}, 10)\n\n"
            "    def forward(self, x):\n        x = self.conv0(x)\n" + calls +
            "        x = torch.flatten(x, 1)\n        return self.fc(x)\n\n\n"
            "model = Deep()\nmodel(torch.randn(1, 3, 32, 32))\n")


def test_diagnostics_refresh_on_change_of_a_300_line_model(client, tmp_path):
    broken = deep_model(141, "16 * 8 * 8")
    assert len(broken.splitlines()) == 300
    path = tmp_path / "deep.py"
    [diagnostic] = opened(client, path, broken)  # the first analysis
    # padding 1 keeps 32x32 through every 3x3 conv: 16 * 32 * 32 = 16384 features, not 1024
    assert diagnostic["code"] == "TSL001" and "16384 features arrive" in diagnostic["message"]
    fixed = broken.replace("16 * 8 * 8", "16 * 32 * 32")
    for version, (text, codes) in enumerate([(fixed, []), (broken, ["TSL001"])], 2):
        started_at = time.perf_counter()
        client.notify("textDocument/didChange", {"textDocument": {"uri": path.as_uri(), "version": version},
                                                 "contentChanges": [{"text": text}]})
        assert [d["code"] for d in client.diagnostics(path.as_uri())] == codes
        elapsed = time.perf_counter() - started_at
        print(f"diagnostics with {len(codes)} finding(s) refreshed {elapsed * 1000:.0f} ms after a change "
              "of a 300-line model")
        assert elapsed < 3  # loose: the figure to read is the printed one (README: Editors)


def test_an_inlay_hint_leaves_out_the_builds_where_the_shape_is_unknown(tmp_path):
    client = started(tmp_path, {"inlayHints": True})
    try:
        path = tmp_path / "lenet_view.py"
        source = (FIXTURES / "buggy" / "b01_lenet_view.py").read_text()
        opened(client, path, source)
        line, _ = locate(path, "x = x.view(-1, 16 * 5 * 5)")
        end = len(source.splitlines()[line - 1].split("  #")[0])
        # the file's own 64 digits give 16 * 4 * 4 per sample, which no view(-1, 400) takes (its finding says so):
        # no shape; the class on symbolic sizes gets 400 per row, and rows not known
        assert inlay_hints(client, path.as_uri()) == [{"position": {"line": line - 1, "character": end},
                                                      "label": "▸ (?, 400)"}]
    finally:
        client.close()


APPLIED = """import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2))
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        x = self.features(x)
        x = self.pool(x)
        return x


Net()(torch.randn(2, 3, 32, 32))
"""


def applied_shapes():
    """What PyTorch gives the model above on (2, 3, 32, 32): the features' last conv, then the pool."""
    import torch

    x = torch.zeros(2, 3, 32, 32)
    first = torch.nn.Conv2d(3, 8, 3)(x)
    features = torch.nn.Conv2d(8, 16, 3, stride=2)(first)
    return tuple(first.shape), tuple(features.shape), tuple(torch.nn.MaxPool2d(2)(features).shape)


def test_hover_and_inlay_hints_where_forward_applies_a_layer(tmp_path):
    first, features, pooled = applied_shapes()
    assert (first, features, pooled) == ((2, 8, 30, 30), (2, 16, 14, 14), (2, 16, 7, 7))  # 32-2; (30-3)//2+1; 14//2
    client = started(tmp_path, {"inlayHints": True})
    try:
        path = tmp_path / "applied.py"
        opened(client, path, APPLIED)
        line, col = locate(path, "self.pool(x)")
        result = hover(client, path.as_uri(), line - 1, col - 1 + len("self.po"))
        shown = result["contents"]["value"].splitlines()
        assert shown[:2] == ["```text", f"MaxPool2d  {features} → {pooled}   [<module>, input from usage]"]
        assert shown[2].startswith("MaxPool2d  (N, 16, ") and shown[2].endswith("[Net, symbolic input]")
        assert result["range"] == {"start": {"line": line - 1, "character": col - 1},
                                   "end": {"line": line - 1, "character": col - 1 + len("self.pool(x)")}}
        lines = APPLIED.splitlines()
        hints = {h["position"]["line"]: h["label"] for h in inlay_hints(client, path.as_uri())}
        # a Sequential's call binds its last child's output; each label leads with the build on the usage's input
        assert hints[lines.index("        x = self.features(x)")].startswith(f"▸ {features} | (N, 16, ")
        assert hints[lines.index("        x = self.pool(x)")].startswith(f"▸ {pooled} | (N, 16, ")
    finally:
        client.close()


def test_a_finding_the_project_proves_at_another_files_layer_is_published_for_that_file(tmp_path):
    """test_model.py runs ResNet18 of models/resnet.py on 32x32 images: flake8 on it alone reports at the call
    (tests/test_project_usages.py); the language server, with test_model.py open, also at the layer, in
    models/resnet.py, as the command line on the tree does; fixing the layer and saving takes both away."""
    project = tmp_path / "cifar_zoo"
    shutil.copytree(FIXTURES / "projects" / "cifar_zoo", project)
    resnet, test_file = project / "models" / "resnet.py", project / "test_model.py"
    correct = resnet.read_text()
    planted = correct.replace("F.avg_pool2d(out, 4)", "F.avg_pool2d(out, 2)")
    resnet.write_text(planted)
    # 32x32 through conv1 (3x3, padding 1) stays 32; the stride-2 stages give 16, 8, 4; avg_pool2d(out, 2): 2x2, so
    # 512 * 2 * 2 = 2048 features reach the Linear(512 * block.expansion) of a BasicBlock (expansion 1)
    finding = "Linear(in_features=512) but 2048 features arrive"
    use_line, use_col = locate(test_file, "net(torch.randn(2, 3, 32, 32))")
    layer_line, layer_col = locate(resnet, "nn.Linear(512 * block.expansion")
    client = started(project)
    try:
        [at_call] = opened(client, test_file, test_file.read_text())
        assert at_call["range"]["start"] == {"line": use_line - 1, "character": use_col - 1}
        assert at_call["message"].startswith(finding)
        assert f"[layer at models/resnet.py:{layer_line}]" in at_call["message"]
        [at_layer] = client.diagnostics(resnet.as_uri())  # published although models/resnet.py is not open
        assert at_layer["range"]["start"] == {"line": layer_line - 1, "character": layer_col - 1}
        assert at_layer["message"].startswith(finding) and at_layer["message"].endswith(
            f"[input from test_model.py:{use_line}]")
        assert "data" not in at_layer or at_layer["data"] is None  # the quick fix is the layer file's own analysis's

        # opened, the layer's file alone proves nothing (its ResNet needs arguments): what test_model.py proves stays
        assert opened(client, resnet, planted) == [at_layer]
        client.notify("textDocument/didChange", {"textDocument": {"uri": resnet.as_uri(), "version": 2},
                                                 "contentChanges": [{"text": correct}]})
        assert client.diagnostics(resnet.as_uri()) == []  # unsaved: test_model.py's run read the saved file
        resnet.write_text(correct)
        client.notify("textDocument/didSave", {"textDocument": {"uri": resnet.as_uri()}})
        assert client.diagnostics(test_file.as_uri()) == []  # checked again: it read the saved file
        assert client.diagnostics(resnet.as_uri()) == []

        resnet.write_text(planted)  # planted again and saved: back in both; closing test_model.py takes the layer's
        client.notify("textDocument/didChange", {"textDocument": {"uri": resnet.as_uri(), "version": 3},
                                                 "contentChanges": [{"text": planted}]})
        assert client.diagnostics(resnet.as_uri()) == []
        client.notify("textDocument/didSave", {"textDocument": {"uri": resnet.as_uri()}})
        assert [d["message"] for d in client.diagnostics(test_file.as_uri())] == [at_call["message"]]
        assert client.diagnostics(resnet.as_uri()) == [at_layer]
        client.notify("textDocument/didClose", {"textDocument": {"uri": test_file.as_uri()}})
        assert client.diagnostics(test_file.as_uri()) == []
        assert client.diagnostics(resnet.as_uri()) == []
    finally:
        client.close()
