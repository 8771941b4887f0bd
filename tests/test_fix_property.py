"""Fix and rerun: one planted mistake gives exactly one finding, where torch raises; `--fix` makes the rerun clean
and the model run in torch. Over generated models (an nn.Sequential under a pragma, or an nn.Module class used on an
input, as tests/test_differential.py spells them) and over every buggy fixture.

A generated model is right as grown (torch computes its Linear's in_features), then gets one mistake: a Linear's
in_features, a conv's in_channels, a BatchNorm's num_features, a MaxPool removed, a conv's stride changed. Samples
that torch still runs are discarded: the mistake must be one.
"""

from __future__ import annotations

import math
import runpy

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("hypothesis")

import test_differential as differential  # noqa: E402
import test_user_models as user_models  # noqa: E402
from hypothesis import HealthCheck, Phase, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from torchshape_lint.checks.analyze import analyze_source  # noqa: E402
from torchshape_lint.frontends.fix import fixed_text  # noqa: E402

MISTAKES = ("in_features", "in_channels", "num_features", "pool removed", "stride changed")


def every_finding(findings, text):
    return findings


def grown(c) -> differential.Model | None:
    """A right model: conv blocks (conv, maybe BatchNorm, ReLU, maybe MaxPool), Flatten, two Linears; None where
    the input is too small for the blocks drawn."""
    nd = c.pick([1, 2])
    shape = (2, c.int(1, 4)) + tuple(c.int(12, 40) for _ in range(nd))
    codes, channels = [], shape[1]
    for _ in range(c.int(1, 3)):
        out = c.pick([4, 8, 16])
        codes.append(f"nn.Conv{nd}d({channels}, {out}, kernel_size=3, padding={c.pick([0, 1])})")
        if c.chance(0.6):
            codes.append(f"nn.BatchNorm{nd}d({out})")
        codes.append(c.pick(["nn.ReLU()", "nn.ReLU(inplace=True)"]))
        if c.chance(0.6):
            codes.append(f"nn.MaxPool{nd}d(2)")
        channels = out
    with torch.device("cpu"):
        x = torch.zeros(shape)
        try:
            for code in codes:
                x = eval(code, differential.torch_namespace())(x)
        except RuntimeError:
            return None
    parts = tuple(x.shape[1:])  # what a user multiplies out: 16 * 5 * 5
    written = " * ".join(map(str, parts)) if c.chance(0.5) else str(math.prod(parts))
    hidden = c.pick([16, 32])
    codes += ["nn.Flatten()", f"nn.Linear({written}, {hidden})", "nn.ReLU()", f"nn.Linear({hidden}, {c.int(2, 10)})"]
    return differential.Model(nd, shape, [differential.Op(code) for code in codes])


def planted(c, model: differential.Model | None, mistake: str) -> differential.Model | None:
    """The model with one mistake of the kind; None when the model has no layer for it."""
    if model is None:
        return None
    codes = [op.code for op in model.ops]

    def at(word):
        return [i for i, code in enumerate(codes) if word in code]

    def wrong(value: int) -> int:
        return max(1, value + c.pick([-1, 1, value]))

    if mistake == "in_features":
        i = c.pick(at("nn.Linear("))
        head, rest = codes[i].split("(", 1)
        written, tail = rest.split(", ", 1)
        codes[i] = f"{head}({wrong(eval(written))}, {tail}"
    elif mistake in ("in_channels", "num_features"):
        layers = at("nn.Conv") if mistake == "in_channels" else at("nn.BatchNorm")
        if not layers:
            return None
        i = c.pick(layers)
        head, rest = codes[i].split("(", 1)
        value, *tail = rest.split(", ", 1)
        value = value.rstrip(")")
        codes[i] = f"{head}({wrong(int(value))}" + (f", {tail[0]}" if tail else ")")
    elif mistake == "pool removed":
        pools = at("nn.MaxPool")
        if not pools:
            return None
        del codes[c.pick(pools)]
    else:
        i = c.pick(at("nn.Conv"))
        codes[i] = codes[i][:-1] + ", stride=2)"
    return differential.Model(model.nd, model.input, [differential.Op(code) for code in codes], mistake)


# Bounded: 10 kinds of samples, about a minute in all; no shrinking (slow on these models: a failure prints its model)
EXAMPLES = settings(max_examples=25, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("spelling", ["sequential", "class"])
@pytest.mark.parametrize("mistake", MISTAKES)
@EXAMPLES
@given(data=st.data())
def test_one_planted_mistake_one_finding_and_the_fix_runs(spelling, mistake, data):
    c = differential.HypothesisChooser(data)
    with differential.one_thread():
        model = planted(c, grown(c), mistake)
        assume(model is not None)
        render = differential.as_sequential if spelling == "sequential" else differential.as_class
        source, run = render(model, c)
        real = differential.run_in_torch(source, "<planted>", run)
        assume(real.failure is not None)  # torch runs it: the change was no mistake for this model
        findings = analyze_source(source, "generated.py").findings
        context = "\n".join([mistake, real.error, *[f.text for f in findings], "", source, run])
        assert [(f.line, f.column) for f in findings] == [real.failure], context
        if findings[0].code == "TSL003":  # a layer gets too small a size: no value to write, the layers must change
            return
        fixed, remaining, made = fixed_text(source, "generated.py", None, every_finding)
        assert (remaining, len(made) >= 1) == ([], True), context
        assert analyze_source(fixed, "generated.py").findings == [], context + "\n" + fixed
        rerun = differential.run_in_torch(fixed, "<fixed>", run)
        assert rerun.failure is None, context + "\n" + fixed + "\n" + rerun.error


# Buggy fixtures and the input their fix is proven on: their own (pragma or usage), else their build's from
# tests/test_user_models.py. TSL003 and TSL009 have no value to write (the input or the layers must change; which
# branch of a merge is wrong is not known).
NOT_FIXABLE = {"b05_pool_too_small.py", "b16_resnet_shortcut_stride.py", "b17_unet_skip_size.py",
               "b18_channel_split.py", "b19_two_streams_add.py"}


@pytest.mark.parametrize("name", sorted(set(user_models.EXPECTED) - NOT_FIXABLE))
def test_every_buggy_fixture_is_fixed_clean_and_runs(name, tmp_path):
    _, _, build = user_models.EXPECTED[name]
    input_shape = build[1] if build is not None else None
    text = (user_models.BUGGY / name).read_text()
    fixed, remaining, made = fixed_text(text, name, input_shape, every_finding)
    assert remaining == [] and made, [f.text for f in remaining]
    assert analyze_source(fixed, name, input_shape=input_shape).findings == []
    path = tmp_path / name
    path.write_text(fixed)
    with differential.one_thread():
        namespace = runpy.run_path(str(path), run_name="__main__")
        if build is not None:
            model_class, shape = build
            assert namespace[model_class]().eval()(torch.zeros(shape)).dim() >= 1


@pytest.mark.parametrize("name", sorted(NOT_FIXABLE))
def test_the_unfixable_fixtures_are_still_reported(name):
    code, _, build = user_models.EXPECTED[name]
    text = (user_models.BUGGY / name).read_text()
    _, remaining, made = fixed_text(text, name, build[1] if build is not None else None, every_finding)
    assert ([f.code for f in remaining], made) == ([code], [])
