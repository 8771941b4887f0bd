#!/usr/bin/env python3
"""Measure the linter on real repositories of user models: how much it decides, and which planted mistakes it finds.

For each repository (a folder of the corpus root, named `owner+name`, as `git archive` of the commit in REPOS):

- **decided**: of the constructor calls of layers that declare an input size (LayerSpec.declares: Conv's
  `in_channels`, Linear's `in_features`, BatchNorm's `num_features`, ...), how many some build of the static
  analysis checked (a SizeCheck, from the analysis of any file of the repository);
- **planted mistakes**, one at a time, each of a kind (KINDS), kept only where PyTorch then fails: the file is
  imported and its models built and run by the `--confirm` machinery (confirm/driver.py's plans, recipes and
  worker) as the static run built them, or as the project builds them (Repo.builds), each on the input the static
  run gave it, else on the one the project feeds it (Repo.inputs); importing the file counts too (a tutorial trains
  its model at import). The same runs must pass on the unmodified code;
- **found**: the linter reports a finding (any TSL code but the TSL9xx of internal errors) in the mutated file
  whose lines overlap the mutated expression, at the line where PyTorch raised (the innermost call of the built
  file that raised, as confirm locates it), or at the constructor call of the layer in which PyTorch raised (the
  innermost nn.Module whose forward raised, in any file: a finding points at the offending layer's constructor, as
  the linter's do; a U-Net's `DoubleConv` Conv2d that an `Up` block of another file applies). A finding elsewhere is
  counted apart and is not a find;
- **false alarms**: the findings on the unmodified code (noqa applied, as the command line reports them) at a line
  where PyTorch does not raise; those where it does are listed apart, as the repository's own bugs.

The static analysis runs as a user runs it on the repository: no `--input-shape`, every file checked on its own.
Mutations are sampled deterministically (evenly spaced over each file's sites, Repo.per_kind per file and kind).
Modules the model files import without using them to build models (tqdm, matplotlib, sklearn) are stubbed on the
PyTorch side when absent, and the scripts that train on MNIST at import find 100 blank images where they look for it
(this machine is offline), so that importing the file works.

    python scripts/mutation_harness.py /work/corpus              # markdown tables on stdout
    python scripts/mutation_harness.py /work/corpus --json out.json
A corpus root without a repository's folder skips that repository (and says so on stderr).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from torchshape_lint.shapes.layers import LAYERS  # noqa: E402


@dataclass(frozen=True)
class ProjectBuild:
    """A model the project builds where the linter does not look (a training script, with arguments): which file
    defines it, how the project calls it, the input the project feeds it, and the files whose mutations it runs."""

    file: str
    name: str
    kwargs: dict
    input: tuple
    covers: tuple


@dataclass(frozen=True)
class Repo:
    name: str  # owner/name on GitHub
    commit: str
    kind: str
    inputs: tuple = ()  # (file glob, model name or "*", input shape): what the project feeds a model
    builds: tuple = ()  # ProjectBuild
    per_kind: int = 1  # mutations per file and kind, evenly spaced over the file's sites

    @property
    def folder(self) -> str:
        return self.name.replace("/", "+")


REPOS = (
    Repo("yunjey/pytorch-tutorial", "0500d3df5a2a8080ccfccbc00aca0eacc21818db", "tutorial", inputs=(
        ("*/feedforward_neural_network/*", "*", (2, 784)),
        ("*/convolutional_neural_network/*", "*", (2, 1, 28, 28)),
        ("*/deep_residual_network/*", "*", (2, 3, 32, 32)),
        ("*/recurrent_neural_network/*", "*", (2, 28, 28)),
        ("*/variational_autoencoder/*", "*", (2, 784)),
    ), per_kind=2),
    Repo("kuangliu/pytorch-cifar", "49b7aa97b0c12fe0d4054e670403a16b6b834ddd", "CIFAR zoo", inputs=(
        ("models/*.py", "*", (2, 3, 32, 32)),
    )),
    Repo("eriklindernoren/PyTorch-GAN", "36d3c77e5ff20ebe0aeefd322326a134a279b93e", "GAN collection", inputs=(
        ("implementations/gan/gan.py", "Generator", (2, 100)),
        ("implementations/gan/gan.py", "Discriminator", (2, 1, 28, 28)),
        ("implementations/*/*.py", "Generator", (2, 100)),
        ("implementations/*/*.py", "Discriminator", (2, 1, 32, 32)),
    )),
    Repo("milesial/Pytorch-UNet", "21d7850f2af30a9695bbeea75f3136aa538cfc4a", "segmentation", builds=(
        # train.py:197 `UNet(n_channels=3, n_classes=args.classes, bilinear=args.bilinear)`, defaults 2 and False
        ProjectBuild("unet/unet_model.py", "UNet", {"n_channels": 3, "n_classes": 2, "bilinear": False},
                     (1, 3, 64, 64), ("unet/*.py",)),
    ), per_kind=3),
    Repo("hsd1503/resnet1d", "9cccb9f08fde65087272472d0572c2dbe16a8119", "1-D (ECG)", builds=(
        # test_physionet.py:51, with fewer blocks (n_block 48 → 8) so that a run stays short; 3000 samples per ECG
        ProjectBuild("resnet1d.py", "ResNet1D", {
            "in_channels": 1, "base_filters": 64, "kernel_size": 16, "stride": 2, "groups": 32, "n_block": 8,
            "n_classes": 4, "downsample_gap": 2, "increasefilter_gap": 4}, (2, 1, 3000), ("resnet1d.py",)),
        # test_physionet_crnn.py:47, test_physionet_acnn.py:46 (cnn1d.py's CNN takes the same arguments as CRNN)
        ProjectBuild("crnn1d.py", "CRNN", dict(in_channels=1, out_channels=16, n_len_seg=50, n_classes=2,
                                               device="cpu"), (2, 1, 3000), ("crnn1d.py",)),
        ProjectBuild("acnn1d.py", "ACNN", dict(in_channels=1, out_channels=128, att_channels=16, n_len_seg=50,
                                               n_classes=2, device="cpu"), (2, 1, 3000), ("acnn1d.py",)),
        ProjectBuild("cnn1d.py", "CNN", dict(in_channels=1, out_channels=16, n_len_seg=50, n_classes=2,
                                             device="cpu"), (2, 1, 3000), ("cnn1d.py",)),
        # test_physionet_net1d.py:48 (its `filter_mul_list` is net1d.py's `filter_list`), smaller
        ProjectBuild("net1d.py", "Net1D", {
            "in_channels": 1, "base_filters": 64, "ratio": 1.0, "filter_list": [64, 128, 256],
            "m_blocks_list": [2, 2, 2], "kernel_size": 16, "stride": 2, "groups_width": 16, "n_classes": 4},
            (2, 1, 3000), ("net1d.py",)),
    ), per_kind=2),
)

KINDS = ("declared-size", "residual-stride", "cat-channels", "kernel-padding", "view-size", "pool-removed")
RUN_TIMEOUT = 30.0  # seconds for PyTorch to import a file, build a model and run it
MAX_RUNS_PER_FILE = 3  # models of a file run in PyTorch (the first in source order: ResNet18, 34, 50 of resnet.py)
# Imported by model files of the corpus, never used to build a model; stubbed for PyTorch when not installed.
STUBBED_MODULES = {"tqdm": "def tqdm(x=None, *a, **k):\n    return x\n", "matplotlib/__init__.py": "",
                   "matplotlib/pyplot.py": "", "sklearn/__init__.py": "",
                   "sklearn/metrics.py": "classification_report = confusion_matrix = None\n"}


# ---- where mistakes can be planted ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """One planted mistake: the source range of an expression (1-based lines, byte columns) and its replacement."""

    kind: str
    line: int
    column: int
    end_line: int
    end_column: int
    replacement: str
    original: str


def callee(call: ast.Call) -> str:
    """`nn.Conv2d` → `Conv2d`, `F.max_pool2d` → `max_pool2d`, `x.view` → `view`."""
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def argument(call: ast.Call, spec_name: str, parameter: str) -> ast.expr | None:
    """The expression a layer's constructor call passes for a parameter, by keyword or position."""
    for keyword in call.keywords:
        if keyword.arg == parameter:
            return keyword.value
    names = [name for name, _ in LAYERS[spec_name].params]
    index = names.index(parameter) if parameter in names else None
    positional = call.args[:index + 1] if index is not None else []
    if index is not None and len(positional) == index + 1 and not any(isinstance(a, ast.Starred) for a in positional):
        return call.args[index]
    return None


