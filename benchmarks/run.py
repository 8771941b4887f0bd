#!/usr/bin/env python3
"""The speed benchmark: every figure of the speed budget, measured side by side in one run, as a Markdown table.

    python benchmarks/run.py                    # the fastest of 3 runs; about 5 minutes on 2 cores
    python benchmarks/run.py --repeat 5 --default-jobs --update-readme

Each command runs as its own process (process start counted), stdout and stderr to files, timed from start to exit;
its peak memory is the process's max RSS (os.wait4). Commands run interleaved (one round of every command, then
the next round), so a change in the machine's load touches all of them alike; each figure is the fastest of the
rounds (other work on a shared machine only ever adds time: the fastest run is the one closest to the command's own
cost, as timeit's documentation advises), and the median is shown beside it.
flake8 "without the plugin" is a virtualenv, made once under the user's cache folder, that holds the same flake8,
pyflakes, pycodestyle and mccabe versions as this environment and nothing else; flake8 "with the plugin" is a second
one like it, to which this checkout's torchshape-lint is added as a user installs it. The two then differ by the
plugin alone (this environment, with torch, the test tools and an editable install, starts flake8 slower). The
command line's rows run from that second virtualenv too, as installed; the runtime check runs in this environment,
the one with torch.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import importlib.util
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_BEGIN, README_END = "<!-- benchmark:begin -->", "<!-- benchmark:end -->"
VGG_FILE = ROOT / "fixtures" / "vgg.py"
# A fixed slice of the standard library, about as many lines as torchvision's models/, with no PyTorch code in it.
STDLIB_PACKAGES = ("asyncio", "concurrent", "email", "json")
# What a user does today to learn whether the shapes fit: build the model and run it.
RUNTIME_CHECK = "import torch, torchvision; torchvision.models.vgg16()(torch.zeros(1, 3, 224, 224))"
FLAKE8_DISTRIBUTIONS = ("flake8", "pyflakes", "pycodestyle", "mccabe")
CLI = ["-m", "torchshape_lint.frontends.cli"]  # after the interpreter
FLAKE8 = ["-m", "flake8", "--isolated"]  # after the interpreter; --isolated: no project config changes the work
# what a regular install of the checkout is made from (a copy of them: building in the checkout would leave build/ and
# an *.egg-info there, which registers the plugin with any flake8 started in it)
PACKAGE_FILES = ("setup.cfg", "pyproject.toml", "README.md", "torchshape_lint")

# The budget (issue 8). A ratio is the first command's fastest time over the second's.
PLUGIN_OVERHEAD_TORCH = 1.3  # flake8 with / without the plugin on torchvision's models/ (cold cache): at most
PLUGIN_OVERHEAD_WARM = 1.05  # the same with the plugin's result cache warm (unchanged files): at most
PLUGIN_OVERHEAD_PLAIN = 1.05  # the same on code without PyTorch: at most
STATIC_SPEEDUP = 30.0  # running VGG16 / the static check of a VGG16 file (bytecode caching on, and off): at least
CACHE_SPEEDUP = 10.0  # a cold CLI run / a warm-cache re-run of an unchanged tree: at least
LARGE_MODEL_SECONDS = 1.0  # the CLI on a 10 000-layer Sequential, or on a 20 000-entry cfg: at most (issue 12)
DEEP_LAYERS = 10_000
LONG_CFG = 20_000


def deep_sequential(layers: int) -> str:
    """A model file: one nn.Sequential statement of `layers` layers (over 200 000 characters for 10 000), conv
    blocks of Conv2d(16, 16, 3, padding=1), BatchNorm2d and ReLU on a (1, 16, 8, 8) input, then Flatten and a
    Linear that declares 16 * 4 * 4 features where 16 * 8 * 8 arrive."""
    block = ["nn.Conv2d(16, 16, kernel_size=3, padding=1)", "nn.BatchNorm2d(16)", "nn.ReLU(inplace=True)"]
    body = [block[i % 3] for i in range(layers - 2)] + ["nn.Flatten()", "nn.Linear(16 * 4 * 4, 10)"]
    rows = "".join(f"    {layer},\n" for layer in body)
    return f"import torch.nn as nn\n\n# torchshape: input=(1, 16, 8, 8)\nmodel = nn.Sequential(\n{rows})\n"


def long_cfg(entries: int) -> str:
    """A model file in torchvision's VGG style: a cfg of `entries` entries (8-channel 3x3 convs with padding 1, then
    one "M" pool) turned into layers by a make_layers loop, on a (1, 3, 32, 32) input. The pool halves 32 to 16, so
    8 * 16 * 16 features reach the classifier, which declares `nn.Linear(8 * 8 * 8, 10)`."""
    cfg = ", ".join(["8"] * (entries - 1) + ['"M"'])
    return f'''import torch
import torch.nn as nn

cfgs = {{"deep": [{cfg}]}}


def make_layers(cfg):
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.features = features
        self.classifier = nn.Linear(8 * 8 * 8, 10)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


# torchshape: input=(1, 3, 32, 32)
def deep_vgg():
    return VGG(make_layers(cfgs["deep"]))
'''


@dataclass(frozen=True)
class Tree:
    name: str
    paths: tuple
    files: int
    lines: int

    @classmethod
    def of(cls, name: str, paths: list) -> "Tree":
        files = [f for p in paths for f in python_files(p)]
        lines = sum(len(Path(f).read_bytes().splitlines()) for f in files)
        return cls(name, tuple(str(p) for p in paths), len(files), lines)


def python_files(folder: Path) -> list:
    """The files flake8 and the CLI check in a folder: *.py, hidden folders skipped."""
    folder = Path(folder)
    return sorted(str(p) for p in folder.rglob("*.py")
                  if not any(part.startswith(".") for part in p.relative_to(folder).parts))


def torchvision_models() -> Tree | None:
    """torchvision's installed models/ package, found without importing torch."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Tree.of("torchvision models/", [Path(spec.submodule_search_locations[0]) / "models"])


