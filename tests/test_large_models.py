"""Very large models are analysed to their finding, not skipped: a 10 000-layer Sequential written as one statement
(over 200 000 characters) and a 20 000-entry cfg through a make_layers loop. The files are the benchmark's own
(benchmarks/run.py times them); here only the findings are checked, never a time."""

import importlib.util
import sys

from conftest import ROOT, cli, flake8

spec = importlib.util.spec_from_file_location("speed_benchmark", ROOT / "benchmarks" / "run.py")
bench = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def line_of(text, needle):
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def test_ten_thousand_layer_sequential(tmp_path):
    text = bench.deep_sequential(10_000)
    assert text.count("    nn.") == 10_000 and len(text) > 200_000
    (tmp_path / "deep.py").write_text(text)
    result = flake8("deep.py", cwd=tmp_path)
    # conv 3x3, padding 1: floor((8 + 2*1 - 1*(3-1) - 1) / 1) + 1 = 8, every time; so 16 * 8 * 8 = 1024 features
    line = line_of(text, "nn.Linear(16 * 4 * 4, 10)")
    [finding] = result.stdout.splitlines()
    assert finding.startswith(f"deep.py:{line}:5: TSL001 Linear(in_features=256) but 1024 features arrive: "), finding
    assert finding.endswith("flattened 16*8*8 = 1024; use 16 * 8 * 8"), finding


def test_twenty_thousand_entry_cfg_through_make_layers(tmp_path):
    text = bench.long_cfg(20_000)
    (tmp_path / "long_cfg.py").write_text(text)
    result = flake8("long_cfg.py", cwd=tmp_path)
    # conv 3x3, padding 1: floor((32 + 2*1 - 1*(3-1) - 1) / 1) + 1 = 32, 19 999 times; MaxPool2d(2, 2):
    # floor((32 - 1*(2-1) - 1) / 2) + 1 = 16; so 8 * 16 * 16 = 2048 features, where 8 * 8 * 8 = 512 are declared
    [finding] = result.stdout.splitlines()
    line = line_of(text, "nn.Linear(8 * 8 * 8, 10)")
    column = text.splitlines()[line - 1].index("nn.Linear") + 1
    assert finding.startswith(f"long_cfg.py:{line}:{column}: TSL001 Linear(in_features=512) but 2048 features "
                              "arrive: input (1, 3, 32, 32); "), finding
    assert finding.endswith("flattened 8*16*16 = 2048; use 8 * 16 * 16"), finding


def test_a_loop_past_its_share_of_the_step_budget_is_named_with_its_bound_in_the_summary_and_verbose(tmp_path):
    # 30 000 entries take about 600 000 evaluation steps (20 000 take 400 000), past the 500 000 of one build: the
    # make_layers loop is stopped (what it builds is unknown) and the build goes on after it, to no finding
    text = bench.long_cfg(30_000)
    (tmp_path / "longer_cfg.py").write_text(text)
    result = cli("--no-cache", "--verbose", "longer_cfg.py", cwd=tmp_path)
    builder, loop = line_of(text, "def deep_vgg"), line_of(text, "for v in cfg:")
    stop = f"deep_vgg() (longer_cfg.py:{builder}): a loop stops at longer_cfg.py:{loop}: loop bound"
    assert result.returncode == 0, result.stdout
    assert f"longer_cfg.py:{builder}: deep_vgg(): a loop stops at longer_cfg.py:{loop}: loop bound, the evaluation " \
           "going on after it with what the loop writes unknown" in result.stdout.splitlines(), result.stdout
    assert result.stderr.splitlines()[-1] == (
        "1 build stopped at a bound of the analysis, so what it builds and runs past that point was not checked: "
        f"{stop}")


def test_a_trace_past_its_bound_keeps_the_input_step_and_the_latest_and_counts_the_rest():
    from torchshape_lint.shapes.tensor import MAX_TRACE, Tensor

    x = Tensor(shape=(1, 4))
    for number in range(MAX_TRACE + 10):
        x = x.then(f"step {number}", None, (1, 4 + number))
    labels = [step.label for step in x.trace]
    assert len(labels) == MAX_TRACE and x.steps_made == MAX_TRACE + 10 and x.dropped == 10
    assert labels[:2] == ["step 0", "step 11"] and labels[-1] == f"step {MAX_TRACE + 9}"
    assert x.trace[1].before == (1, 4 + 10) and x.last_step.after == (1, 4 + MAX_TRACE + 9)
