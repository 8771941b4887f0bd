"""The layer table and the size formulas, checked against PyTorch itself.

Every expected number here comes from running torch (on the meta device where it can, else on small CPU
tensors), never from the project's own code:

* each layer's parameter list matches `inspect.signature` of the torch.nn class;
* for random valid layer arguments and random input shapes, the shape functions give exactly torch's output
  shape and no violation, and where torch raises they report a violation or give no concrete shape;
* the formulas are monotone non-decreasing in the input size, which `dims` relies on;
* `dims.can_equal` never says "impossible" for a value some input size reaches.
"""

from __future__ import annotations

import inspect
from functools import partial

import pytest

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from torchshape_lint.shapes import dims, formulas  # noqa: E402
from torchshape_lint.shapes.layer_spec import REQUIRED, Layer, bind  # noqa: E402
from torchshape_lint.shapes.layers import ELEMENTWISE, LAYERS  # noqa: E402
from torchshape_lint.shapes.tensor import Tensor  # noqa: E402
from torchshape_lint.shapes.violations import Collector  # noqa: E402
from torchshape_lint.unknown import UNKNOWN  # noqa: E402

EXAMPLES = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# ---- 1. signatures -----------------------------------------------------------------------------------


def torch_params(cls) -> list:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    stars = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return [(stars.get(p.kind, "") + p.name, REQUIRED if p.default is inspect.Parameter.empty else p.default)
            for p in params]


@pytest.mark.parametrize("name", sorted(n for n, spec in LAYERS.items() if spec.params is not None))
def test_params_match_torch_signature(name):
    cls = getattr(torch.nn, name, None)
    if cls is None:
        pytest.skip(f"torch {torch.__version__} has no torch.nn.{name}")
    expected = torch_params(cls)
    if [n for n, _ in expected] == ["*args", "**kwargs"]:
        pytest.skip(f"torch.nn.{name} takes *args: its order is checked in tests/test_recurrent_layers.py")
    got = list(LAYERS[name].params)
    assert [n for n, _ in got] == [n for n, _ in expected], name
    for (param, default), (_, wanted) in zip(got, expected):
        if wanted is REQUIRED:
            assert default is REQUIRED, f"{name}.{param} has no default in torch"
        else:
            assert default is not REQUIRED and type(default) is type(wanted) and default == wanted, \
                f"{name}.{param}: default {default!r}, torch has {wanted!r}"


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_layers_preserve_shape(name):
    cls = getattr(torch.nn, name, None)
    if cls is None:
        pytest.skip(f"torch {torch.__version__} has no torch.nn.{name}")
    required = [n for n, d in torch_params(cls) if d is REQUIRED and not n.startswith("*")]
    args = {"Threshold": (0.1, 0.0), "LocalResponseNorm": (2,)}.get(name, ())
    assert len(args) == len(required), f"{name} needs {required}"
    shape = (2, 3, 4) if name == "Dropout1d" else (2, 3, 4, 5)
    assert torch_output(name, args, {}, shape) == shape
    out, violations = project_output(name, args, {}, shape)[1:]
    assert not violations and out.shape == shape


# ---- running torch and the project on one layer -----------------------------------------------------

RAISES = "raises"


def torch_output(name: str, args: tuple, kwargs: dict, shape: tuple, dtype=torch.float32, device: str = "meta"):
    """Torch's output shape for the layer on an input of `shape`, or RAISES.

    On the meta device (fast) unless told "cpu"; where the meta device raises (it may lack the op) the CPU
    decides. Meta kernels check less than the CPU ones (ConvTranspose accepts the wrong channel count and
    outputs of size 0 there), so `agrees` asks the CPU again whenever the project disagrees with meta.
    """
    cls = getattr(torch.nn, name)
    for where in ("meta", "cpu") if device == "meta" else ("cpu",):
        try:
            with torch.device(where):
                module = cls(*args, **kwargs)
        except Exception:
            return RAISES
        # Eval mode: BatchNorm's "more than 1 value per channel when training" is about the batch, not shapes.
        module.eval()
        try:
            with torch.no_grad():
                return tuple(module(torch.zeros(shape, dtype=dtype, device=where)).shape)
        except Exception:
            pass
    return RAISES