def is_int(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


def plus_one(kind: str, node: ast.expr, text: str) -> Edit:
    """An int literal one larger; any other size expression `(e) + 1`."""
    replacement = str(node.value + 1) if is_int(node) else f"({text}) + 1"
    return edit(kind, node, replacement, text)


def edit(kind: str, node: ast.AST, replacement: str, text: str) -> Edit:
    return Edit(kind, node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, replacement, text)


def merges_in(cls: ast.ClassDef) -> tuple[bool, bool]:
    """Whether the class's methods add two values (`out += self.shortcut(x)`, `a + b`, `torch.add`) and whether
    they concatenate (`torch.cat`)."""
    adds = cats = False
    for node in ast.walk(cls):
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.Add) and \
                not all(isinstance(side, ast.Constant) for side in
                        ((node.left, node.right) if isinstance(node, ast.BinOp) else (node.target, node.value))):
            adds = True
        elif isinstance(node, ast.Call) and callee(node) in ("add", "cat", "concat", "concatenate"):
            adds, cats = adds or callee(node) == "add", cats or callee(node) != "add"
    return adds, cats


def mutation_sites(tree: ast.Module, source: bytes) -> dict:
    """Every place of each kind where a mistake can be planted, in source order."""
    sites: dict = {kind: [] for kind in KINDS}

    def text(node: ast.AST) -> str:
        return ast.get_source_segment(source.decode(), node) or ""

    def visit(node: ast.AST, adds: bool, cats: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, *merges_in(child))
                continue
            if isinstance(child, ast.Call):
                call_sites(child, adds, cats)
            visit(child, adds, cats)

    def call_sites(call: ast.Call, adds: bool, cats: bool) -> None:
        name = callee(call)
        spec = LAYERS.get(name)
        if spec is not None and spec.declares:
            declared = argument(call, name, spec.declares)
            if declared is not None and is_int(declared):
                sites["declared-size"].append(plus_one("declared-size", declared, text(declared)))
        if re.fullmatch(r"Conv[123]d", name):
            stride = argument(call, name, "stride")
            if adds and stride is not None:
                swapped = str(3 - stride.value) if is_int(stride) and stride.value in (1, 2) else \
                    f"3 - ({text(stride)})"
                sites["residual-stride"].append(edit("residual-stride", stride, swapped, text(stride)))
        if re.fullmatch(r"Conv(Transpose)?[123]d", name) and cats:
            out = argument(call, name, "out_channels")
            if out is not None:
                sites["cat-channels"].append(plus_one("cat-channels", out, text(out)))
        if re.fullmatch(r"(Conv|MaxPool|AvgPool)[123]d", name):
            for parameter in ("kernel_size", "padding"):
                value = argument(call, name, parameter)
                if value is not None and (is_int(value) or not isinstance(value, (ast.Tuple, ast.Constant))):
                    sites["kernel-padding"].append(plus_one("kernel-padding", value, text(value)))
        if name in ("view", "reshape") and isinstance(call.func, ast.Attribute) and call.args:
            sizes = call.args[1:] if len(call.args) > 1 else call.args  # the first of several is the batch
            for size in reversed(sizes):
                if isinstance(size, ast.Starred) or isinstance(size, ast.UnaryOp) or \
                        isinstance(size, ast.Constant) and not is_int(size):
                    continue
                sites["view-size"].append(plus_one("view-size", size, text(size)))
                break
        if re.fullmatch(r"(Max|Avg)Pool[123]d", name) and isinstance(call.func, ast.Attribute):
            identity = f"{text(call.func.value)}.Identity()"
            sites["pool-removed"].append(edit("pool-removed", call, identity, text(call)))
        elif re.fullmatch(r"(max|avg)_pool[123]d", name) and call.args:
            sites["pool-removed"].append(edit("pool-removed", call, text(call.args[0]), text(call)))

    visit(tree, False, False)
    return sites


