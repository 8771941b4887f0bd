"""The language server driven as an editor drives it: JSON-RPC over the stdio of `torchshape-lint lsp`."""

import json
import subprocess
import sys

import pytest

from conftest import FIXTURES, locate

pytest.importorskip("pygls")


class Client:
    def __init__(self, cwd):
        self.process = subprocess.Popen([sys.executable, "-m", "torchshape_lint.report.cli", "lsp"], cwd=cwd,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0

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
        self.request("shutdown", None)
        self.notify("exit", None)
        assert self.process.wait(timeout=30) == 0


@pytest.fixture
def client(tmp_path):
    client = Client(tmp_path)
    client.request("initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}})
    client.notify("initialized", {})
    yield client
    client.close()


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