def project_output(name: str, args: tuple, kwargs: dict, shape: tuple):
    """(bound arguments, output, violations) from the project's table, as the evaluator builds and calls layers."""
    spec = LAYERS[name]
    bound = bind(spec, tuple(args), dict(kwargs))
    if bound is None:
        return None, UNKNOWN, []
    check = Collector()
    layer = Layer(spec, bound)
    for problem in spec.validate(layer) if spec.validate is not None else ():
        check.report(problem)
    out = layer(Tensor(shape=tuple(shape)), check)
    return bound, out, check.violations


def concrete(out) -> bool:
    return isinstance(out, Tensor) and out.shape is not None and all(
        isinstance(d, int) and not isinstance(d, bool) for d in out.shape)


def agrees(name: str, args: tuple, kwargs: dict, shape: tuple, dtype=torch.float32) -> None:
    bound, out, violations = project_output(name, args, kwargs, shape)
    expected = torch_output(name, args, kwargs, shape, dtype)
    if not consistent(expected, bound, out, violations):
        expected = torch_output(name, args, kwargs, shape, dtype, device="cpu")
    if expected is not RAISES and 0 in expected and consistent(RAISES, bound, out, violations):
        # An empty output: torch itself is inconsistent here (grouped ConvTranspose returns one where the
        # ungrouped raises "Output size is too small"), so the project may give it or reject it.
        return
    call = f"nn.{name}({', '.join([repr(a) for a in args] + [f'{k}={v!r}' for k, v in kwargs.items()])})"
    got = out.shape if isinstance(out, Tensor) else out
    if expected is RAISES:
        assert consistent(expected, bound, out, violations), \
            f"torch raises for {call} on {shape}, the project gives {got} and no violation"
    else:
        assert bound is not None, f"{call} does not bind"
        assert not violations, f"{call} on {shape}: torch gives {expected}, the project reports {violations}"
        assert consistent(expected, bound, out, violations), \
            f"{call} on {shape}: torch gives {expected}, the project {got}"


def consistent(expected, bound, out, violations) -> bool:
    """Where torch raises: a violation, or no concrete shape. Where it succeeds: its shape and no violation."""
    if expected is RAISES:
        return bound is None or bool(violations) or not concrete(out)
    return bound is not None and not violations and concrete(out) and out.shape == expected


# ---- strategies --------------------------------------------------------------------------------------


def per_dim(draw, nd: int, values):
    """(as written, per dimension): one value per spatial dimension, written as an int (sometimes, when
    they agree) or a tuple."""
    chosen = tuple(draw(values) for _ in range(nd))
    if len(set(chosen)) == 1 and draw(st.booleans()):
        return chosen[0], chosen
    return chosen, chosen


def input_shape(draw, nd: int, channels: int, max_size: int, sizes=None):
    """(N, C, *sizes) or unbatched (C, *sizes); channels usually as declared, sometimes not; rarely a rank
    that no N-d layer reads ((*sizes) or (M, N, C, *sizes))."""
    if draw(st.integers(0, 4)) == 0:
        channels = draw(st.integers(1, 8))
    spatial = tuple(draw(st.integers(1, max_size)) for _ in range(nd)) if sizes is None else sizes
    lead = draw(st.sampled_from([(), (), (), (), (1,), (2,), (3,), (2, 3), None]))
    return spatial if lead is None else lead + (channels,) + spatial


MAX_SIZE = {1: 24, 2: 16, 3: 8}