def sample(sites: list, count: int) -> list:
    """`count` sites evenly spaced over the list, first and last included: deterministic, and spread over the file."""
    if len(sites) <= count:
        return sites
    if count == 1:
        return [sites[len(sites) // 2]]
    return [sites[round(i * (len(sites) - 1) / (count - 1))] for i in range(count)]


def apply(source: bytes, change: Edit) -> bytes:
    lines = source.splitlines(keepends=True)
    start = sum(len(line) for line in lines[:change.line - 1]) + change.column
    end = sum(len(line) for line in lines[:change.end_line - 1]) + change.end_column
    return source[:start] + change.replacement.encode() + source[end:]


def declaring_layers(tree: ast.Module) -> list:
    """(line, byte column, layer) of each constructor call of a layer that declares its input size."""
    return [(node.lineno, node.col_offset, callee(node)) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(LAYERS.get(callee(node)), "declares", None)]


# ---- the static side -----------------------------------------------------------------------------------------


@dataclass
class Static:
    """One file's analysis, as the command line makes it (noqa applied), with what confirm needs to run it."""

    report: Any
    findings: list
    text: str


def analyze(path: str) -> Static:
    from torchshape_lint.checks.analyze import analyze_source
    from torchshape_lint.frontends.noqa import unsilenced

    with open(path, "rb") as handle:
        text = handle.read().decode("utf-8", "replace")
    report = analyze_source(text, path)
    return Static(report, unsilenced(report.findings, text, path), text)


def decided_sites(static: Static) -> set:
    """(path, line, byte column) of each layer constructor call some build of the analysis checked."""
    out = set()
    for check in static.report.checks:
        place, node = check.where
        if node is not None and hasattr(node, "col_offset"):
            out.add((os.path.realpath(place.source.path), node.lineno, node.col_offset))
    return out


def applied_sites(static: Static) -> set:
    """(path, line, byte column) of each layer constructor call whose layer some build applied."""
    out = set()
    for build in static.report.builds:
        for app in build.applications:
            if app.where is not None and app.layer is not None and app.where[1] is not None:
                place, node = app.where
                out.add((os.path.realpath(place.source.path), node.lineno, node.col_offset))
    return out


def real_findings(static: Static) -> list:
    return [f for f in static.findings if not f.code.startswith("TSL9")]


# ---- the PyTorch side ----------------------------------------------------------------------------------------


@dataclass
class TorchRun:
    label: str
    path: str
    request: dict


def input_from_table(repo: Repo, relative: str, model: str) -> list | None:
    """The project's input for a model, as confirm's plans give inputs: one shape per forward argument."""
    for pattern, name, shape in repo.inputs:
        if fnmatch.fnmatch(relative, pattern) and name in ("*", model.removesuffix("()")):
            return [list(shape)]
    return None


def torch_runs(repo: Repo, root: str, relative: str, static: Static) -> list:
    """The models of a file PyTorch can build as the static run built them (confirm's plans; MAX_RUNS_PER_FILE), each
    on the input the static run gave it, else on the project's input for it; then the project's own builds that cover
    the file."""
    from torchshape_lint.checks.models import Builds
    from torchshape_lint.confirm import driver as confirm
    from torchshape_lint.source.reader import SourceFile

    path, runs = os.path.join(root, relative), []
    report = static.report
    if report.builds:
        builds = Builds(SourceFile(static.text, path), None)
        builds.interp.run_module()
        plans = []
        for build in report.builds:
            if build.name == "<module>":
                plans.extend(confirm.usage_plans(report, builds) if build.steps else [])
            elif build.is_model:
                inputs = confirm.input_of(build, builds) or input_from_table(repo, relative, build.name)
                recipe = confirm.build_recipe(build.name, builds)
                if inputs is not None and recipe is not None:
                    first = [build.steps[0].line, build.steps[0].column] if build.steps else None
                    plans.append(confirm.Plan(build, inputs, first, recipe))
        for p in plans[:MAX_RUNS_PER_FILE]:
            runs.append(TorchRun(p.label, path, {"path": path, "device": "cpu", "build": p.label,
                                                 "inputs": p.inputs, "first": p.first, "recipe": p.recipe}))
    # The file's own top-level code, as the worker imports it (a tutorial trains its model there): asking for a name
    # the file does not define answers with where importing it raised, if it did.
    probe = {"name": IMPORT_PROBE, "call": False, "args": [], "kwargs": {}}
    runs.append(TorchRun("<import>", path, {"path": path, "device": "cpu", "build": "<import>", "inputs": [[1]],
                                            "first": None, "recipe": probe}))
    for made in repo.builds:
        if any(fnmatch.fnmatch(relative, pattern) for pattern in made.covers):
            where = os.path.join(root, made.file)
            recipe = {"name": made.name, "call": True, "args": [], "kwargs": made.kwargs}
            runs.append(TorchRun(made.name, where, {"path": where, "device": "cpu", "build": made.name,
                                                    "inputs": [list(made.input)], "first": None, "recipe": recipe}))
    return runs


IMPORT_PROBE = "__mutation_harness_import_probe__"
IMPORT_RAISED = re.compile(r" is not defined when the file is imported \(importing it raised (.*)\)$")


def run_in_torch(runs: list, fresh: bool) -> dict:
    """label → the worker's failure (None: it ran) for each run; `fresh`: a new worker first, so that modules
    imported before (a package's, a sibling's) are imported again from the files as they are now."""
    from torchshape_lint.confirm import driver as confirm

    if fresh:
        confirm.session().close()
    outcome = {}
    for run in runs:
        failure = confirm.session().ask(run.request, RUN_TIMEOUT).get("failure")
        raised = IMPORT_RAISED.search(failure["message"]) if failure and run.label == "<import>" else None
        if run.label == "<import>":  # the probe's own name is never defined: only a raising import is a failure
            failure = dict(failure, message=raised.group(1), raised=True, unavailable=False) if raised else None
        outcome[run.label] = failure
    return outcome


def torch_rejects(failure: dict | None) -> bool:
    """PyTorch raised on the model (not: it could not be tried — an import, memory, a time limit)."""
    return failure is not None and failure["raised"] and not failure["unavailable"]


# ---- measuring -----------------------------------------------------------------------------------------------


@dataclass
class Mutation:
    repo: str
    file: str
    kind: str
    line: int
    original: str
    replacement: str
    kept: bool = False
    torch_error: str = ""
    torch_line: int | None = None
    torch_file: str = ""
    torch_layer: str = ""  # file:line of the constructor call of the innermost module whose forward raised
    found: bool = False
    elsewhere: list = field(default_factory=list)  # findings at other lines
    miss: str = ""  # why it was not found


@dataclass
class RepoResult:
    repo: str
    commit: str
    kind: str
    files: int = 0
    layers: int = 0
    decided: int = 0
    false_alarms: list = field(default_factory=list)  # findings on the unmodified code where PyTorch does not raise
    confirmed: list = field(default_factory=list)  # findings on the unmodified code at the line where PyTorch raises
    undecided: Counter = field(default_factory=Counter)  # reason → layer sites
    mutations: list = field(default_factory=list)
    seconds: float = 0.0


def model_files(root: str) -> list:
    """The .py files (relative paths, sorted) that mention torch (or `nn.`: a package file that takes `nn` from a
    star import of a sibling, as Pytorch-UNet's unet_model.py does)."""
    out = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    text = handle.read()
                    if b"torch" in text or b"nn." in text:
                        out.append(os.path.relpath(path, root))
    return out


def undecided_reason(static: Static, site: tuple, applied: set, tree: ast.Module) -> str:
    """Why a layer's declared size was not checked: its layer was never applied (and the build that would have
    applied it said why), or it was applied with an input whose size is not known."""
    if site in applied:
        return "applied, but what arrives is not known"
    if not static.report.builds:
        return "file not analysed (no model found in it)"
    line = site[1]
    enclosing = next((node.name for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))
                      and node.lineno <= line <= node.end_lineno), None)
    reason = dict(static.report.skipped).get(enclosing) or dict(static.report.skipped).get(f"{enclosing}()")
    if reason:
        return f"not built: {re.sub(r'[0-9]+', 'N', reason)}"
    return "not applied by any build of the file"


