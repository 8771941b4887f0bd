"""Jupyter notebooks through the command line, as a user runs it: code cells checked as one module in order,
IPython's magics and shell lines skipped, findings at `path:cell N:line:column` as ruff prints them."""

import json
import shutil

import pytest

from conftest import FIXTURES, cell_location, cli

from torchshape_lint.source.notebook import read_notebook

NOTEBOOK = FIXTURES / "lenet_mnist.ipynb"


def notebook(path, *cells):
    """A notebook file of code cells (str) and markdown cells (("markdown", str)), as Jupyter writes it."""
    listed = [{"cell_type": "markdown", "metadata": {}, "source": cell[1].splitlines(keepends=True)}
              if isinstance(cell, tuple) else
              {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
               "source": cell.splitlines(keepends=True)} for cell in cells]
    path.write_text(json.dumps({"cells": listed, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1))
    return path


def test_planted_mistake_at_its_cell_and_line():
    # 28 → conv 5: 24 → pool 2: 12 → conv 5: 8 → pool 2: 4, so 16 * 4 * 4 = 256 features reach fc1, not 16 * 5 * 5.
    # The input (64, 1, 28, 28) is the usage in the last cell: without the earlier cells' model it would not be known.
    cell, line, column = cell_location(NOTEBOOK, "nn.Linear(16 * 5 * 5")
    result = cli("--no-cache", "--quiet", "fixtures/lenet_mnist.ipynb")
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith(
        f"fixtures/lenet_mnist.ipynb:cell {cell}:{line}:{column}: TSL001 Linear(in_features=400) but 256 features "
        "arrive: input (64, 1, 28, 28)"), result.stdout
    assert result.stdout.count("\n") == 1 and result.stderr == ""


def test_json_gives_the_cell_and_the_line_in_it():
    cell, line, _ = cell_location(NOTEBOOK, "nn.Linear(16 * 5 * 5")
    [finding] = json.loads(cli("--no-cache", "--format", "json", "fixtures/lenet_mnist.ipynb").stdout)
    assert (finding["path"], finding["cell"], finding["line"]) == ("fixtures/lenet_mnist.ipynb", cell, line)
    [python_finding] = json.loads(cli("--no-cache", "--format", "json", "fixtures/lenet_mnist.py").stdout)
    assert python_finding["cell"] is None


def test_folder_walk_picks_up_notebooks(tmp_path):
    shutil.copy(NOTEBOOK, tmp_path / "lenet.ipynb")
    (tmp_path / "clean.py").write_text("x = 1\n")
    cell, line, column = cell_location(NOTEBOOK, "nn.Linear(16 * 5 * 5")
    result = cli("--no-cache", str(tmp_path))
    assert result.returncode == 1 and f"lenet.ipynb:cell {cell}:{line}:{column}: TSL001 " in result.stdout


def assert_only_the_conv_mistake(path):
    """The notebook reads as Python (no TSL906) and its model's second conv is reported at its cell and line:
    nn.Conv2d(3, 8, 3) gives 8 channels, the next declares 4."""
    cell, line, column = cell_location(path, "nn.Conv2d(4, 8, 3)")
    result = cli("--no-cache", str(path))
    assert result.returncode == 1 and result.stdout.startswith(
        f"{path}:cell {cell}:{line}:{column}: TSL002 Conv2d(in_channels=4) but 8 arrive"), result.stdout
    assert "TSL906" not in result.stdout


def test_magics_and_shell_lines_are_skipped(tmp_path):
    """IPython's syntax, which Python cannot parse, gives no TSL906; a `%` continuing a bracket is Python's modulo
    and stays code (blanking it would leave an unclosed bracket); the model under them is still checked."""
    path = notebook(
        tmp_path / "magics.ipynb",
        ("markdown", "# Setup\n"),
        "!pip install -q torchinfo\n%load_ext autoreload\n%autoreload 2\nimport torch\nimport torch.nn as nn\n",
        "%%bash\nls -l | wc -l\n",
        "files = !ls\nsteps = (10\n         % 3)\n",
        "model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(4, 8, 3))\n%timeit model\n",
        "out = model(torch.randn(2, 3, 32, 32))\n")
    assert_only_the_conv_mistake(path)


def test_a_block_whose_body_is_only_magics(tmp_path):
    """IPython runs `%pip` inside an `if`/`elif` (Colab's logger cells): the branch keeps a body, no TSL906."""
    path = notebook(
        tmp_path / "logger.ipynb",
        "logger = 'Comet'\nif logger == 'Comet':\n  %pip install -q comet_ml\nelif logger == 'TensorBoard':\n"
        "  %load_ext tensorboard\n  %tensorboard --logdir runs/train\n",
        "import torch\nimport torch.nn as nn\nmodel = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(4, 8, 3))\n"
        "out = model(torch.randn(2, 3, 32, 32))\n")
    assert_only_the_conv_mistake(path)


def test_noqa_in_a_cell(tmp_path):
    source = json.loads(NOTEBOOK.read_text())
    cell, line, _ = cell_location(NOTEBOOK, "nn.Linear(16 * 5 * 5")
    lines = "".join(source["cells"][cell - 1]["source"]).split("\n")
    lines[line - 1] += "  # noqa: TSL001"
    source["cells"][cell - 1]["source"] = "\n".join(lines)
    (tmp_path / "silenced.ipynb").write_text(json.dumps(source))
    result = cli("--no-cache", str(tmp_path / "silenced.ipynb"))
    assert (result.returncode, result.stdout) == (0, ""), result.stdout


def test_syntax_error_in_a_cell_and_a_file_that_is_not_a_notebook(tmp_path):
    broken = notebook(tmp_path / "broken.ipynb", "import torch\n", "x = 1\ny = (2\n")
    result = cli("--no-cache", str(broken))
    assert result.returncode == 1 and result.stdout.startswith(f"{broken}:cell 2:") and " TSL906 " in result.stdout
    (tmp_path / "junk.ipynb").write_text("{not json")
    result = cli("--no-cache", str(tmp_path / "junk.ipynb"))
    assert result.returncode == 1 and result.stdout.startswith(f"{tmp_path / 'junk.ipynb'}:1:1: TSL906 "), result.stdout


def test_fix_refuses_notebooks_and_writes_nothing(tmp_path):
    path = tmp_path / "lenet.ipynb"
    shutil.copy(NOTEBOOK, path)
    for flag in ("--fix", "--diff"):
        result = cli("--no-cache", flag, str(path))
        assert result.returncode == 1 and path.read_bytes() == NOTEBOOK.read_bytes()
        assert f"{path}: --fix and --diff do not edit notebooks; nothing written" in result.stderr
        assert (" TSL001 " in result.stdout) == (flag == "--fix")  # --diff prints only a diff: here none


def test_cells_concatenated_in_order_with_their_places():
    cells = read_notebook(json.dumps({"cells": [
        {"cell_type": "code", "source": ["%matplotlib inline\n", "import torch"]},
        {"cell_type": "markdown", "source": "# text\n"},
        {"cell_type": "code", "source": "%%time\nx = 1\n"},
        {"cell_type": "code", "source": ["!ls\n", "y = 2\n"]}]}).encode())
    assert cells.text == "pass\nimport torch\n\n\npass\ny = 2\n"
    assert cells.places == ((1, 1), (1, 2), (3, 1), (3, 2), (4, 1), (4, 2))


def test_language_server_publishes_on_the_cell(tmp_path):
    """An editor with notebook support (LSP 3.17) opens the notebook as cells: the finding lands on the cell that
    holds the Linear, at its line; editing that cell to the right size clears it."""
    pytest.importorskip("pygls")
    from test_lsp import Client

    client = Client(tmp_path)
    client.request("initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}})
    client.notify("initialized", {})
    notebook_uri = (tmp_path / "lenet.ipynb").as_uri()
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    uris = [f"vscode-notebook-cell:{tmp_path / 'lenet.ipynb'}#cell{number}" for number in range(1, len(cells) + 1)]
    client.notify("notebookDocument/didOpen", {
        "notebookDocument": {"uri": notebook_uri, "notebookType": "jupyter-notebook", "version": 1,
                             "cells": [{"kind": 2 if cell["cell_type"] == "code" else 1, "document": uri}
                                       for cell, uri in zip(cells, uris)]},
        "cellTextDocuments": [{"uri": uri, "languageId": "python" if cell["cell_type"] == "code" else "markdown",
                               "version": 1, "text": "".join(cell["source"])} for cell, uri in zip(cells, uris)]})
    cell, line, column = cell_location(NOTEBOOK, "nn.Linear(16 * 5 * 5")
    [diagnostic] = client.diagnostics(uris[cell - 1])
    assert diagnostic["range"]["start"] == {"line": line - 1, "character": column - 1}
    assert diagnostic["code"] == "TSL001" and "but 256 features arrive" in diagnostic["message"]
    fixed = "".join(cells[cell - 1]["source"]).replace("nn.Linear(16 * 5 * 5", "nn.Linear(16 * 4 * 4")
    client.notify("notebookDocument/didChange", {
        "notebookDocument": {"uri": notebook_uri, "version": 2},
        "change": {"cells": {"textContent": [{"document": {"uri": uris[cell - 1], "version": 2},
                                              "changes": [{"text": fixed}]}]}}})
    assert client.diagnostics(uris[cell - 1]) == []
    client.close()


def test_files_that_are_json_but_not_notebooks(tmp_path):
    """Each is a TSL906 at line 1 and the run goes on: no traceback, no exit 2."""
    odd = {"list.ipynb": "[1, 2]", "no_cells.ipynb": '{"metadata": {}}', "numbers.ipynb": '{"cells": [{"cell_type": '
           '"code", "source": [1, 2]}]}', "deep.ipynb": "[" * 100_000 + "]" * 100_000, "latin1.ipynb": b"\xff\xfe{"}
    for name, content in odd.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        result = cli("--no-cache", str(path))
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        assert result.stdout.startswith(f"{path}:1:1: TSL906 "), (name, result.stdout)


def test_confirm_runs_a_notebook_as_its_code_cells():
    """--confirm runs a notebook as the module of its code cells (the lines the analysis read), not its JSON: the
    planted mistake is confirmed at its cell and line, where importing the .ipynb as Python raised a NameError."""
    pytest.importorskip("torch")
    cell, line, column = cell_location(NOTEBOOK, "nn.Linear(16 * 5 * 5")
    result = cli("--no-cache", "--quiet", "--confirm", "--device", "cpu", "fixtures/lenet_mnist.ipynb")
    assert result.returncode == 1, result.stderr
    [finding] = result.stdout.splitlines()
    assert finding.startswith(f"fixtures/lenet_mnist.ipynb:cell {cell}:{line}:{column}: TSL001 "), finding
    assert finding.endswith("[confirmed on cpu]"), finding