def stdlib_subset() -> Tree:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return Tree.of(f"stdlib {'+'.join(STDLIB_PACKAGES)}", [stdlib / name for name in STDLIB_PACKAGES])


def has_torch() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "torchvision"))


def plain_flake8(cache: Path | None = None) -> list:
    """flake8 from a virtualenv with this environment's flake8 (and its checkers, same versions) and no
    torchshape-lint; made once, then reused. `-E`: a PYTHONPATH pointing at a checkout (whose *.egg-info registers
    the plugin) must not reach it."""
    return [str(flake8_venv("", cache)), "-E", *FLAKE8]


def plugin_flake8(cache: Path | None = None) -> list:
    """flake8 from a virtualenv like plain_flake8's, made once per checkout, with torchshape-lint installed into it
    at every call from a copy of the checkout's files as they are now (uncommitted changes included): a regular
    install, as `pip install git+...` makes one, with no editable finder."""
    python = flake8_venv("-plugin-" + hashlib.sha256(str(ROOT).encode()).hexdigest()[:12], cache)
    with tempfile.TemporaryDirectory(prefix="torchshape-lint-copy-") as copy:
        for name in PACKAGE_FILES:
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, Path(copy) / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(ROOT / name, copy)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                        "--force-reinstall", copy], check=True, capture_output=True, text=True)
    return [str(python), "-E", *FLAKE8]