@pytest.mark.parametrize("nd", [1, 2, 3])
@EXAMPLES
@given(data=st.data())
def test_conv_matches_torch(nd, data):
    draw = data.draw
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel, _ = per_dim(draw, nd, st.integers(1, 5))
    kwargs = {}
    if draw(st.booleans()):
        kwargs["stride"], _ = per_dim(draw, nd, st.integers(1, 3))
    if draw(st.booleans()):
        kwargs["dilation"], _ = per_dim(draw, nd, st.integers(1, 3))
    padding = draw(st.sampled_from(["int", "int", "same", "valid"]))
    if padding == "int":
        kwargs["padding"], _ = per_dim(draw, nd, st.integers(0, 3))
    else:
        kwargs["padding"] = padding
        if padding == "same" and draw(st.booleans()):
            kwargs.pop("stride", None)
    if groups > 1:
        kwargs["groups"] = groups
    shape = input_shape(draw, nd, cin, MAX_SIZE[nd])
    agrees(f"Conv{nd}d", (cin, cout, kernel), kwargs, shape)


@pytest.mark.parametrize("nd", [1, 2, 3])
@EXAMPLES
@given(data=st.data())
def test_conv_transpose_matches_torch(nd, data):
    draw = data.draw
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel, _ = per_dim(draw, nd, st.integers(1, 5))
    stride, strides = per_dim(draw, nd, st.integers(1, 3))
    dilation, dilations = per_dim(draw, nd, st.integers(1, 3))
    padding, _ = per_dim(draw, nd, st.integers(0, 3))
    # PyTorch: output_padding must be smaller than either stride or dilation.
    pads = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(strides, dilations))
    output_padding = pads[0] if len(set(pads)) == 1 and draw(st.booleans()) else pads
    kwargs = {"stride": stride, "padding": padding, "output_padding": output_padding, "groups": groups,
              "dilation": dilation}
    shape = input_shape(draw, nd, cin, MAX_SIZE[nd])
    agrees(f"ConvTranspose{nd}d", (cin, cout, kernel), kwargs, shape)


def pool_args(draw, nd: int):
    kernel, kernels = per_dim(draw, nd, st.integers(1, 5))
    kwargs = {}
    if draw(st.booleans()):
        kwargs["stride"], _ = per_dim(draw, nd, st.integers(1, 4))
    # PyTorch: padding should be at most half of the kernel size.
    pads = tuple(draw(st.integers(0, k // 2)) for k in kernels)
    kwargs["padding"] = pads[0] if len(set(pads)) == 1 and draw(st.booleans()) else pads
    kwargs["ceil_mode"] = draw(st.booleans())
    return kernel, kwargs


@pytest.mark.parametrize("nd", [1, 2, 3])
@EXAMPLES
@given(data=st.data())
def test_max_pool_matches_torch(nd, data):
    draw = data.draw
    kernel, kwargs = pool_args(draw, nd)
    if draw(st.booleans()):
        kwargs["dilation"], _ = per_dim(draw, nd, st.integers(1, 3))
    shape = input_shape(draw, nd, draw(st.integers(1, 4)), MAX_SIZE[nd])
    agrees(f"MaxPool{nd}d", (kernel,), kwargs, shape)


@pytest.mark.parametrize("nd", [1, 2, 3])
@EXAMPLES
@given(data=st.data())
def test_avg_pool_matches_torch(nd, data):
    draw = data.draw
    kernel, kwargs = pool_args(draw, nd)
    kwargs["count_include_pad"] = draw(st.booleans())
    shape = input_shape(draw, nd, draw(st.integers(1, 4)), MAX_SIZE[nd])
    agrees(f"AvgPool{nd}d", (kernel,), kwargs, shape)


@pytest.mark.parametrize("kind", ["Avg", "Max"])
@pytest.mark.parametrize("nd", [1, 2, 3])
@EXAMPLES
@given(data=st.data())
def test_adaptive_pool_matches_torch(kind, nd, data):
    draw = data.draw
    sizes = st.integers(1, 6) if nd == 1 else st.one_of(st.integers(1, 6), st.none())
    output_size = tuple(draw(sizes) for _ in range(nd))
    if draw(st.booleans()) and len(set(output_size)) == 1 and output_size[0] is not None:
        output_size = output_size[0]
    shape = input_shape(draw, nd, draw(st.integers(1, 4)), MAX_SIZE[nd])
    agrees(f"Adaptive{kind}Pool{nd}d", (output_size,), {}, shape)


SCALES = st.sampled_from([0.25, 0.3, 0.5, 2 / 3, 1, 1.0, 1.5, 1.7, 2, 2.0, 2.5, 3, 1 / 3, 0.1])
MODES = {1: ["nearest", "linear"], 2: ["nearest", "bilinear", "bicubic"], 3: ["nearest", "trilinear"]}


@EXAMPLES
@given(data=st.data())
def test_upsample_matches_torch(data):
    draw = data.draw
    nd = draw(st.integers(1, 3))
    kwargs = {"mode": draw(st.sampled_from(MODES[nd]))}
    if draw(st.booleans()):
        size, _ = per_dim(draw, nd, st.integers(1, 12))
        kwargs["size"] = size
    else:
        kwargs["scale_factor"], _ = per_dim(draw, nd, SCALES)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + tuple(
        draw(st.integers(1, MAX_SIZE[nd])) for _ in range(nd))
    agrees("Upsample", (), kwargs, shape)


@EXAMPLES
@given(data=st.data())
def test_upsampling_2d_layers_match_torch(data):
    draw = data.draw
    name = draw(st.sampled_from(["UpsamplingNearest2d", "UpsamplingBilinear2d"]))
    if draw(st.booleans()):
        kwargs = {"size": per_dim(draw, 2, st.integers(1, 12))[0]}
    else:
        kwargs = {"scale_factor": draw(SCALES)}
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 12)), draw(st.integers(1, 12)))
    agrees(name, (), kwargs, shape)