def miss_reason(mutation: Mutation, static: Static, failed: str) -> str:
    """What stopped the analysis from finding a planted mistake that PyTorch rejects (of the file PyTorch failed in)."""
    report = static.report
    if any(f.code.startswith("TSL9") for f in static.findings):
        return "internal error (TSL900) on the mutated file"
    if mutation.elsewhere:
        return "reported at another line"
    if not any(build.steps for build in report.builds):
        reasons = sorted({re.sub(r"[0-9]+", "N", reason) for _, reason in report.skipped})
        return f"no build reached a layer: {'; '.join(reasons)}" if reasons else "no model found in the file"
    message = mutation.torch_error
    if "must match the size of tensor" in message:
        return "elementwise merge of different sizes (not checked)"
    if "Sizes of tensors must match except in dimension" in message:
        return "torch.cat of different sizes (not checked)"
    steps = [step for build in report.builds for step in build.steps
             if os.path.realpath(step.path) == os.path.realpath(failed) and step.line == mutation.torch_line]
    if not steps:
        return "evaluation did not reach the failing line"
    if all(step.before is None for step in steps):
        return "input of the failing layer not known"
    if all(any(not isinstance(d, int) for d in step.before or ()) for step in steps):
        return "symbolic sizes only at the failing layer"
    return "checked and not reported"


