"""One registration per op (shapes/layers.py), and the typed problems and findings that flow from it.

The functional spellings are checked against torch's own signatures: a wrong positional order fails here.
"""

import ast
import dataclasses
import inspect
import json

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch._jit_internal import boolean_dispatched  # noqa: E402

from conftest import FIXTURES, cli, locate  # noqa: E402

from torchshape_lint.checks.analyze import analyze_source  # noqa: E402
from torchshape_lint.checks.derivation import summary  # noqa: E402
from torchshape_lint.checks.finding import Finding, TraceLine, Verdict  # noqa: E402
from torchshape_lint.checks.rules import all_rules, rule_for  # noqa: E402
from torchshape_lint.frontends import fix  # noqa: E402
from torchshape_lint.shapes import layers, violations  # noqa: E402
from torchshape_lint.shapes.layer_spec import Layer  # noqa: E402
from torchshape_lint.shapes.tensor import concrete_input  # noqa: E402
from torchshape_lint.shapes.violations import Collector, Problem, Suggestion  # noqa: E402


def torch_parameters(function) -> tuple:
    """The parameter names of a torch.nn.functional function in positional order: from its signature; for one that
    dispatches on a flag (max_pool2d on return_indices), from the variant it dispatches to; for a builtin, from the
    signature its docstring opens with, as PyTorch documents it."""
    if function in boolean_dispatched:
        function = boolean_dispatched[function]["if_false"]
    try:
        return tuple(inspect.signature(function).parameters)
    except ValueError:  # a builtin without a text signature
        first = function.__doc__.strip().splitlines()[0]
        arguments = first[first.index("(") + 1:first.rindex(")")]
        return tuple(arg.arg for arg in ast.parse(f"def f({arguments}): pass").body[0].args.args)


SPELLINGS = sorted(layers.FUNCTIONAL.items())


@pytest.mark.parametrize("name, registered", SPELLINGS, ids=[name for name, _ in SPELLINGS])
def test_functional_spelling_has_torchs_positional_order(name, registered):
    spec, params = registered
    assert torch_parameters(getattr(F, name)) == ("input", *params)
    # the parameters the layer takes are its own: F.x's arguments bind to the layer's signature by name
    assert {p for p in params if p in dict(spec.params)} <= {p for p, _ in spec.params}


def test_a_functional_spelling_builds_its_layer_with_arguments_in_that_order():
    # max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode): ceil_mode=True passed positionally
    text = ("import torch\nimport torch.nn.functional as F\nx = torch.zeros(1, 3, 7, 7)\n"
            "y = F.max_pool2d(x, 2, 2, 0, 1, True)\n")
    [build] = analyze_source(text, "t.py").builds
    expected = tuple(F.max_pool2d(torch.zeros(1, 3, 7, 7), 2, 2, 0, 1, True).shape)
    assert [step.after for step in build.steps if step.label == "MaxPool2d"] == [expected]


def test_every_functional_spelling_names_a_registered_layer_once():
    names = [name for spec in layers.LAYERS.values() for name, _ in spec.functional]
    assert len(names) == len(set(names)) and all(hasattr(F, name) for name in names)


SAME_SHAPE = sorted((name, spec.name) for spec in layers.LAYERS.values() for name in spec.same_shape_spellings)
ARGUMENTS = {"local_response_norm": (2,)}  # its size has no default


@pytest.mark.parametrize("name, layer", SAME_SHAPE, ids=[name for name, _ in SAME_SHAPE])
def test_same_shape_spelling_keeps_the_shape_in_torch(name, layer):
    x = torch.zeros(2, 3, 5, 4)
    function = getattr(F, name, None) or getattr(torch, name, None)
    out = function(x, *ARGUMENTS.get(name, ())) if function is not None else getattr(x, name)()
    assert tuple(out.shape) == tuple(x.shape)
    assert tuple(getattr(torch.nn, layer)(*ARGUMENTS.get(name, ()))(x).shape) == tuple(x.shape)