PADS = [f"{kind}Pad{nd}d" for nd in (1, 2, 3) for kind in ("Reflection", "Replication", "Circular", "Zero", "Constant")]


@pytest.mark.parametrize("name", PADS)
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_padding_layers_match_torch(name, data):
    draw = data.draw
    nd = int(name[-2])
    sizes = tuple(draw(st.integers(1, 8)) for _ in range(nd))
    # Reflection needs padding below the size it pads, circular at most that size; constant may crop.
    low = -2 if name.startswith(("Zero", "Constant")) else 0
    amounts = []
    for size in reversed(sizes):  # padding runs from the last dimension backwards
        high = size - 1 if name.startswith("Reflection") else size if name.startswith("Circular") else 4
        amounts += [draw(st.integers(min(low, high), max(0, high))) for _ in range(2)]
    padding = amounts[0] if len(set(amounts)) == 1 and draw(st.booleans()) else tuple(amounts)
    args = (padding, 0.5) if name.startswith("Constant") else (padding,)
    shape = input_shape(draw, nd, draw(st.integers(1, 3)), 8, sizes)
    agrees(name, args, {}, shape)


@pytest.mark.parametrize("name", ["PixelShuffle", "PixelUnshuffle"])
@EXAMPLES
@given(data=st.data())
def test_pixel_shuffle_matches_torch(name, data):
    draw = data.draw
    factor = draw(st.integers(1, 3))
    channels = draw(st.integers(1, 4)) * (factor * factor if draw(st.integers(0, 3)) else 1)
    if name == "PixelUnshuffle" and draw(st.integers(0, 3)):
        sizes = (factor * draw(st.integers(1, 5)), factor * draw(st.integers(1, 5)))
    else:
        sizes = (draw(st.integers(1, 10)), draw(st.integers(1, 10)))
    lead = tuple(draw(st.integers(1, 2)) for _ in range(draw(st.integers(0, 2))))
    agrees(name, (factor,), {}, lead + (channels,) + sizes)


@EXAMPLES
@given(data=st.data())
def test_flatten_matches_torch(data):
    draw = data.draw
    rank = draw(st.integers(0, 5))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    kwargs = {}
    if draw(st.booleans()):
        kwargs["start_dim"] = draw(st.integers(-rank - 1, rank))
    if draw(st.booleans()):
        kwargs["end_dim"] = draw(st.integers(-rank - 1, rank))
    agrees("Flatten", (), kwargs, shape)