def measure(repo: Repo, corpus: str, scratch: str) -> RepoResult:
    started = time.perf_counter()
    result = RepoResult(repo.name, repo.commit, repo.kind)
    root = os.path.realpath(os.path.join(scratch, repo.folder))
    shutil.copytree(os.path.join(corpus, repo.folder), root)
    files = model_files(root)
    statics = {relative: analyze(os.path.join(root, relative)) for relative in files}
    # the files whose analysis read each file (its imports, followed): a mistake there may show in their findings
    readers: dict = {}
    for relative, static in statics.items():
        for read in static.report.read:
            readers.setdefault(os.path.realpath(read.path), []).append(os.path.realpath(os.path.join(root, relative)))
    decided = set().union(*map(decided_sites, statics.values())) if statics else set()
    applied = set().union(*map(applied_sites, statics.values())) if statics else set()
    for relative in files:
        path = os.path.realpath(os.path.join(root, relative))
        with open(path, "rb") as handle:
            source = handle.read()
        tree = ast.parse(source)
        layers = declaring_layers(tree)
        if layers:
            result.files += 1
        for line, column, _ in layers:
            result.layers += 1
            if (path, line, column) in decided:
                result.decided += 1
            else:
                result.undecided[undecided_reason(statics[relative], (path, line, column), applied, tree)] += 1
        sites = mutation_sites(tree, source)
        chosen = [change for kind in KINDS for change in sample(sites[kind], repo.per_kind)]
        # its own findings, and those other files' runs prove at its layers (the command line shows both here)
        findings = statics[relative].findings + [finding for static in statics.values() for finding in
                                                 static.report.elsewhere if os.path.realpath(finding.path) == path]
        runs = torch_runs(repo, root, relative, statics[relative]) if chosen or findings else []
        baseline = run_in_torch(runs, fresh=_new_folder(path)) if runs else {}
        raised_at = {failure["line"] for run in runs if run.path == path
                     for failure in [baseline[run.label]] if torch_rejects(failure)}
        for finding in findings:
            shown = f"{relative}:{finding.line}:{finding.column + 1}: {finding.code} {finding.message}"
            (result.confirmed if finding.line in raised_at else result.false_alarms).append(shown)
        working = [run for run in runs if baseline[run.label] is None]
        result.mutations += list(mutate(repo, root, relative, source, chosen, working, readers.get(path, [])))
    result.seconds = time.perf_counter() - started
    return result