def test_a_same_shape_spelling_passes_the_tensor_through_without_a_step():
    text = ("import torch\nimport torch.nn.functional as F\nx = torch.zeros(1, 3, 8, 8)\n"
            "y = torch.nn.Linear(5, 2)(F.leaky_relu_(x.sigmoid_()).flatten(1))\n")
    [finding] = analyze_source(text, "t.py").findings
    assert finding.code == "TSL001" and "192 features arrive" in finding.message
    assert [line.label for line in finding.trace] == ["flatten"]


def test_derivation_chain_shows_the_registered_spatial_steps_only():
    x = concrete_input((1, 3, 8, 8), "option")
    check = Collector()
    pool = Layer(layers.spec_for("MaxPool2d"), {"kernel_size": 2, "stride": None, "padding": 0, "dilation": 1,
                                                "return_indices": False, "ceil_mode": False})
    relu = Layer(layers.spec_for("ReLU"), {})
    out = relu(pool(relu(x, check), check), check)
    assert summary(out) == "input (1, 3, 8, 8); 8x8 → 4x4 through 1 MaxPool2d; then (1, 3, 4, 4)"
    assert layers.spatial_step("pad") and not layers.spatial_step("view") and not layers.spatial_step("ReLU")


def test_confirm_matches_interpolate_with_upsample():
    from torchshape_lint.confirm.driver import op_key

    assert op_key("F.interpolate") == op_key("Upsample") == op_key("upsample_nearest2d") == op_key(
        "UpsamplingBilinear2d")
    assert op_key("F.max_pool2d") == op_key("MaxPool2d") == op_key("_max_pool2d")
    assert op_key("AvgPool2d") != op_key("MaxPool2d")


# ---- typed problems ----------------------------------------------------------------------------------------


def kinds_of(cls) -> list:
    found = [cls] if cls.kind else []
    for sub in cls.__subclasses__():
        found.extend(kinds_of(sub))
    return found


def test_every_kind_of_problem_has_its_rule_and_every_rule_its_problem():
    problems = kinds_of(Problem)
    assert sorted(p.kind for p in problems) == sorted(all_rules())
    assert all(rule_for(p).name == p.kind for p in problems)


def test_a_misspelt_kind_is_an_error_not_a_silently_dropped_finding():
    @dataclasses.dataclass
    class Misspelt(violations.Violation):
        kind = "chanel-mismatch"

    with pytest.raises(KeyError):
        rule_for(Misspelt(None, "Conv2d"))


def test_suggestion_is_a_value():
    assert (Suggestion((16, 4, 4)).value, str(Suggestion((16, 4, 4)))) == (256, "16 * 4 * 4")
    assert str(Suggestion((32,), name="planes")) == "planes"


# ---- typed findings ----------------------------------------------------------------------------------------


def a_finding(**changes) -> Finding:
    finding = Finding("TSL001", "linear-in-features", "m.py", 9, 4, 9, 30, "Linear(in_features=400) but 256 arrive",
                      Suggestion((16, 4, 4)), [TraceLine("Conv2d", "(1, 1, 28, 28)", "(1, 6, 24, 24)", "28 - 5 + 1")],
                      ["a()", "b()"], "usage")
    return dataclasses.replace(finding, **changes)


def test_a_finding_renders_its_verdict_and_builds_in_every_format():
    finding = a_finding(verdicts=[Verdict("confirmed", "cpu", ("a()",)), Verdict("not reproduced", "cpu", ("b()",))])
    assert finding.text == ("TSL001 Linear(in_features=400) but 256 arrive [confirmed on cpu in a(); not reproduced on "
                            "cpu in b()] [in 2 builds]")
    shown = finding.as_dict()
    assert (shown["message"], shown["suggestion"], shown["model"], shown["builds"]) == (
        finding.text, "16 * 4 * 4", "a(), b()", 2)
    assert shown["trace"] == ["Conv2d: (1, 1, 28, 28) → (1, 6, 24, 24)  [28 - 5 + 1]"]


