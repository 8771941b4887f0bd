"""Whole models, through the whole pipeline, against PyTorch itself.

Random models — Conv/ConvTranspose/Max/Avg/adaptive pools/BatchNorm/activations/Dropout/Flatten/Linear in 1-D,
2-D and 3-D, with random kernel, stride, padding, dilation, ceil_mode and groups, on random inputs — are grown
layer by layer with torch choosing sizes that fit, with at most one deliberate mistake
(a wrong declared size, a flatten before a conv, groups that do not divide, pool padding over half the kernel,
a wrong `view`). Each is written out as Python source in one of the spellings users write:

* a module-level `nn.Sequential` under a `# torchshape: input=(...)` pragma;
* an `nn.Module` class (layers as attributes, `forward()` applying them in order, with functional calls,
  `torch.flatten`, `x.view(x.size(0), -1)`, ...), used at module level as `Net()(torch.zeros(...))`; its
  `forward()` may also merge branches (`merge_block`), run an RNN/GRU/LSTM given an initial state
  (`recurrent_block`), and multiply by a weight of its own (`x @= w`, `product_block`), and its convs may be
  wrapped in `weight_norm` / `spectral_norm`;
* a cfg list and a builder function in torchvision's VGG style.

The source is analysed statically (`analyze_source`) and run in PyTorch (`exec`, on small CPU tensors: see DEVICE), recording for each
layer — keyed by the source position of its constructor call, or of the functional call — the shapes it read
and gave, and where torch raised (for a layer, also the call that applied it: a state is wrong there). Required
(`disagreements`):

1. every static shape equals torch's, dimension by dimension wherever the static dimension is a number;
2. every finding is a real error: torch raises at that position, or never gets through it; a `view(-1, k)`
   that re-batches silently counts (see TSL005). A layer that makes an empty tensor counts as raising there
   (a ConvTranspose whose output size is 0 returns one on the CPU; on the meta device it raises; the analysis
   reports it as TSL003);
3. where the static shapes reaching the failing layer are all known, torch's error is found there statically;
4. no TSL900 (internal error), ever.

The long run (tens of thousands of models, with counts for the README) is `scripts/differential_long.py`,
which drives the same generator from `random.Random`.
"""

from __future__ import annotations

import math
import sys
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402
from torch.overrides import TorchFunctionMode  # noqa: E402

from torchshape_lint.checks.analyze import analyze_source  # noqa: E402

# The oracle runs on the CPU, on small tensors: the meta device skips some of torch's checks (a ConvTranspose
# given the wrong number of channels, or making a size of 0, runs through on meta and raises on the CPU).
DEVICE = "cpu"
LARGEST = 1 << 18  # elements; ops that would make a larger tensor are not added



