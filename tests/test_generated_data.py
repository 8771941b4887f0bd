"""A model's input from the data its project's own script generates with NumPy (fixtures/projects/ecg_generated: a
util.py that builds sine and noise signals in nested loops, np.array / np.concatenate / a shuffle by permutation; a
train.py that calls `summary(model, (data.shape[1], data.shape[2]))`): the NumPy shape functions against NumPy
itself, a loop too long to follow stopped without ending the build, and a residual mistake that only the concrete
length shows, reported at the layer and at the using line, with torch failing there."""

from __future__ import annotations

import importlib.util
import shutil
import textwrap

import pytest

from conftest import FIXTURES, cli, flake8, locate

from torchshape_lint.evaluate.interpreter import Interpreter
from torchshape_lint.shapes.tensor import Tensor
from torchshape_lint.source.reader import SourceFile
from torchshape_lint.unknown import UNKNOWN

np = pytest.importorskip("numpy")

PROJECT = FIXTURES / "projects" / "ecg_generated"


def evaluated(source: str) -> dict:
    """The names a module's evaluation binds (`import numpy as np` first)."""
    interpreter = Interpreter(SourceFile("import numpy as np\n" + textwrap.dedent(source), "f.py"))
    interpreter.run_module()
    return interpreter.globals.vars


def shape_of(expression: str):
    """The shape the evaluator gives `expression`: a tuple (UNKNOWN where a size is not known), or UNKNOWN."""
    value = evaluated(f"value = {expression}\n")["value"]
    return tuple(value.shape) if isinstance(value, Tensor) and value.shape is not None else UNKNOWN