def mutate(repo: Repo, root: str, relative: str, source: bytes, chosen: list, working: list,
           readers: list) -> Iterator:
    """Each chosen mutation of the file, with its verdicts; `working`: the runs PyTorch made of the unmodified code;
    `readers`: the other files whose analysis reads this one (changed in place, their findings count too).

    Where PyTorch runs only models of the file itself, each mutant is a sibling copy under a name of its own, so
    that the worker imports it afresh (it keeps the modules it imported, a package's too); where a build of another
    file runs it, the file is changed in place, with a new worker for each mutant, and restored after each. A sibling
    copy's readers are analysed with the mutation written in place for that time (their analysis imports the file by
    its own name), so that what they prove at its layers counts as it does for a file changed in place."""
    path = os.path.join(root, relative)
    own = all(run.path == path for run in working)
    for number, change in enumerate(chosen):
        mutation = Mutation(repo.name, relative, change.kind, change.line, change.original, change.replacement)
        target = os.path.join(os.path.dirname(path), f"{os.path.basename(path)[:-3]}__mutant{number}.py") \
            if own else path
        write(target, apply(source, change))
        try:
            retargeted = [TorchRun(run.label, target, dict(run.request, path=target)) for run in working] if own \
                else working
            outcome = run_in_torch(retargeted, fresh=not own) if working else {}
            failed = next((run for run in retargeted if torch_rejects(outcome[run.label])), None)
            if failed is not None:
                failure = outcome[failed.label]
                mutation.kept = True
                mutation.torch_error = failure["message"]
                mutation.torch_line = failure["line"]
                mutation.torch_file = relative if failed.path == target else os.path.relpath(failed.path, root)
                layer = (os.path.realpath(failure["layer"][0]), failure["layer"][1]) if failure.get("layer") else None
                if layer is not None:
                    shown = relative if layer[0] == os.path.realpath(target) else os.path.relpath(layer[0], root)
                    mutation.torch_layer = f"{shown}:{layer[1]}"
                if own and readers:  # the files reading this one read it by its own name: mutated there too
                    write(path, apply(source, change))
                    try:
                        judge(mutation, change, target, failed.path, readers, layer, original=path)
                    finally:
                        write(path, source)
                else:
                    judge(mutation, change, target, failed.path, [] if own else readers, layer)
        finally:
            if own:
                os.remove(target)
            else:
                write(path, source)
        yield mutation


