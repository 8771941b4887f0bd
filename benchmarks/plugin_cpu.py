#!/usr/bin/env python3
"""The flake8 plugin's own CPU time on torchvision's installed models/, in-process: each file handed over as flake8
-j1 hands it (its lines and the `ast` tree flake8 parsed), the plugin's result cache off, a fresh project each pass.

    python benchmarks/plugin_cpu.py                  # CPU seconds of each pass; the first includes the imports
    python benchmarks/plugin_cpu.py --profile 30     # and the 30 functions that take the most time of their own

CPU time (`time.process_time`), not wall time: on a machine shared with other work it moves far less than the wall
times of benchmarks/run.py, so a change to the analysis can be measured here, and the budget's ratios there.
"""

from __future__ import annotations

import argparse
import ast
import cProfile
import importlib.util
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--profile", type=int, metavar="N", default=0, help="profile the last pass, show N functions")
    options = parser.parse_args()
    spec = importlib.util.find_spec("torchvision")  # found without importing torch
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("plugin_cpu: torchvision is not installed")
    start = time.process_time()
    from torchshape_lint.frontends.flake8_plugin import TorchShapePlugin

    loading = time.process_time() - start
    TorchShapePlugin.settings = type(TorchShapePlugin.settings)(no_cache=True)
    handed = []
    for path in sorted((Path(spec.submodule_search_locations[0]) / "models").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        handed.append((str(path), lines, ast.parse("".join(lines))))
    profile = cProfile.Profile()
    for number in range(1, options.passes + 1):
        TorchShapePlugin.project = None  # a new flake8 process: nothing read yet
        profiling = options.profile and number == options.passes
        start = time.process_time()
        if profiling:
            profile.enable()
        findings = sum(len(list(TorchShapePlugin(tree, path, lines).run())) for path, lines, tree in handed)
        if profiling:
            profile.disable()
        print(f"pass {number}: {time.process_time() - start:.3f} s CPU, {len(handed)} files, {findings} findings"
              f"{' (profiled)' if profiling else ''}")
    print(f"loading the plugin: {loading:.3f} s CPU")
    if options.profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(options.profile)


if __name__ == "__main__":
    main()