def flake8_venv(suffix: str, cache: Path | None) -> Path:
    """The python of a virtualenv holding this environment's flake8, pyflakes, pycodestyle and mccabe versions;
    made once under `cache` (named by them and `suffix`), then reused."""
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in FLAKE8_DISTRIBUTIONS]
    cache = cache or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "torchshape-lint-bench"
    venv = cache / ("py" + platform.python_version() + "-" + "-".join(pin.replace("==", "") for pin in pins) + suffix)
    python = venv / "bin" / "python"
    if not python.exists():
        cache.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix="venv-", dir=cache))
        # Built under a temporary name, then renamed into place: an interrupted build never leaves a half-made
        # venv, and a concurrent one just loses the race. Only bin/python is used, which a rename keeps working.
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, capture_output=True)
        subprocess.run([str(building / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        *pins], check=True, capture_output=True, text=True)
        try:
            building.rename(venv)
        except OSError:
            shutil.rmtree(building, ignore_errors=True)
        if not python.exists():
            raise RuntimeError(f"could not make {venv}")
    return python


def flake8_plugins(flake8: list) -> str:
    # From a neutral folder: `python -m` puts the current folder on sys.path, and a checkout's *.egg-info there
    # would register the plugin.
    return subprocess.run([*flake8, "--version"], capture_output=True, text=True, check=True,
                          cwd=tempfile.gettempdir()).stdout


@dataclass
class Run:
    seconds: float
    max_rss: int  # bytes
    returncode: int
    stdout: str
    stderr: str


def run_once(argv: list, cwd: str | None = None, env: dict | None = None) -> Run:
    """Run a command to its end; wall time from spawn to exit and the process's peak resident memory."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        rss_unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is KiB on Linux, bytes on macOS
        return Run(seconds, usage.ru_maxrss * rss_unit, process.returncode,
                   out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def failure(run: Run) -> str | None:
    """Why a linter run is not a valid measurement: a crash or a usage error. Findings (exit 1) are results, and so
    are per-file internal errors (TSL900, exit 2 from the CLI): they are counted, not hidden."""
    if "Traceback" in run.stderr:
        return run.stderr[-2000:]
    if run.returncode in (0, 1) or (run.returncode == 2 and "TSL900" in run.stdout):
        return None
    return f"exit {run.returncode}: {run.stderr[-2000:]}"


@dataclass
class Command:
    key: str
    label: str
    argv: list
    tree: Tree | None = None
    runs: list = field(default_factory=list)
    memory: bool = True  # False where the work is spread over child processes that wait4 does not see
    no_bytecode: bool = False  # Python neither reads nor writes bytecode: every module it imports is compiled

    def measure(self, cwd: str, env: dict) -> Run:
        argv = self.argv
        if self.no_bytecode:  # -B writes none; an empty prefix means none is found (as options: -E ignores the env)
            argv = [argv[0], "-B", "-X", f"pycache_prefix={os.path.join(cwd, 'no-bytecode')}", *argv[1:]]
        run = self.checked(argv, cwd, env)
        self.runs.append(run)
        return run

    def warm_up(self, cwd: str, env: dict) -> None:
        """Compile the bytecode and read the modules into the page cache (on one small file, or the command itself);
        fill the result cache."""
        if self.tree:
            self.checked([*self.argv[:-len(self.tree.paths)], str(VGG_FILE)], cwd, env)
        else:
            self.checked(self.argv, cwd, env)
        if self.key.endswith("-warm"):
            self.checked(self.argv, cwd, env)

    def checked(self, argv: list, cwd: str, env: dict) -> Run:
        run = run_once(argv, cwd, env)
        problem = failure(run)
        if problem:
            raise SystemExit(f"benchmark: {self.label} failed: {' '.join(argv)}\n{problem}")
        return run

    @property
    def seconds(self) -> float:
        return min(r.seconds for r in self.runs)

    @property
    def median_seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def max_rss(self) -> int:
        return max(r.max_rss for r in self.runs)

    @property
    def internal_errors(self) -> int:
        return max(len(re.findall(r"\bTSL900\b", r.stdout)) for r in self.runs)


@dataclass(frozen=True)
class Budget:
    title: str
    slower: str  # key of the command expected to take longer
    faster: str | None  # None: the budget is on the slower command's own time, in seconds
    limit: float
    at_most: bool  # True: slower/faster ≤ limit (an overhead); False: ≥ limit (a speed-up)

    @property
    def unit(self) -> str:
        return "×" if self.faster else " s"


BUDGETS = [
    Budget("flake8 -j1 with / without the plugin, torchvision models/", "flake8-tv-with", "flake8-tv-without",
           PLUGIN_OVERHEAD_TORCH, True),
    Budget("flake8 -j1 with (warm cache) / without the plugin, torchvision models/", "flake8-tv-with-warm",
           "flake8-tv-without", PLUGIN_OVERHEAD_WARM, True),
    Budget("flake8 -j1 with / without the plugin, stdlib (no PyTorch)", "flake8-std-with", "flake8-std-without",
           PLUGIN_OVERHEAD_PLAIN, True),
    Budget("runtime check / static check of VGG16", "vgg-runtime", "vgg-static", STATIC_SPEEDUP, False),
    Budget("runtime check / static check of VGG16, no bytecode caching", "vgg-runtime-no-bytecode",
           "vgg-static-no-bytecode", STATIC_SPEEDUP, False),
    Budget("CLI cold / warm-cache re-run, torchvision models/", "cli-tv-cold", "cli-tv-warm", CACHE_SPEEDUP, False),
    Budget(f"CLI on a {DEEP_LAYERS:,}-layer Sequential (process start included)", "large-sequential", None,
           LARGE_MODEL_SECONDS, True),
    Budget(f"CLI on a {LONG_CFG:,}-entry cfg through make_layers (process start included)", "large-cfg", None,
           LARGE_MODEL_SECONDS, True),
]


def verdict(budget: Budget, ratio: float) -> str:
    """Met or not, and by how much: the factor of headroom, or the factor the faster side must still gain."""
    sign, unit = "≤" if budget.at_most else "≥", budget.unit
    if budget.at_most:
        met, factor = ratio <= budget.limit, (budget.limit / ratio if ratio <= budget.limit else ratio / budget.limit)
    else:
        met, factor = ratio >= budget.limit, (ratio / budget.limit if ratio >= budget.limit else budget.limit / ratio)
    if met:
        return f"met ({factor:.2f}× headroom)"
    need = "faster side" if not budget.at_most else "with-plugin run" if budget.faster else "run"
    return f"**not met**: {ratio:.2f}{unit} vs {sign} {budget.limit:g}{unit}, the {need} must get {factor:.2f}× faster"


def cache_flag() -> bool:
    """Whether the CLI has a result cache yet (it is switched off with --no-cache)."""
    usage = subprocess.run([sys.executable, *CLI, "--help"], capture_output=True, text=True)
    if usage.returncode != 0:
        raise SystemExit(f"benchmark: torchshape-lint --help failed:\n{usage.stderr[-2000:]}")
    return "--no-cache" in usage.stdout


def plan(trees: list, plain: list, with_plugin: list, cli: list, cached: bool, torch_present: bool,
         default_jobs: bool, scratch: str) -> list:
    """The commands to time; `cli`: torchshape-lint's command line, run as the flake8 rows run the plugin, from a
    regular install (the editable one of a checkout imports pathlib and more at every start: a fifth of a start
    without bytecode)."""
    commands = []
    for short, tree in trees:
        for jobs in (["-j", "1"], []) if default_jobs else (["-j", "1"],):
            suffix = "" if jobs else "-jdefault"
            shown = "-j1" if jobs else "default -j"
            commands += [
                Command(f"flake8-{short}-without{suffix}", f"flake8 {shown}, without plugin, {tree.name}",
                        [*plain, *jobs, *tree.paths], tree, memory=bool(jobs)),
                Command(f"flake8-{short}-with{suffix}", f"flake8 {shown}, with plugin, cold cache, {tree.name}",
                        [*with_plugin, *jobs, *(["--torchshape-no-cache"] if cached else []), *tree.paths], tree,
                        memory=bool(jobs)),
            ]
            if cached and jobs:
                commands.append(Command(f"flake8-{short}-with-warm", f"flake8 {shown}, with plugin, warm cache, "
                                        f"{tree.name}", [*with_plugin, *jobs, *tree.paths], tree))
        commands.append(Command(f"cli-{short}-cold", f"torchshape-lint, cold{' (--no-cache)' if cached else ''}, "
                                f"{tree.name}", [*cli, *(["--no-cache"] if cached else []), *tree.paths], tree))
        if cached:
            commands.append(Command(f"cli-{short}-warm", f"torchshape-lint, warm cache, {tree.name}",
                                    [*cli, *tree.paths], tree))
    vgg = Tree("fixtures/vgg.py", (str(VGG_FILE),), 1, len(VGG_FILE.read_bytes().splitlines()))
    static = [*cli, *(["--no-cache"] if cached else []), str(VGG_FILE)]
    shown = f"static check: torchshape-lint{' --no-cache' if cached else ''} fixtures/vgg.py"
    commands += [Command("vgg-static", shown, static, vgg),
                 Command("vgg-static-no-bytecode", f"{shown}, no bytecode caching", static, vgg, no_bytecode=True)]
    for key, name, text in (("large-sequential", "deep_sequential.py", deep_sequential(DEEP_LAYERS)),
                            ("large-cfg", "long_cfg.py", long_cfg(LONG_CFG))):
        path = Path(scratch) / "large" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        commands.append(Command(key, f"torchshape-lint --no-cache {name} ({key.replace('-', ' ')})",
                                [*cli, "--no-cache", str(path)], Tree(name, (str(path),), 1, text.count("\n"))))
    if torch_present:
        shown = "runtime check: python -c 'import torch, torchvision; vgg16()(zeros(1, 3, 224, 224))' on the CPU"
        runtime = [sys.executable, "-c", RUNTIME_CHECK]
        commands += [Command("vgg-runtime", shown, runtime),
                     Command("vgg-runtime-no-bytecode", f"{shown}, no bytecode caching", runtime, no_bytecode=True)]
    return commands


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        names = re.findall(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = names[0].strip() if names else cpu
        memory = int(re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.MULTILINE).group(1))
        ram = f", {memory / 2 ** 20:.0f} GiB RAM"
    except (OSError, AttributeError):
        ram = ""
    return f"{cpu}, {os.cpu_count()} cores{ram}, {platform.system()} {platform.release()}"


def versions() -> str:
    names = ["flake8", "torch", "torchvision", "torchshape-lint"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    # The checkout the measured code comes from (PYTHONPATH may point at a clean clone of a commit).
    package = Path(importlib.util.find_spec("torchshape_lint").origin).parent.parent
    commit = subprocess.run(["git", "-C", str(package), "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    return f"Python {platform.python_version()}; " + ", ".join(found) + (f" (commit {commit})" if commit else "")


def report(commands: list, repeat: int, started: datetime.datetime, load: tuple, cached: bool) -> str:
    by_key = {c.key: c for c in commands}
    lines = [f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine()}; {versions()}. "
             f"The fastest and the median of {repeat} interleaved runs (ratios: of the fastest); each a fresh "
             "process, start-up included; "
             f"peak memory is the largest max RSS of the runs. Load average (1 min) {load[0]:.1f} at the start, "
             f"{os.getloadavg()[0]:.1f} at the end (other work slows the times; interleaving keeps the ratios "
             "fair).", "",
             "| command | files (lines) | fastest | median | lines/s | peak memory |", "|---|---|---|---|---|---|"]
    for c in commands:
        size = f"{c.tree.files} ({c.tree.lines:,})" if c.tree else "—"
        speed = f"{c.tree.lines / c.seconds:,.0f}" if c.tree else "—"
        memory = f"{c.max_rss / 2 ** 20:.0f} MiB" if c.memory else "— (worker processes)"
        lines.append(f"| {c.label} | {size} | {c.seconds:.2f} s | {c.median_seconds:.2f} s | {speed} | {memory} |")
    lines += ["", "| budget | measured | limit | verdict |", "|---|---|---|---|"]
    for b in BUDGETS:
        sign = "≤" if b.at_most else "≥"
        if b.slower in by_key and (b.faster is None or b.faster in by_key):
            ratio = by_key[b.slower].seconds / (by_key[b.faster].seconds if b.faster else 1.0)
            lines.append(f"| {b.title} | {ratio:.2f}{b.unit} | {sign} {b.limit:g}{b.unit} | {verdict(b, ratio)} |")
        else:
            why = ("pending: the CLI has no result cache (--no-cache) yet" if not cached and "cli" in b.slower
                   else "not measured: torch or torchvision is not installed")
            lines.append(f"| {b.title} | — | {sign} {b.limit:g}× | {why} |")
    errors = [c for c in commands if c.internal_errors]
    if errors:
        lines += [""] + [f"Note: {c.label} reported TSL900 (internal error) {c.internal_errors} times." for c in errors]
    return "\n".join(lines)


def update_readme(table: str) -> None:
    text = README.read_text()
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        raise SystemExit(f"benchmark: {README} has no {README_BEGIN} … {README_END} section")
    README.write_text(text[:begin + len(README_BEGIN)] + "\n" + table + "\n" + text[end:])


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each command; the fastest (and the median) is reported")
    parser.add_argument("--default-jobs", action="store_true", help="also time flake8 with its default -j")
    parser.add_argument("--update-readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    started, load = datetime.datetime.now(datetime.timezone.utc), os.getloadavg()
    plain, with_plugin = plain_flake8(), plugin_flake8()
    if "torchshape-lint" not in flake8_plugins(with_plugin) or "torchshape-lint" in flake8_plugins(plain):
        raise SystemExit(f"benchmark: the plugin must be installed in {with_plugin[0]} and absent from {plain[0]}")
    cached, torch_present = cache_flag(), has_torch()
    trees = [("std", stdlib_subset())]
    models = torchvision_models()
    if models:
        trees.insert(0, ("tv", models))
    with tempfile.TemporaryDirectory(prefix="torchshape-bench-") as scratch:
        # the command a user types, from the regular install flake8 with the plugin runs from: its console script
        # (`python -m` would add runpy and importlib.util to every start, a twelfth of one without bytecode)
        cli = [with_plugin[0], "-E", str(Path(with_plugin[0]).parent / "torchshape-lint")]
        commands = plan(trees, plain, with_plugin, cli, cached, torch_present, args.default_jobs, scratch)
        # A neutral folder and a private cache home: no project config, and no cache left by an earlier run.
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(scratch, "cache"))
        # bytecode caching on, as Python has it by default, whatever this shell says (the no-bytecode rows turn it off)
        for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"):
            env.pop(name, None)
        for command in commands:
            command.warm_up(scratch, env)
        for round_number in range(1, args.repeat + 1):
            for command in commands:
                run = command.measure(scratch, env)
                print(f"[{round_number}/{args.repeat}] {run.seconds:7.2f} s  {command.label}", file=sys.stderr)
    table = report(commands, args.repeat, started, load, cached)
    print(table)
    if args.update_readme:
        update_readme(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