@contextmanager
def one_thread():
    """Tiny tensors: torch's thread pool only costs time here (tens of times slower on two busy cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


# ---- choosing: the same generator under hypothesis (shrinks) and under random.Random (the long run) ------------


class HypothesisChooser:
    def __init__(self, data: Any) -> None:
        self.data = data

    def int(self, lo: int, hi: int) -> int:
        return self.data.draw(st.integers(lo, hi))

    def pick(self, options: list) -> Any:
        return self.data.draw(st.sampled_from(options))

    def chance(self, p: float) -> bool:  # shrinks towards False: the simpler model
        return self.data.draw(st.integers(0, 99)) >= 100 - round(p * 100)


class RandomChooser:
    def __init__(self, rng: Any) -> None:
        self.rng = rng

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def pick(self, options: list) -> Any:
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


# ---- one generated model ----------------------------------------------------------------------------------


@dataclass
class Op:
    """A layer as a constructor (`nn.Conv2d(3, 8, 3)`), or a functional call on `x` (`F.relu({x})`)."""

    code: str
    module: bool = True


@dataclass
class Model:
    nd: int
    input: tuple
    ops: list = field(default_factory=list)
    mistake: str = ""  # the deliberate mistake, if any (for the counts)


def torch_namespace() -> dict:
    return {"torch": torch, "nn": nn, "F": torch.nn.functional}


@dataclass
class Block:
    """Statements of forward() that merge branches: `lines` use `{x}` for the tensor and `{m0}`, `{m1}`, ... for
    `layers` (constructors), which become attributes of the class."""

    layers: list
    lines: list
    kind: str = "merges"  # for the counts: merges (branches), states (a recurrent layer given one), products


def apply_op(op: Any, x: Any, namespace: dict) -> Any:
    if isinstance(op, Block):
        scope = {**namespace, "x": x, **{f"m{j}": eval(code, namespace) for j, code in enumerate(op.layers)}}
        names = {f"m{j}": f"m{j}" for j in range(len(op.layers))}
        exec("\n".join(line.format(x="x", **names) for line in op.lines), scope)
        return scope["x"]
    if op.module:
        return eval(op.code, namespace)(x)
    return eval(op.code.format(x="x"), {**namespace, "x": x})


def merge_block(c: Any, nd: int, shape: tuple, wrong: Callable[[str], bool]) -> Block | None:
    """Two branches of the tensor merged, as model code merges them: a residual add (maybe with a projection
    shortcut), a gate broadcast over the sizes (squeeze-and-excitation), a U-Net skip joined by torch.cat after a
    down- and an upsampling, a strided slice added to a strided layer, the channels split (chunk, split, slices,
    narrow) and merged again. With the planted mistake, a stride, a channel count or a padding in one branch is off;
    torch says whether the merge then fails (an odd size may also make a U-Net skip fail, a 1 broadcast)."""
    d = f"{nd}d"
    channels = shape[1]
    mistake = wrong("merge")
    kind = c.pick(["residual", "residual", "gate", "skip", "strided", "split", "split"])
    if kind == "residual":
        k = c.pick([1, 3, 5])
        off = c.pick(["stride", "channels"]) if mistake else ""
        stride = 2 if off == "stride" else c.pick([1, 1, 2])
        out = max(1, channels + c.pick([-1, 1, channels])) if off == "channels" else c.pick([channels, 2 * channels])
        layers = [f"nn.Conv{d}({channels}, {out}, kernel_size={k}, stride={stride}, padding={k // 2})"]
        if stride == 1 and out == channels and not off or off == "stride" and c.chance(0.5):
            spelled = c.pick([["{x} = {m0}({x}) + {x}"], ["out = {m0}({x})", "out += {x}", "{x} = out"],
                              ["{x} = torch.add({m0}({x}), {x})"], ["{x} = F.relu({x} + {m0}({x}))"],
                              ["{x} = {x}.add({m0}({x}))"]])
            return Block(layers, spelled)
        shortcut_stride = stride if off != "stride" else 1
        shortcut_out = out if off != "channels" else channels
        layers.append(f"nn.Conv{d}({channels}, {shortcut_out}, kernel_size=1, stride={shortcut_stride})")
        return Block(layers, [c.pick(["{x} = {m0}({x}) + {m1}({x})", "{x} = torch.add({m0}({x}), {m1}({x}))"])])
    if kind == "gate":
        gate = channels if not mistake else c.pick([1, channels + 1, 2 * channels])
        layers = [f"nn.AdaptiveAvgPool{d}(1)", f"nn.Conv{d}({channels}, {gate}, kernel_size=1)"]
        return Block(layers, c.pick([["{x} = {x} * torch.sigmoid({m1}({m0}({x})))"],
                                     ["w = torch.sigmoid({m1}({m0}({x})))", "{x} = {x}.mul(w)"],
                                     ["{x} = torch.mul({x}, {m1}({m0}({x})).sigmoid())"]]))
    if kind == "skip":
        down = c.pick([f"nn.MaxPool{d}(2)", f"nn.AvgPool{d}(2)",
                       f"nn.Conv{d}({channels}, {channels}, kernel_size=3, stride=2, padding=1)"])
        up_kernel = 3 if mistake else 2
        up = c.pick([f"nn.ConvTranspose{d}({channels}, {c.int(1, 8)}, kernel_size={up_kernel}, stride=2)",
                     "nn.Upsample(scale_factor=2)"])
        join = c.pick(["torch.cat([{x}, skip], dim=1)", "torch.cat((skip, {x}), 1)", f"torch.cat([skip, {{x}}], {-nd - 1})"])
        if c.chance(0.3) and not mistake:
            return Block([down], ["skip = {x}", "{x} = F.interpolate({m0}({x}), scale_factor=2)", f"{{x}} = {join}"])
        return Block([down, up], ["skip = {x}", "{x} = {m1}({m0}({x}))", f"{{x}} = {join}"])
    if kind == "strided":
        every_other = "{x}[..., ::2]" if nd == 1 else "{x}[:, :, " + ", ".join(["::2"] * nd) + "]"
        layer = c.pick([f"nn.MaxPool{d}(kernel_size=1, stride=2)", f"nn.Conv{d}({channels}, {channels}, 1, stride=2)"])
        if mistake:
            layer = c.pick([f"nn.AvgPool{d}(2)", f"nn.Conv{d}({channels}, {channels}, 3, stride=2)"])
        return Block([layer], [f"{{x}} = {every_other} + {{m0}}({{x}})"])
    if channels < 2:
        return None
    cut = channels // 2 if c.chance(0.5) else c.int(1, channels - 1)
    split = c.pick([(["a, b = {x}.chunk(2, dim=1)"], (channels + 1) // 2),
                    (["a, b = torch.chunk({x}, 2, 1)"], (channels + 1) // 2),
                    ([f"a, b = torch.split({{x}}, [{cut}, {channels - cut}], dim=1)"], cut),
                    ([f"a, b = {{x}}[:, :{cut}], {{x}}[:, {cut}:]"], cut),
                    ([f"a, b = {{x}}[:, :-{channels - cut}], {{x}}[:, -{channels - cut}:]"], cut),
                    ([f"a = {{x}}.narrow(1, 0, {cut})", f"b = {{x}}[:, {cut}:]"], cut)])
    lines, first = split
    second = channels - first
    merge = c.pick(["add", "cat", "cat", "stack"])
    out = first if merge in ("add", "stack") else c.int(1, 8)
    padding = 1
    if mistake and merge in ("add", "stack") and c.chance(0.5):
        out = first + c.pick([-1, 1, first]) or 2
    elif mistake:
        padding = 0
    layers = [f"nn.Conv{d}({second}, {out}, kernel_size=3, padding={padding})"]
    joined = {"add": "{x} = a + {m0}(b)", "cat": c.pick(["{x} = torch.cat([a, {m0}(b)], dim=1)",
                                                          "{x} = torch.cat((a, {m0}(b)), 1)"]),
              "stack": "{x} = torch.stack([a, {m0}(b)], dim=1).sum(dim=1)"}[merge]
    return Block(layers, lines + [joined])


def recurrent_block(c: Any, shape: tuple, wrong: Callable[[str], bool]) -> Block:
    """An RNN, GRU or LSTM over the length of (N, C, L), given an initial state built as model code builds it,
    `torch.zeros(num_layers * directions, N, hidden)` (`(h0, c0)` for an LSTM), its output turned back to
    (N, directions * hidden, L), contiguous. With the planted mistake the state is off as users get it wrong: the
    directions left out of its first size, N read from the sequence-first tensor (its length), the hidden size off
    by one, or a 2-D state for a batched input; torch says whether it then fails (where sizes happen to agree, it
    runs)."""
    kind = c.pick(["LSTM", "GRU", "RNN"])
    hidden, stacked, both, batch_first = c.int(1, 8), c.pick([1, 1, 2]), c.chance(0.3), c.chance(0.5)
    directions = 2 if both else 1
    args = [str(shape[1]), str(hidden)] + ([f"num_layers={stacked}"] if stacked > 1 else []) \
        + (["batch_first=True"] if batch_first else []) + (["bidirectional=True"] if both else [])
    # contiguous again, as model code makes it before a view (torch's view refuses the strides of a transpose)
    to_sequence, back = ("{x}.transpose(1, 2)", "out.transpose(1, 2).contiguous()") if batch_first else \
        ("{x}.permute(2, 0, 1)", "out.permute(1, 2, 0).contiguous()")
    first, batch, width = str(stacked * directions), c.pick(["{x}.size(0)", "s.size(0)" if batch_first else
                                                             "s.size(1)", str(shape[0])]), str(hidden)
    rank3 = True
    if wrong("state"):
        off = c.pick(["directions", "batch", "hidden", "rank"])
        if off == "directions":
            first = str(stacked) if both else str(stacked + 1)
        elif off == "batch":
            batch = "s.size(1)" if batch_first else "s.size(0)"
        elif off == "hidden":
            width = str(hidden + 1)
        else:
            rank3 = False
    size = ", ".join([first, batch, width] if rank3 else [first, width])
    lines = [f"s = {to_sequence}", f"h0 = torch.zeros({size})"]
    if kind == "LSTM":
        lines += [f"c0 = torch.zeros({size})", "out, (h, c) = {m0}(s, (h0, c0))"]
    else:
        lines += ["out, h = {m0}(s, h0)"]
    return Block([f"nn.{kind}({', '.join(args)})"], lines + [f"{{x}} = {back}"], "states")


def product_block(c: Any, features: int, wrong: Callable[[str], bool]) -> Block:
    """(N, F) times a weight the model holds, `nn.Parameter(torch.randn(F, k))`, as `x @= w`, `x = x @ w` or
    `torch.matmul(x, w)`; with the planted mistake its F is off."""
    rows = features if not wrong("features") else max(1, features + c.pick([-1, 1, features]))
    spelled = c.pick(["{x} @= {m0}", "{x} = {x} @ {m0}", "{x} = torch.matmul({x}, {m0})"])
    return Block([f"nn.Parameter(torch.randn({rows}, {c.int(1, 16)}))"], [spelled], "products")


def spatial_ops(c: Any, nd: int, channels: int, sizes: tuple, functional: bool, wrong: Callable[[str], bool]) -> Op:
    """One random layer that reads (N, C, *sizes). `wrong(kind)` says whether to plant that mistake here."""
    d = f"{nd}d"
    kinds = ["conv", "conv", "convT", "maxpool", "avgpool", "adaptive", "bn", "act", "dropout"]
    kind = c.pick(kinds)

    def n(value_lo: int, value_hi: int) -> str:  # an int, or now and then a per-dimension tuple
        if nd > 1 and c.chance(0.2):
            return "(" + ", ".join(str(c.int(value_lo, value_hi)) for _ in range(nd)) + ")"
        return str(c.int(value_lo, value_hi))

    def declared(true: int, mistake: str) -> int:
        if wrong(mistake):
            return max(1, true + c.pick([-2, -1, 1, 2, true]))  # never the true value: see the +true case
        return true

    if kind in ("conv", "convT"):
        groups = c.pick([1, 1, 1, g]) if (g := math.gcd(channels, 4)) > 1 else 1
        out = groups * c.int(1, 4)
        if wrong("groups") and channels > 1:
            groups = next((k for k in (2, 3, 4, 5) if channels % k), 1)
        cin = declared(channels, "channels")
        args = [str(cin), str(out), f"kernel_size={n(1, 5)}"]
        if kind == "conv":
            padding_same = c.chance(0.15)
            if not padding_same and c.chance(0.5):
                args.append(f"stride={n(1, 3)}")
            if padding_same:
                args.append(c.pick(["padding='same'", "padding='valid'"]))
            elif c.chance(0.6):
                args.append(f"padding={n(0, 3)}")
            if c.chance(0.3):
                args.append(f"dilation={n(1, 3)}")
            if groups > 1:
                args.append(f"groups={groups}")
            conv = f"nn.Conv{d}({', '.join(args)})"
            if functional and c.chance(0.15):  # a reparametrized weight keeps the layer's shapes
                conv = c.pick(["nn.utils.parametrizations.weight_norm({})", "nn.utils.spectral_norm({})",
                               "nn.utils.parametrizations.spectral_norm({})"]).format(conv)
            return Op(conv)
        stride, dilation = c.int(1, 3), c.int(1, 2)
        args += [f"stride={stride}", f"padding={c.int(0, 2)}"]
        if c.chance(0.4):
            args.append(f"output_padding={c.int(0, max(stride, dilation) - 1)}")
        if groups > 1:
            args.append(f"groups={groups}")
        if dilation > 1:
            args.append(f"dilation={dilation}")
        return Op(f"nn.ConvTranspose{d}({', '.join(args)})")
    if kind in ("maxpool", "avgpool"):
        k = c.int(1, 4)
        pad = c.int(0, k // 2) if not wrong("padding") else k // 2 + 1
        stride = c.pick([None, 1, 2, 3])
        ceil = c.chance(0.3)
        name = "max" if kind == "maxpool" else "avg"
        if functional and c.chance(0.5):
            args = ["{x}", str(k)] + ([f"stride={stride}"] if stride else []) + ([f"padding={pad}"] if pad else [])
            args += ["ceil_mode=True"] if ceil else []
            return Op(f"F.{name}_pool{d}({', '.join(args)})", module=False)
        args = [f"kernel_size={k}"] + ([f"stride={stride}"] if stride else []) + ([f"padding={pad}"] if pad else [])
        if kind == "maxpool" and c.chance(0.25):
            args.append(f"dilation={c.int(1, 2)}")
        args += ["ceil_mode=True"] if ceil else []
        return Op(f"nn.{name.capitalize()}Pool{d}({', '.join(args)})")
    if kind == "adaptive":
        if nd > 1 and c.chance(0.3):
            size = "(" + ", ".join(c.pick(["None", "1", "2", "3", "5"]) for _ in range(nd)) + ")"
        else:
            size = str(c.int(1, 6))
        which = c.pick(["Avg", "Max"])
        if functional and which == "Avg" and c.chance(0.5):
            return Op(f"F.adaptive_avg_pool{d}({{x}}, {size})", module=False)
        return Op(f"nn.Adaptive{which}Pool{d}({size})")
    if kind == "bn":
        return Op(f"nn.BatchNorm{d}({declared(channels, 'channels')})")
    if kind == "act":
        if functional and c.chance(0.5):
            return Op(c.pick(["F.relu({x})", "torch.relu({x})", "{x}.relu()", "F.gelu({x})"]), module=False)
        return Op(c.pick(["nn.ReLU()", "nn.ReLU(inplace=True)", "nn.LeakyReLU(0.1)", "nn.Tanh()", "nn.GELU()"]))
    return Op(c.pick(["nn.Dropout(0.5)", f"nn.Dropout{d}(0.1)" if nd > 1 else "nn.Dropout(0.1)"]))


def flatten_op(c: Any, functional: bool, shape: tuple, wrong: Callable[[str], bool]) -> Op:
    if not functional:
        return Op(c.pick(["nn.Flatten()", "nn.Flatten(1)", "nn.Flatten(start_dim=1)"]))
    per_sample = math.prod(shape[1:])
    if wrong("view"):
        return Op(f"{{x}}.view(-1, {per_sample + c.pick([-1, 1, per_sample])})", module=False)
    code = c.pick(["torch.flatten({x}, 1)", "{x}.view({x}.size(0), -1)", "{x}.flatten(1)",
                   "{x}.reshape({x}.size(0), -1)", f"{{x}}.view(-1, {per_sample})", "nn.Flatten()"])
    return Op(code, module=code.startswith("nn."))


class Stop(Exception):
    """The planted mistake is in: the model ends there."""


def grow(c: Any, functional: bool) -> Model:
    """A model grown with torch choosing what fits. At most one deliberate mistake, and the model ends with it;
    other ops torch rejects are dropped, so that a model holds at most one error."""
    nd = c.pick([1, 2, 3])
    limit = {1: 64, 2: 24, 3: 8}[nd]
    shape = (c.int(2, 3), c.int(1, 8)) + tuple(c.int(1, limit) for _ in range(nd))
    model = Model(nd, shape)
    plant = c.pick(["", "", "channels", "features", "groups", "padding", "view", "rank", "channels"]
                   + (["merge", "merge", "merge"] if functional else [])
                   + (["state"] * 3 if functional and nd == 1 else []))  # a recurrent block reads (N, C, L)
    planted: list = []

    def wrong(kind: str) -> bool:
        if kind == plant and not planted and c.chance(0.35):
            planted.append(kind)
            return True
        return False

    ns = torch_namespace()
    with torch.device(DEVICE):
        x = torch.zeros(shape)
        try:
            for _ in range(c.int(1, 6)):
                if functional and c.chance(0.3):  # forward() can merge branches; a Sequential cannot
                    before = len(planted)
                    block = recurrent_block(c, tuple(x.shape), wrong) if nd == 1 and c.chance(0.5) else \
                        merge_block(c, nd, tuple(x.shape), wrong)
                    y = attempt_planted(block, x, ns, model, len(planted) > before) if block is not None else None
                    x = y if y is not None else x
                    continue
                if wrong("rank"):
                    model.ops.append(Op("nn.Flatten()"))
                    x = torch.flatten(x, 1)
                    op = spatial_ops(c, nd, x.shape[1], (), functional, lambda kind: False)
                    x = attempt_planted(op, x, ns, model, True)
                    continue
                before = len(planted)
                op = spatial_ops(c, nd, x.shape[1], tuple(x.shape[2:]), functional, wrong)
                y = attempt_planted(op, x, ns, model, len(planted) > before)
                x = y if y is not None else x
            if c.chance(0.8):
                before = len(planted)
                op = flatten_op(c, functional, tuple(x.shape), wrong)
                x = attempt_planted(op, x, ns, model, len(planted) > before)
                if x is None:
                    raise Stop
            if x.dim() == 2 and functional and c.chance(0.2):  # a weight of the model's own, applied by a product
                before = len(planted)
                x = attempt_planted(product_block(c, x.shape[1], wrong), x, ns, model, len(planted) > before)
            if x.dim() == 2:
                for last in range(c.int(1, 2), 0, -1):
                    features = x.shape[1] if not wrong("features") else max(1, x.shape[1] + c.pick([-1, 1, 7]))
                    op = Op(f"nn.Linear({features}, {c.int(1, 16) if last > 1 else c.int(1, 10)})")
                    x = attempt_planted(op, x, ns, model, features != x.shape[1])
                    if last > 1:
                        model.ops.append(Op(c.pick(["nn.ReLU()", "nn.Dropout(0.5)"])))
        except Stop:
            pass
    model.mistake = planted[0] if planted else ""
    return model


def attempt_planted(op: Op, x: Any, ns: dict, model: Model, planted_here: bool) -> Any:
    """Apply `op`: keep it when it works; when torch rejects it, keep it and stop if it is the planted mistake,
    else drop it (its error is not the point of this model) and return None."""
    try:
        y = apply_op(op, x, ns)
    except Exception:
        if planted_here:
            model.ops.append(op)
            raise Stop from None
        return None
    if y.numel() > LARGEST or 0 in y.shape:
        return None
    model.ops.append(op)
    return y


# ---- spelling a model as source -------------------------------------------------------------------------


def shape_text(shape: tuple) -> str:
    return ", ".join(map(str, shape))


def as_sequential(model: Model, c: Any) -> tuple[str, str]:
    """A module-level nn.Sequential under a pragma. Returns (source, how torch runs it)."""
    lines = [HEAD, f"# torchshape: input=({shape_text(model.input)})", "model = nn.Sequential("]
    lines += [f"    {op.code}," for op in model.ops]
    lines.append(")")
    return "\n".join(lines) + "\n", f"model(torch.zeros({shape_text(model.input)}))"


def as_class(model: Model, c: Any) -> tuple[str, str]:
    """An nn.Module with forward(); used at module level (or under a pragma, run by the harness)."""
    init, forward = [], []
    for i, op in enumerate(model.ops):
        if isinstance(op, Block):
            names = {f"m{j}": f"self.layer{i}_{j}" for j in range(len(op.layers))}
            init += [f"        self.layer{i}_{j} = {code}" for j, code in enumerate(op.layers)]
            forward += [f"        {line.format(x='x', **names)}" for line in op.lines]
        elif op.module:
            init.append(f"        self.layer{i} = {op.code}")
            forward.append(f"        x = self.layer{i}(x)")
        else:
            forward.append(f"        x = {op.code.format(x='x')}")
    lines = [HEAD]
    usage = c.pick(["call", "variables", "pragma"])
    if usage == "pragma":
        lines.append(f"# torchshape: input=({shape_text(model.input)})")
    lines += ["class Net(nn.Module):", "    def __init__(self):", "        super().__init__()", *init,
              "", "    def forward(self, x):", *forward, "        return x", ""]
    if usage == "call":
        lines.append(f"out = Net()(torch.zeros({shape_text(model.input)}))")
        run = ""
    elif usage == "variables":
        lines += ["model = Net()", f"x = torch.zeros({shape_text(model.input)})", "y = model(x)"]
        run = ""
    else:
        run = f"Net()(torch.zeros({shape_text(model.input)}))"
    return "\n".join(lines) + "\n", run


def as_builder(c: Any) -> tuple[str, str, str]:
    """torchvision's VGG style: a cfg list, `make_layers(cfg, batch_norm)`, a class with a classifier."""
    nd = c.pick([1, 2, 2, 3])
    limit = {1: 96, 2: 40, 3: 12}[nd]
    shape = (c.int(2, 3), c.int(1, 4)) + tuple(c.int(1, limit) for _ in range(nd))
    cfg = [c.pick([4, 8, 8, 16, "M"]) for _ in range(c.int(1, 8))]
    k, p, s = c.int(1, 5), c.int(0, 2), c.pick([1, 1, 2])
    pk, ps, ceil = c.int(1, 3), c.pick([None, 1, 2]), c.chance(0.3)
    pool = f"nn.MaxPool{nd}d(kernel_size={pk}" + (f", stride={ps}" if ps else "") + (", ceil_mode=True" if ceil else "") + ")"
    batch_norm = c.chance(0.5)
    adaptive = c.pick([None, 1, 2, 3])
    head = [f"        self.avgpool = nn.AdaptiveAvgPool{nd}d({adaptive})"] if adaptive else []
    channels = next((v for v in reversed(cfg) if v != "M"), shape[1])
    flatten = c.pick(["x = torch.flatten(x, 1)", "x = x.view(x.size(0), -1)"])
    # in_features: the true count comes from torch below; the cfg may also simply not fit the input
    source_head = HEAD + f"""
cfg = {cfg!r}


def make_layers(cfg, in_channels={shape[1]}, batch_norm=False):
    layers = []
    for v in cfg:
        if v == "M":
            layers += [{pool}]
        else:
            conv = nn.Conv{nd}d(in_channels, v, kernel_size={k}, stride={s}, padding={p})
            if batch_norm:
                layers += [conv, nn.BatchNorm{nd}d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)

"""
    ns = torch_namespace()
    features = None
    with torch.device(DEVICE):
        try:
            exec(compile(source_head, "<builder>", "exec"), ns)
            x = ns["make_layers"](cfg, batch_norm=batch_norm)(torch.zeros(shape))
            if adaptive:
                x = getattr(torch.nn.functional, f"adaptive_avg_pool{nd}d")(x, adaptive)
            features = math.prod(x.shape[1:])
        except Exception:
            pass
    if features is None or c.chance(0.2):
        sizes = [str(channels)] + [str(c.int(1, 7))] * nd
        written = " * ".join(sizes)
    else:
        written = str(features)
    usage = c.pick(["call", "pragma"])
    source = source_head + f"""
class VGGish(nn.Module):
    def __init__(self, features, num_classes=10):
        super().__init__()
        self.features = features
{chr(10).join(head)}
        self.classifier = nn.Sequential(nn.Linear({written}, 32), nn.ReLU(True), nn.Linear(32, num_classes))

    def forward(self, x):
        x = self.features(x)
{"        x = self.avgpool(x)" if adaptive else ""}
        {flatten}
        return self.classifier(x)

"""
    if usage == "call":
        source += f"model = VGGish(make_layers(cfg, batch_norm={batch_norm}))\nmodel(torch.zeros({shape_text(shape)}))\n"
        return source, "", "builder/usage"
    source += f"""
# torchshape: input=({shape_text(shape)})
def vggish(batch_norm={batch_norm}):
    return VGGish(make_layers(cfg, batch_norm=batch_norm))
"""
    return source, f"vggish()(torch.zeros({shape_text(shape)}))", "builder/pragma"