def test_a_finding_survives_the_result_cache():
    finding = a_finding(verdicts=[Verdict("not confirmed", "meta", why="PyTorch stopped before it (line 3)")],
                        suggestion=Suggestion((32,), others=(16, 64)))
    assert Finding.restored(json.loads(json.dumps(finding.stored()))) == finding


def test_fix_takes_the_suggestions_value(tmp_path):
    # LeNet on MNIST: 16 * 4 * 4 = 256 features reach the Linear; --fix writes the suggestion as the user would
    text = (FIXTURES / "lenet_mnist.py").read_text()
    report = analyze_source(text, "lenet_mnist.py")
    [finding] = report.findings
    assert finding.suggestion.factors == (16, 4, 4)
    [edit] = fix.fix_edits(text, report)
    assert (edit.before, edit.replacement) == ("16 * 5 * 5", "16 * 4 * 4")
    wrong = dataclasses.replace(finding, suggestion=Suggestion((16, 5, 4)))  # a value no run gets: no edit
    assert fix.fix_edits(text, report, [wrong]) == []


def test_json_output_keeps_its_keys():
    [item] = json.loads(cli("--no-cache", "--format", "json", "fixtures/lenet_mnist.py").stdout)
    line, _ = locate(FIXTURES / "lenet_mnist.py", "nn.Linear(16 * 5 * 5, 120)")
    assert list(item) == ["code", "name", "path", "line", "column", "end_line", "end_column", "message", "suggestion",
                          "trace", "model", "origin", "builds", "cell", "layer_at", "input_from"]
    assert (item["line"], item["builds"], item["suggestion"]) == (line, 1, "16 * 4 * 4")


def test_confirms_verdict_is_rendered_by_the_json_and_sarif_formats():
    line, col = locate(FIXTURES / "lenet_mnist.py", "nn.Linear(16 * 5 * 5")
    shown = cli("--no-cache", "--confirm", "--device", "meta", "--format", "json", "fixtures/lenet_mnist.py")
    [item] = json.loads(shown.stdout)
    assert (item["line"], item["column"]) == (line, col) and item["message"].endswith("[confirmed on meta]"), shown
    sarif = cli("--no-cache", "--confirm", "--device", "meta", "--format", "sarif", "fixtures/lenet_mnist.py")
    [result] = json.loads(sarif.stdout)["runs"][0]["results"]
    assert result["message"]["text"] == item["message"]


def test_formulas_worked_out_per_arguments_tell_true_from_one_and_take_lists_each_time():
    from torchshape_lint.shapes.layer_spec import per_arguments

    calls = []

    @per_arguments
    def made(*arguments):
        calls.append(arguments)
        return len(calls)

    assert made(3, (1, 1)) == made(3, (1, 1)) == 1
    assert made(True, (1, 1)) == 2 and made(3, (True, 1)) == 3 and made(3.0, (1, 1)) == 4  # equal, not the same
    assert made([3], (1, 1)) == 5 and made([3], (1, 1)) == 6  # a list: no key, worked out each time


def test_layers_built_alike_at_two_calls_each_report_their_own_arguments_problem(tmp_path):
    """make_layer works out a constructor's bound arguments and their problems once per plain arguments: two calls
    with the same ones are still two problems, each at its own call, as torch raises at each."""
    from conftest import lint, locate

    path = tmp_path / "twice.py"
    path.write_text("import torch.nn as nn\n\n\ndef stem():\n    return nn.Conv2d(6, 8, 3, groups=4)\n\n\n"
                    "def head():\n    return nn.Conv2d(6, 8, 3, groups=4)\n")
    result = lint("cli", str(path))
    lines = [line.split(": ")[0] for line in result.stdout.splitlines()]
    first, second = locate(path, "nn.Conv2d"), locate(path, "nn.Conv2d", 1)
    assert lines == [f"{path}:{first[0]}:{first[1]}", f"{path}:{second[0]}:{second[1]}"], result.stdout
    assert all("TSL006" in line and "in_channels=6 is not divisible by groups=4" in line
               for line in result.stdout.splitlines()), result.stdout
