"""A quick guard against gross speed regressions, by ratios far from the budget, never by absolute times.

The budget itself is measured by benchmarks/run.py (README, "Speed"); this reuses its way of running and timing.
"""

import importlib.util
import os
import re
import statistics
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location("speed_benchmark", ROOT / "benchmarks" / "run.py")
bench = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

PLAIN_SAMPLE = Path(sysconfig.get_paths()["stdlib"]) / "json"  # small, and no PyTorch in it
MAX_PLAIN_OVERHEAD = 2.0  # the budget is 1.05
MIN_STATIC_SPEEDUP = bench.STATIC_SPEEDUP / 3


def measured(argv, cwd, env=None):
    run = bench.run_once(argv, str(cwd), env)
    assert bench.failure(run) is None, bench.failure(run)
    return run.seconds


@pytest.mark.skipif(not bench.has_torch(), reason="needs torch and torchvision")
def test_static_vgg16_check_far_faster_than_running_the_model(tmp_path):
    cold_cache = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    static = measured([sys.executable, *bench.CLI, str(bench.VGG_FILE)], tmp_path, cold_cache)
    runtime = measured([sys.executable, "-c", bench.RUNTIME_CHECK], tmp_path)
    assert runtime / static >= MIN_STATIC_SPEEDUP, f"static {static:.2f} s, runtime {runtime:.2f} s"


def test_plugin_overhead_on_code_without_pytorch(tmp_path):
    try:
        plain, plugin = bench.plain_flake8(), bench.plugin_flake8()
    except (subprocess.CalledProcessError, OSError, RuntimeError) as error:
        pytest.skip(f"no flake8 virtualenvs with and without the plugin (pip needs the package index): {error}")
    assert "torchshape-lint" in bench.flake8_plugins(plugin)
    assert "torchshape-lint" not in bench.flake8_plugins(plain)
    with_plugin, without = [], []
    for _ in range(3):  # interleaved, so load changes touch both alike
        without.append(measured([*plain, "-j", "1", str(PLAIN_SAMPLE)], tmp_path))
        with_plugin.append(measured([*plugin, "-j", "1", str(PLAIN_SAMPLE)], tmp_path))
    ratio = statistics.median(with_plugin) / statistics.median(without)
    assert ratio <= MAX_PLAIN_OVERHEAD, f"with {with_plugin}, without {without}"


@pytest.mark.skipif(not bench.has_torch(), reason="needs torchvision's models")
@pytest.mark.parametrize("script", ["plugin_cpu.py", "forward_repeats.py"])
def test_the_in_process_benchmarks_run_the_plugin_without_an_internal_error(script):
    """They wrap the evaluator's internals: a change there must not leave them counting internal errors (TSL900,
    the plugin's answer to an exception) where torchvision's models have no finding."""
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *(["--passes", "1"] * (
        script == "plugin_cpu.py"))], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert re.search(r"(^|\s)0 findings", run.stdout), run.stdout