# ---- running the source in torch, recording every layer by its source position ---------------------------


@dataclass
class Event:
    position: tuple  # (line, column) of the constructor call (modules) or of the call itself (functions)
    before: tuple | None
    after: tuple | None = None
    done: bool = False
    # (line, column, end line, end column): where calls start alike (`x[..., ::2] + y` and its `x[..., ::2]`,
    # `torch.stack(...).sum(1)` and its stack), the whole expression tells them apart
    span: tuple = ()
    call: tuple | None = None  # (line, column) of the call that applied a layer, where generated code called it


class EmptyOutput(Exception):
    """A layer that turns a non-empty tensor into an empty one: a shape error on every other backend."""


@dataclass
class TorchRun:
    events: list
    failure: tuple | None  # position where torch raised
    error: str = ""
    failure_call: tuple | None = None  # the call that applied the layer that raised (a state passed there)

    def failed_at(self, position: tuple) -> bool:
        return self.failure is not None and position in (self.failure, self.failure_call)


def _position(frame: Any, lasti: int | None = None) -> tuple:
    return _span(frame, lasti)[:2]


def _span(frame: Any, lasti: int | None = None) -> tuple:
    lasti = frame.f_lasti if lasti is None else lasti
    positions = list(frame.f_code.co_positions())
    line, end_line, column, end_column = positions[lasti // 2]
    return line, column, end_line, end_column


def _shape(value: Any) -> tuple | None:
    return tuple(value.shape) if isinstance(value, torch.Tensor) else None


def run_in_torch(source: str, filename: str, run: str) -> TorchRun:
    """Exec the source (and `run`, an expression for models the source does not call itself) on DEVICE."""
    built: dict = {}  # id(module) -> constructor position
    events: list = []
    open_events: list = []

    def generated_frame(frame: Any) -> Any:
        while frame is not None:
            if frame.f_code.co_filename == filename:
                return frame
            if "/torch/nn/modules/" in frame.f_code.co_filename or "/torch/nn/utils/" in frame.f_code.co_filename:
                return None  # inside a layer's forward (that layer is the event), or weight_norm computing a norm
            frame = frame.f_back
        return None

    original_init = nn.Module.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != filename:
            frame = frame.f_back
        if frame is not None:
            built[id(self)] = _span(frame)

    def layer(module: Any) -> bool:
        """A layer of its own: no children but the parametrizations of its weight (weight_norm's), and not one of
        those (built by torch where the generated code called weight_norm)."""
        return not type(module).__module__.startswith("torch.nn.utils.parametrizations") and all(
            name == "parametrizations" for name, _ in module.named_children())

    def caller() -> tuple | None:
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename.endswith("torch/nn/modules/module.py"):
            frame = frame.f_back
        return _position(frame) if frame is not None and frame.f_code.co_filename == filename else None

    def pre_hook(module: Any, args: tuple) -> None:
        if layer(module) and id(module) in built:
            event = Event(built[id(module)][:2], _shape(args[0]) if args else None, span=built[id(module)],
                          call=caller())
            events.append(event)
            open_events.append(event)

    def hook(module: Any, args: tuple, output: Any) -> None:
        if open_events and layer(module) and id(module) in built:
            event = open_events[-1]
            event.after = _shape(output)
            if event.after and 0 in event.after and event.before and 0 not in event.before:
                raise EmptyOutput(f"{type(module).__name__} made an empty tensor {event.after}")
            open_events.pop()
            event.done = True

    class Functions(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            frame = generated_frame(sys._getframe(1))
            if frame is None or not args or not isinstance(
                    args[0][0] if isinstance(args[0], (list, tuple)) and args[0] else args[0], torch.Tensor):
                return func(*args, **kwargs)
            first = args[0][0] if isinstance(args[0], (list, tuple)) and args[0] else args[0]  # torch.cat([a, b])
            event = Event(_position(frame), _shape(first), span=_span(frame))
            events.append(event)
            open_events.append(event)
            out = func(*args, **kwargs)
            open_events.pop()
            event.after, event.done = _shape(out), True
            return out

    handles = [torch.nn.modules.module.register_module_forward_pre_hook(pre_hook),
               torch.nn.modules.module.register_module_forward_hook(hook)]
    nn.Module.__init__ = init
    namespace: dict = {"__name__": "__generated__"}
    failure, error, failure_call = None, "", None
    try:
        with torch.device(DEVICE), Functions():
            exec(compile(source, filename, "exec"), namespace)
            if run:
                eval(compile(run, filename + "-run", "eval"), namespace)
    except Exception as exc:  # where it raised: the open layer, else the innermost generated frame
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if open_events:
            failure, failure_call = open_events[-1].position, open_events[-1].call
        else:
            tb, where = exc.__traceback__, None
            while tb is not None:
                if tb.tb_frame.f_code.co_filename == filename:
                    where = _position(tb.tb_frame, tb.tb_lasti)
                tb = tb.tb_next
            failure = where or (0, 0)
    finally:
        nn.Module.__init__ = original_init
        for handle in handles:
            handle.remove()
    return TorchRun(events, failure, error, failure_call)


# ---- comparing ------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    disagreements: list
    counts: Counter
    missed: str = ""  # where torch raised and what it said, when no finding is there (not a disagreement alone)


def compare(source: str, run: str = "", name: str = "<generated>") -> Outcome:
    """Analyse `source` statically and run it in torch; list every disagreement (empty: they agree)."""
    report = analyze_source(source, "generated.py")
    with one_thread():
        real = run_in_torch(source, name, run)
    problems: list = []
    counts: Counter = Counter()
    lines = source.splitlines()

    def where(position: tuple) -> str:
        line = lines[position[0] - 1].strip() if 0 < position[0] <= len(lines) else ""
        return f"{position[0]}:{position[1]} `{line}`"

    torch_at: dict = defaultdict(list)
    torch_spans: dict = defaultdict(list)
    for event in real.events:
        torch_at[event.position].append(event)
        torch_spans[event.span].append(event)

    static_at: dict = defaultdict(list)  # position -> [steps of one build], per build
    for build in report.builds:
        per: dict = defaultdict(list)
        for step in build.steps:
            per[(step.line, step.column, step.end_line, step.end_column)].append(step)
        for span, steps in per.items():
            position = span[:2]
            static_at[position].append((build, steps))
            happened = torch_spans.get(span, [])
            for step, event in zip(steps, happened):
                for side, static, actual in (("before", step.before, event.before), ("after", step.after, event.after)):
                    if static is None or actual is None or (side == "after" and not event.done):
                        continue
                    counts["shapes compared"] += 1
                    concrete = build.origin in ("pragma", "usage")
                    if len(static) != len(actual):
                        if concrete:
                            problems.append(f"{where(position)} {step.label} {side}: static {static}, torch {actual} "
                                            f"[{build.name}, {build.origin}]")
                        continue
                    for s, a in zip(static, actual):
                        if isinstance(s, int) and s != a:
                            problems.append(f"{where(position)} {step.label} {side}: static {static}, torch {actual} "
                                            f"[{build.name}, {build.origin}]")
                            break

    for finding in report.findings:
        position = (finding.line, finding.column)
        counts["findings"] += 1
        if finding.code == "TSL900":
            problems.append(f"internal error: {finding.message}")
            continue
        if real.failed_at(position):
            counts["findings confirmed"] += 1
            continue
        happened = torch_at.get(position, [])
        if finding.code == "TSL005" and any(e.done and e.before and e.after and e.before[0] != e.after[0]
                                            for e in happened):
            counts["findings confirmed (silent re-batch)"] += 1
            continue
        passed = sum(e.done for e in happened)
        needed = max((len(steps) for _, steps in static_at.get(position, [])), default=1)
        if real.failure is not None and passed < needed:
            counts["findings masked by an earlier torch error"] += 1
            continue
        problems.append(f"false finding at {where(position)}: {finding.text} — torch "
                        + (f"raised at {where(real.failure)}: {real.error}" if real.failure else "ran through"))

    if real.failure is not None:
        counts["torch errors"] += 1
        found = any(real.failed_at((f.line, f.column)) for f in report.findings)
        counts["torch errors found statically"] += found
        failing = [e for e in torch_at.get(real.failure, []) if not e.done]
        complete = failing and any(
            len(steps) >= len(torch_at[real.failure]) and build.origin in ("pragma", "usage")
            and steps[len(torch_at[real.failure]) - 1].before is not None
            and all(isinstance(d, int) for d in steps[len(torch_at[real.failure]) - 1].before)
            for build, steps in static_at.get(real.failure, []))
        if complete and not found:
            problems.append(f"missed: torch raised at {where(real.failure)}: {real.error}; static shapes known there, "
                            f"findings {[f.text for f in report.findings]}")
        counts["torch errors with complete static shapes"] += bool(complete)
        missed = "" if found else f"torch raised at {where(real.failure)}: {real.error}"
        return Outcome(problems, counts, missed)
    return Outcome(problems, counts)


def example(c: Any, spelling: str) -> tuple[str, str, str]:
    """(source, run, label) of one random model in the given spelling."""
    with one_thread():
        return _example(c, spelling)


def _example(c: Any, spelling: str) -> tuple[str, str, str]:
    if spelling == "builder":
        return as_builder(c)
    model = grow(c, functional=spelling == "class")
    if not model.ops:
        model.ops.append(Op("nn.Identity()"))
    render = as_sequential if spelling == "sequential" else as_class
    source, run = render(model, c)
    blocks = "".join(f"/{kind}" for kind in ("merges", "states", "products")
                     if any(isinstance(op, Block) and op.kind == kind for op in model.ops))
    return source, run, f"{spelling}/{model.nd}d/{model.mistake or 'none'}{blocks}"


SPELLINGS = ("sequential", "class", "builder")

EXAMPLES = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("spelling", SPELLINGS)
@EXAMPLES
@given(data=st.data())
def test_static_shapes_and_findings_agree_with_torch(spelling, data):
    source, run, label = example(HypothesisChooser(data), spelling)
    outcome = compare(source, run)
    assert not outcome.disagreements, "\n".join([label, *outcome.disagreements, "", source, run])


# ---- the harness itself must be able to fail ---------------------------------------------------------------


def test_harness_records_layers_by_constructor_position():
    source = HEAD + "model = nn.Sequential(\n    nn.Conv2d(3, 8, 3),\n    nn.Flatten(),\n    nn.Linear(7, 2),\n)\n"
    real = run_in_torch(source, "<t>", "model(torch.zeros(2, 3, 5, 5))")
    assert [(e.position, e.before, e.after) for e in real.events] == [
        ((5, 4), (2, 3, 5, 5), (2, 8, 3, 3)), ((6, 4), (2, 8, 3, 3), (2, 72)), ((7, 4), (2, 72), None)]
    assert real.failure == (7, 4)


def test_harness_catches_a_wrong_static_shape(monkeypatch):
    from torchshape_lint.shapes import formulas

    monkeypatch.setattr(formulas, "conv", lambda size, kernel, stride, padding, dilation: size)
    source = HEAD + "# torchshape: input=(2, 3, 9, 9)\nmodel = nn.Sequential(\n    nn.Conv2d(3, 4, 3),\n    nn.ReLU(),\n)\n"
    outcome = compare(source, "model(torch.zeros(2, 3, 9, 9))")
    assert any("Conv2d after: static (2, 4, 9, 9), torch (2, 4, 7, 7)" in p for p in outcome.disagreements)


def test_harness_catches_a_false_finding():
    source = HEAD + "# torchshape: input=(2, 4, 8, 8)\nmodel = nn.Sequential(nn.Conv2d(4, 4, 3))\n"
    assert compare(source, "model(torch.zeros(2, 4, 8, 8))").disagreements == []
    lying = source.replace("input=(2, 4, 8, 8)", "input=(2, 3, 8, 8)")  # static: 3 channels arrive
    problems = compare(lying, "model(torch.zeros(2, 4, 8, 8))").disagreements
    # the conv reads the pragma's shape, not torch's (5:22 ... before), and reports what torch does not raise
    assert [p.split(":")[0] for p in problems] == ["5", "false finding at 5"], problems


def test_harness_catches_a_missed_error(monkeypatch):
    from torchshape_lint.shapes.violations import Collector

    source = HEAD + "model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(99, 2))\nmodel(torch.zeros(2, 3, 5, 5))\n"
    assert compare(source).disagreements == []
    monkeypatch.setattr(Collector, "report", lambda self, violation: None)
    problems = compare(source).disagreements
    column = source.splitlines()[3].index("nn.Linear")
    assert [p.split(" `")[0] for p in problems] == [f"missed: torch raised at 4:{column}"], problems


def test_harness_confirms_a_state_error_at_the_call_that_passes_the_state():
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, num_layers=2, batch_first=True)

    def forward(self, x):
        h0 = torch.zeros(1, x.size(0), 8)
        out, _ = self.lstm(x, (h0, h0))
        return out


Net()(torch.zeros(2, 5, 4))
"""
    outcome = compare(source)
    line = source.splitlines().index("        out, _ = self.lstm(x, (h0, h0))") + 1
    real = run_in_torch(source, "<generated>", "")
    assert real.failure == (line - 4, 20) and real.failure_call == (line, 17)  # the constructor, the call
    assert outcome.disagreements == [], outcome.disagreements
    assert outcome.counts["findings confirmed"] == outcome.counts["torch errors found statically"] == 1