@EXAMPLES
@given(data=st.data())
def test_unflatten_matches_torch(data):
    draw = data.draw
    rank = draw(st.integers(1, 4))
    dim = draw(st.integers(-rank, rank - 1))
    sizes = [draw(st.integers(1, 4)) for _ in range(draw(st.integers(1, 3)))]
    shape = [draw(st.integers(1, 4)) for _ in range(rank)]
    if draw(st.integers(0, 3)):
        shape[dim] = 1
        for s in sizes:
            shape[dim] *= s
    if draw(st.booleans()):
        sizes[draw(st.integers(0, len(sizes) - 1))] = -1
    agrees("Unflatten", (dim, tuple(sizes)), {}, tuple(shape))


def norm_input(draw, rank_range, channels: int):
    rank = draw(st.integers(*rank_range))
    shape = [draw(st.integers(2, 4)) for _ in range(rank)]
    if rank >= 2 and draw(st.integers(0, 4)):
        shape[1] = channels
    return tuple(shape)


@pytest.mark.parametrize("nd", [1, 2, 3])
@EXAMPLES
@given(data=st.data())
def test_batch_norm_matches_torch(nd, data):
    draw = data.draw
    features = draw(st.integers(1, 6))
    kwargs = {"affine": draw(st.booleans()), "track_running_stats": draw(st.booleans())}
    agrees(f"BatchNorm{nd}d", (features,), kwargs, norm_input(draw, (1, 6), features))


@pytest.mark.parametrize("nd", [1, 2, 3])
@EXAMPLES
@given(data=st.data())
def test_instance_norm_matches_torch(nd, data):
    draw = data.draw
    features = draw(st.integers(1, 6))
    kwargs = {"affine": draw(st.booleans()), "track_running_stats": draw(st.booleans())}
    # Instance norm normalizes over the spatial sizes: give them more than one value.
    shape = input_shape(draw, nd, features, 5, tuple(draw(st.integers(2, 5)) for _ in range(nd)))
    agrees(f"InstanceNorm{nd}d", (features,), kwargs, shape)


@EXAMPLES
@given(data=st.data())
def test_group_norm_matches_torch(data):
    draw = data.draw
    groups = draw(st.integers(1, 4))
    channels = groups * draw(st.integers(1, 3))
    agrees("GroupNorm", (groups, channels), {"affine": draw(st.booleans())}, norm_input(draw, (1, 5), channels))


@EXAMPLES
@given(data=st.data())
def test_layer_norm_matches_torch(data):
    draw = data.draw
    shape = tuple(draw(st.integers(1, 5)) for _ in range(draw(st.integers(1, 4))))
    count = draw(st.integers(1, 3))
    normalized = list(shape[-count:]) if count <= len(shape) else [draw(st.integers(1, 5)) for _ in range(count)]
    if draw(st.integers(0, 4)) == 0:
        normalized[draw(st.integers(0, len(normalized) - 1))] = draw(st.integers(1, 5))
    normalized_shape = normalized[0] if len(normalized) == 1 and draw(st.booleans()) else tuple(normalized)
    agrees("LayerNorm", (normalized_shape,), {"elementwise_affine": draw(st.booleans())}, shape)


@EXAMPLES
@given(data=st.data())
def test_embedding_matches_torch(data):
    draw = data.draw
    shape = tuple(draw(st.integers(1, 5)) for _ in range(draw(st.integers(0, 3))))
    args = (draw(st.integers(1, 20)), draw(st.integers(1, 16)))
    agrees("Embedding", args, {}, shape, dtype=torch.long)


# ---- 2b. the formulas alone, against torch's functional ops -----------------------------------------


@EXAMPLES
@given(size=st.integers(1, 60), kernel=st.integers(1, 7), stride=st.integers(1, 4), padding=st.integers(0, 3),
       dilation=st.integers(1, 3), ceil_mode=st.booleans())
