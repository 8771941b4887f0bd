"""RNN/LSTM/GRU take *args in PyTorch: check the table's positional order by building them, and their shapes."""

import pytest

from torchshape_lint.shapes.layer_spec import REQUIRED, Layer, bind
from torchshape_lint.shapes.layers import LAYERS
from torchshape_lint.shapes.tensor import Tensor
from torchshape_lint.shapes.violations import Collector

torch = pytest.importorskip("torch")

# distinctive values by parameter, so a wrong order shows as a wrong attribute
VALUES = {"input_size": 5, "hidden_size": 7, "num_layers": 2, "nonlinearity": "relu", "bias": False,
          "batch_first": True, "dropout": 0.25, "bidirectional": True, "proj_size": 3}


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
def test_positional_order_and_defaults(name):
    params = [(p, d) for p, d in LAYERS[name].params if p not in ("device", "dtype")]
    module = getattr(torch.nn, name)(*[VALUES[p] for p, _ in params])
    for param, _ in params:
        assert getattr(module, param) == VALUES[param], param
    defaults = getattr(torch.nn, name)(5, 7)
    for param, default in params:
        if default is not REQUIRED:
            assert getattr(defaults, param) == default, param


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("batch_first, bidirectional", [(False, False), (True, True)])
def test_output_shape(name, batch_first, bidirectional):
    kwargs = {"batch_first": batch_first, "bidirectional": bidirectional}
    shape = (4, 6, 5)
    real = getattr(torch.nn, name)(5, 7, **kwargs)(torch.zeros(shape))[0].shape
    spec = LAYERS[name]
    out = Layer(spec, bind(spec, (5, 7), kwargs))(Tensor(shape=shape), Collector())[0]
    assert out.shape == tuple(real)


def test_wrong_input_size_is_reported_as_torch_fails():
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size"):
        torch.nn.LSTM(5, 7)(torch.zeros(4, 6, 8))
    check = Collector()
    Layer(LAYERS["LSTM"], bind(LAYERS["LSTM"], (5, 7), {}))(Tensor(shape=(4, 6, 8)), check)
    assert [v.kind for v in check.violations] == ["channel-mismatch"]