_LAST_FOLDER = [""]


def _new_folder(path: str) -> bool:
    """A file of another folder than the last one imports other siblings (`from models import *`): a new worker."""
    folder = os.path.dirname(path)
    new, _LAST_FOLDER[0] = folder != _LAST_FOLDER[0], folder
    return new


def judge(mutation: Mutation, change: Edit, mutated: str, failed: str, readers: list, layer: tuple | None,
          original: str = "") -> None:
    """Found: a finding in the mutated file over the mutated lines, where PyTorch raised, or at the constructor call
    of the layer it raised in (`layer`: file and line, or None) — made by the analysis of the mutated file, of the
    file PyTorch ran, or of a file that reads the mutated one (its findings at its own calls, and those it proves at
    the mutated file's layers), as the command line sees a tree. `original`: the mutated file's own path where
    `mutated` is a sibling copy and the mutation is also written there (for readers)."""
    statics = {path: analyze(path) for path in dict.fromkeys([mutated, failed, *readers])}
    mutated_as = {mutated, original} - {""}
    failed_as = mutated_as if failed == mutated else {failed}
    layer_as = set() if layer is None else mutated_as if layer[0] == os.path.realpath(mutated) else {layer[0]}
    for static in statics.values():
        for finding in real_findings(static) + [f for f in static.report.elsewhere if not f.code.startswith("TSL9")]:
            where = os.path.realpath(finding.path)
            at_mutation = where in mutated_as and finding.line <= change.end_line and finding.end_line >= change.line
            at_failure = where in failed_as and finding.line == mutation.torch_line
            at_layer = where in layer_as and finding.line == layer[1]
            if at_mutation or at_failure or at_layer:
                mutation.found = True
            else:
                name = mutation.file if where in mutated_as else os.path.basename(where)
                mutation.elsewhere.append(f"{name}:{finding.line}: {finding.code}")
    if not mutation.found:
        mutation.miss = miss_reason(mutation, statics[failed], failed)


_WRITES = [0]


def write(path: str, data: bytes) -> None:
    """Write the file with a modification time of its own: the analysis and the worker cache modules by it."""
    with open(path, "wb") as handle:
        handle.write(data)
    _WRITES[0] += 1
    stamp = 1_700_000_000_000_000_000 + _WRITES[0] * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


# ---- output --------------------------------------------------------------------------------------------------


def percent(part: int, whole: int) -> str:
    """To a tenth, rounded down: 106 of 118 is 89.8%, never a 90% that a target would read as met."""
    return f"{1000 * part // whole / 10:.1f}%" if whole else "—"