def test_pool_formula_matches_torch(size, kernel, stride, padding, dilation, ceil_mode):
    padding = min(padding, kernel // 2)
    x = torch.zeros((1, 1, size), device="meta")
    try:
        expected = torch.nn.functional.max_pool1d(x, kernel, stride, padding, dilation, ceil_mode).shape[-1]
    except RuntimeError:
        expected = None
    got = formulas.pool(size, kernel, stride, padding, dilation, ceil_mode)
    assert (got if got >= 1 else None) == expected


# ---- 3. monotonicity ---------------------------------------------------------------------------------


def formula(draw):
    """One of the size formulas with random parameters, as a function of the size."""
    kind = draw(st.sampled_from(["conv", "conv_transpose", "pool", "avg_pool3d"]))
    k, s, d = draw(st.integers(1, 7)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    p = draw(st.integers(0, 3))
    if kind == "conv":
        return partial(formulas.conv, kernel=k, stride=s, padding=p, dilation=d)
    if kind == "conv_transpose":
        op = draw(st.integers(0, max(s, d) - 1))
        return partial(formulas.conv_transpose, kernel=k, stride=s, padding=p, dilation=d, output_padding=op)
    if kind == "avg_pool3d":
        return partial(formulas.avg_pool3d, kernel=k, stride=s, padding=min(p, k // 2), ceil_mode=draw(st.booleans()))
    return partial(formulas.pool, kernel=k, stride=s, padding=min(p, k // 2), dilation=d, ceil_mode=draw(st.booleans()))


@EXAMPLES
@given(data=st.data())
def test_formulas_are_monotone(data):
    fn = formula(data.draw)
    values = [fn(size) for size in range(1, 400)]
    assert all(a <= b for a, b in zip(values, values[1:])), fn


@EXAMPLES
@given(size=st.integers(1, 10**6), factor=st.sampled_from([0.1, 0.25, 1 / 3, 0.5, 1.5, 1.7, 2, 3.3]),
       before=st.integers(-3, 5), after=st.integers(-3, 5), r=st.integers(1, 4))
def test_other_formulas_are_monotone(size, factor, before, after, r):
    assert formulas.scale(size, factor) <= formulas.scale(size + 1, factor)
    assert formulas.pad(size, before, after) <= formulas.pad(size + 1, before, after)
    assert formulas.multiply_by(size, r) <= formulas.multiply_by(size + 1, r)


# ---- 4. can_equal against brute force ----------------------------------------------------------------

BRUTE = range(1, 301)


def chain_values(fns: list) -> set:
    """Every value the chain gives for sizes 1..300 where no layer on the way gets below 1."""
    values = set()
    for size in BRUTE:
        value = size
        for fn in fns:
            value = fn(value)
            if value < 1:
                break
        else:
            values.add(value)
    return values


def symbolic(name: str, fns: list):
    dim = dims.symbol(name)
    for fn in fns:
        dim = dims.apply_formula(dim, fn, "layer")
    return dim


@EXAMPLES
@given(data=st.data())
def test_can_equal_finds_what_brute_force_finds(data):
    draw = data.draw
    h_fns = [formula(draw) for _ in range(draw(st.integers(1, 3)))]
    w_fns = [formula(draw) for _ in range(draw(st.integers(0, 2)))]
    coef = draw(st.integers(1, 64))
    dim = dims.multiply(dims.multiply(symbolic("H", h_fns), symbolic("W", w_fns)), coef)
    h_values, w_values = chain_values(h_fns), chain_values(w_fns)
    if draw(st.booleans()) and h_values and w_values:
        target = coef * draw(st.sampled_from(sorted(h_values))) * draw(st.sampled_from(sorted(w_values)))
    else:
        target = draw(st.integers(1, 200_000))
    found = any(target % (coef * h) == 0 and target // (coef * h) in w_values for h in h_values)
    verdict = dims.can_equal(dim, target)
    if found:
        assert verdict is not False, f"{dim} can equal {target} for some H, W in 1..300"