EXPRESSIONS = [
    "np.arange(10)", "np.arange(2, 11, 3)", "np.arange(0.5, 3.0, 0.25)", "np.arange(5, 1, -2)", "np.arange(stop=4)",
    "np.random.rand()", "np.random.rand(3, 4)", "np.random.normal(0, 1)", "np.random.normal(0, 1, (2, 5))",
    "np.sin(np.arange(5) / 2 + 1.0)", "np.exp(np.zeros((2, 3)))", "np.abs(np.ones((4,)))", "np.tanh(2.0)",
    "np.sqrt(np.ones((3, 1)) * np.ones((1, 2)))", "2 * np.pi * np.random.rand(5)",
    "np.sin(np.arange(8) / 4 + 2 * np.pi * np.random.rand())",
    "np.zeros((3, 1)) + np.ones((1, 4))", "np.maximum(np.zeros((2, 1, 3)), np.ones((5, 1)))",
    "np.add(np.zeros(3), 1)", "np.power(np.ones((2, 2)), np.ones(2))",
    "np.array([[1, 2, 3], [4, 5, 6]])", "np.array([np.zeros(4), np.ones(4)])", "np.array([[np.zeros(3)] * 2] * 5)",
    "np.asarray(np.zeros((2, 3)))", "np.array([0] * 7)", "np.array([], dtype=np.float32)", "np.array(3.5)",
    "np.concatenate([np.zeros((2, 3)), np.ones((4, 3))])",
    "np.concatenate((np.zeros((2, 3)), np.ones((2, 5))), axis=1)",
    "np.concatenate([np.zeros((2, 3))], axis=-1)", "np.concatenate([np.zeros(2), np.ones(3), np.ones(1)])",
    "np.stack([np.zeros((2, 3)), np.ones((2, 3))])", "np.stack([np.zeros((2, 3))] * 4, axis=-1)",
    "np.stack([np.zeros(3), np.ones(3)], 1)",
    "np.vstack([np.zeros(3), np.ones(3)])", "np.vstack([np.zeros((2, 3)), np.ones((1, 3))])",
    "np.hstack([np.zeros(3), np.ones(2)])", "np.hstack([np.zeros((2, 3)), np.ones((2, 1))])",
    "np.expand_dims(np.zeros((2, 3)), 1)", "np.expand_dims(np.zeros((2, 3)), -1)",
    "np.expand_dims(np.zeros((2, 3)), (0, 3))", "np.expand_dims(np.zeros(4), axis=0)",
    "np.transpose(np.zeros((2, 3, 4)))", "np.transpose(np.zeros((2, 3, 4)), (1, 2, 0))",
    "np.transpose(np.zeros((2, 3)), axes=[-1, 0])",
    "np.random.permutation(6)", "np.random.permutation(np.zeros((4, 2)))",
    "np.zeros((6, 2))[np.arange(4)]", "np.zeros((6, 2, 5))[np.random.permutation(3)]",
    "np.random.rand(3, 4).reshape(2, 6)", "np.random.rand(3, 4).reshape((-1, 2))",
    "np.random.rand(3, 4).astype(np.float32)", "np.reshape(np.zeros((3, 4)), (-1,))", "np.zeros((2, 3)).shape",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_numpy_shapes_are_numpys(expression):
    made = eval(expression, {"np": np})
    expected = made if expression.endswith(".shape") else np.shape(made)
    got = evaluated(f"value = {expression}")["value"] if expression.endswith(".shape") else shape_of(expression)
    assert got == expected, (expression, got, expected)


# What NumPy refuses (a mismatch, a ragged list, an axis out of range), and what the evaluator cannot know: unknown,
# and no finding (NumPy's words are not PyTorch's)
UNKNOWN_EXPRESSIONS = [
    "np.concatenate([np.zeros((2, 3)), np.ones((2, 4))])", "np.stack([np.zeros(3), np.zeros(4)])",
    "np.array([np.zeros(3), np.zeros(4)])", "np.array([[1, 2], [3]])", "np.expand_dims(np.zeros(3), 2)",
    "np.transpose(np.zeros((2, 3)), (0, 0))", "np.zeros((2, 3)) + np.ones(4)", "np.concatenate([np.zeros(())])",
    "np.maximum(np.zeros(2), np.zeros(3))",
]


@pytest.mark.parametrize("expression", UNKNOWN_EXPRESSIONS)
def test_what_numpy_refuses_is_unknown(expression):
    with pytest.raises(ValueError):
        eval(expression, {"np": np})
    assert shape_of(expression) is UNKNOWN


def test_a_ragged_list_as_objects_and_a_mask_index_are_not_guessed():
    # dtype=object makes an array of the outer list only; a bool mask as long as the first size picks rows not known
    assert shape_of("np.array([np.zeros(3), np.zeros(4)], dtype=object)") is UNKNOWN
    assert np.zeros((6, 2))[np.ones(6, dtype=bool)].shape == (6, 2)
    with pytest.raises(IndexError):  # a mask must be as long as the first size: an index of another length is integers
        np.zeros((6, 2))[np.ones(4, dtype=bool)]
    assert shape_of("np.zeros((6, 2))[np.ones(6, dtype=bool)]") == (UNKNOWN, 2)
    assert shape_of("np.zeros((6, 2))[np.arange(6)]") == (UNKNOWN, 2)  # integers or a mask: both as long


def test_an_array_not_known_in_a_concatenation_keeps_the_known_sizes_off_the_axis():
    names = evaluated("""
        parts = [np.zeros((2, 3, 4))]
        parts.append(unknown_source())
        rows = np.concatenate(parts)
        columns = np.concatenate(parts, axis=-1)
        stacked = np.stack(parts)
    """)
    # whatever the other array is, if NumPy runs the call its sizes off the axis are the known one's
    assert np.concatenate([np.zeros((2, 3, 4)), np.ones((5, 3, 4))]).shape == (7, 3, 4)
    assert names["rows"].shape == (UNKNOWN, 3, 4)
    assert names["columns"].shape == (2, 3, UNKNOWN)
    assert names["stacked"].shape == (2, 2, 3, 4)


LONG_LOOP = textwrap.dedent('''
    import torch
    import torch.nn as nn


    def generate(n):
        rows = []
        last = 0
        for i in range(n):
            for j in range(n):
                rows.append([i, j])
                last = i + j
        return rows, last


    rows, last = generate(1000)  # a million passes: far past the steps a build may take
    done = 1
    probe = nn.Linear(4, 2)
    probe(torch.zeros(3, last))
    probe(torch.zeros(3, len(rows)))
    net = nn.Linear(8, 2)
    net(torch.zeros(3, 6))
''')


def test_a_loop_past_its_share_of_the_steps_stops_and_the_evaluation_goes_on(tmp_path):
    names = Interpreter(SourceFile(LONG_LOOP, "data.py"))
    names.run_module()
    # what the loop assigned and appended to is not known; what comes after it is
    assert names.globals.vars["last"] is UNKNOWN and names.globals.vars["done"] == 1
    assert names.steps < names.max_steps
    (tmp_path / "data.py").write_text(LONG_LOOP)
    result = cli("--no-cache", "-q", "data.py", cwd=tmp_path)
    line, column = locate(tmp_path / "data.py", "net(torch.zeros(3, 6))")
    # the mistake after the loop is found; nothing from the sizes the loop made unknown
    assert result.stdout.splitlines() == [
        f"data.py:{line - 1}:7: TSL001 Linear(in_features=8) but 6 features arrive: input (3, 6); use 6"], result.stdout


def project_copy(tmp_path, mistake=None):
    project = tmp_path / "ecg_generated"
    shutil.copytree(PROJECT, project)
    if mistake is not None:
        net = project / "net.py"
        assert mistake[0] in net.read_text()
        net.write_text(net.read_text().replace(*mistake, 1))
    return project


STRIDE_THREE = ("stride=2, padding=1", "stride=3, padding=1")


def fixture_module(project, name):
    spec = importlib.util.spec_from_file_location(f"ecg_generated_{name}", project / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_data_is_the_models_input_as_numpy_makes_it(tmp_path):
    data, label = fixture_module(PROJECT, "util").read_data_generated(n_samples=1000, n_length=128, n_channel=8,
                                                                      n_classes=4)
    assert data.shape == (4000, 8, 128) and label.shape == (4000,)
    result = cli("--no-cache", "-q", ".", cwd=project_copy(tmp_path))
    assert result.returncode == 0 and result.stdout == "", result.stdout


def test_a_residual_mistake_that_only_the_generated_length_shows_is_reported_where_torch_fails(tmp_path):
    torch = pytest.importorskip("torch")
    project = project_copy(tmp_path, STRIDE_THREE)
    net = fixture_module(project, "net")
    # torchsummary runs the model on a batch of 2 of (channels, length): (2, 8, 128)
    with pytest.raises(RuntimeError) as error:
        net.Net(in_channels=8, base_filters=16, n_classes=4)(torch.zeros(2, 8, 128))
    assert "The size of tensor a (43) must match the size of tensor b (64) at non-singleton dimension 2" in \
        str(error.value)
    fixture_module(PROJECT, "net").Net(in_channels=8, base_filters=16, n_classes=4)(torch.zeros(2, 8, 128))
    result = cli("--no-cache", "-q", ".", cwd=project)
    layer, layer_column = locate(project / "net.py", "out += identity")
    use, use_column = locate(project / "train.py", "summary(model")
    message = ("TSL009 a += b: The size of tensor a (43) must match the size of tensor b (64) at non-singleton "
               "dimension 2; a (N, 16, 43) from BatchNorm1d (line 11), b (N, 16, 64) from MaxPool1d (line 14)")
    assert result.stdout.splitlines() == [
        f"./net.py:{layer}:{layer_column}: {message} [input from train.py:{use}]",
        f"./train.py:{use}:{use_column}: {message} [layer at net.py:{layer}]"], result.stdout
    # flake8 sees one file at a time: the input is given in train.py, so it reports there
    assert flake8(".", cwd=project).stdout.splitlines() == [
        f"./train.py:{use}:{use_column}: {message} [layer at net.py:{layer}]"]