def markdown(results: list) -> str:
    out = ["| repository | commit | files with layers | layers declaring a size | decided | mutations tried | "
           "kept (PyTorch fails) | found at the right line | found elsewhere only | false alarms | "
           "findings PyTorch confirms |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        kept = [m for m in r.mutations if m.kept]
        found = sum(m.found for m in kept)
        elsewhere = sum(1 for m in kept if not m.found and m.elsewhere)
        out.append(f"| {r.repo} ({r.kind}) | {r.commit[:7]} | {r.files} | {r.layers} | {r.decided} "
                   f"({percent(r.decided, r.layers)}) | {len(r.mutations)} | {len(kept)} | {found} "
                   f"({percent(found, len(kept))}) | {elsewhere} | {len(r.false_alarms)} | {len(r.confirmed)} |")
    layers, decided = sum(r.layers for r in results), sum(r.decided for r in results)
    every = [m for r in results for m in r.mutations]
    kept = [m for m in every if m.kept]
    found = sum(m.found for m in kept)
    out.append(f"| **all** | | {sum(r.files for r in results)} | {layers} | {decided} ({percent(decided, layers)}) | "
               f"{len(every)} | {len(kept)} | {found} ({percent(found, len(kept))}) | "
               f"{sum(1 for m in kept if not m.found and m.elsewhere)} | {sum(len(r.false_alarms) for r in results)} | "
               f"{sum(len(r.confirmed) for r in results)} |")
    out += ["", "| mistake kind | tried | kept (PyTorch fails) | found at the right line |", "|---|---|---|---|"]
    for kind in KINDS:
        tried = [m for m in every if m.kind == kind]
        kept_kind = [m for m in tried if m.kept]
        hits = sum(m.found for m in kept_kind)
        out.append(f"| {kind} | {len(tried)} | {len(kept_kind)} | {hits} ({percent(hits, len(kept_kind))}) |")
    misses = Counter(m.miss for m in kept if not m.found)
    out += ["", "| why a kept mistake was missed | mistakes |", "|---|---|"]
    out += [f"| {reason} | {count} |" for reason, count in misses.most_common()]
    undecided = sum((r.undecided for r in results), Counter())
    out += ["", "| why a layer's declared size was not decided | layers |", "|---|---|"]
    out += [f"| {reason} | {count} |" for reason, count in undecided.most_common()]
    for title, kind in (("False alarms (findings on the unmodified code where PyTorch does not raise)", "false_alarms"),
                        ("Findings on the unmodified code at the line where PyTorch raises", "confirmed")):
        shown = [f"- {r.repo}: {finding}" for r in results for finding in getattr(r, kind)]
        out += ["", f"{title}:", ""] + shown if shown else []
    return "\n".join(out)


def as_json(results: list) -> dict:
    return {"repositories": [dict(asdict(r), undecided=dict(r.undecided)) for r in results]}


def stub_modules(folder: str) -> None:
    """Modules the corpus's model files import and never use to build a model, for the worker when not installed."""
    import importlib.util

    for relative, text in STUBBED_MODULES.items():
        top = relative.split("/")[0].removesuffix(".py")
        if importlib.util.find_spec(top) is not None:
            continue
        target = os.path.join(folder, relative if relative.endswith(".py") else relative + ".py")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as handle:
            handle.write(text)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), folder]))


def measure_all(repos: list, corpus: str) -> list:
    """Each repository's results, measured on a copy of it (the corpus is never written), from a scratch folder that
    the user's scripts may write into (`../../data`, `images/`)."""
    from torchshape_lint.confirm import driver as confirm

    scratch = tempfile.mkdtemp(prefix="tsl-harness-")
    here = os.getcwd()
    try:
        stub_modules(os.path.join(scratch, "stubs"))
        work = os.path.join(scratch, "cwd", "a", "b")
        os.makedirs(work)
        blank_mnist(os.path.join(scratch, "cwd", "data", "MNIST", "raw"))
        os.chdir(work)
        results = []
        for repo in repos:
            results.append(measure(repo, corpus, scratch))
            print(f"{repo.name}: {results[-1].seconds:.0f} s", file=sys.stderr)
        return results
    finally:
        confirm.session().close()
        _LAST_FOLDER[0] = ""
        os.chdir(here)
        shutil.rmtree(scratch, ignore_errors=True)


def blank_mnist(folder: str, count: int = 100) -> None:
    """MNIST's four files (idx format: a magic number, the sizes, the bytes) holding `count` blank images, where the
    tutorial scripts look (`../../data/`): they download MNIST and train on it when imported, and this machine is
    offline. Their models then get the batches the project feeds them."""
    import struct

    os.makedirs(folder, exist_ok=True)
    for split in ("train", "t10k"):
        with open(os.path.join(folder, f"{split}-images-idx3-ubyte"), "wb") as handle:
            handle.write(struct.pack(">4i", 2051, count, 28, 28) + bytes(count * 28 * 28))
        with open(os.path.join(folder, f"{split}-labels-idx1-ubyte"), "wb") as handle:
            handle.write(struct.pack(">2i", 2049, count) + bytes(count))


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", help="folder holding one folder per repository, named owner+name")
    parser.add_argument("--json", metavar="FILE", help="also write every figure and each mutation as JSON")
    parser.add_argument("--repo", action="append", help="only these repositories (owner/name); repeatable")
    args = parser.parse_args(argv)
    corpus = os.path.abspath(args.corpus)
    chosen = [repo for repo in REPOS if not args.repo or repo.name in args.repo]
    present = [repo for repo in chosen if os.path.isdir(os.path.join(corpus, repo.folder))]
    for repo in chosen:
        if repo not in present:
            print(f"skipped {repo.name}: {os.path.join(corpus, repo.folder)} is absent", file=sys.stderr)
    if not present:
        return 0
    results = measure_all(present, corpus)
    print(markdown(results))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(as_json(results), handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
