"""The confirm worker: a child process that imports the user's file and runs its models in PyTorch.

The user's code runs here, never in the linter. Protocol: one JSON request per line on stdin, answered by
one JSON reply per line on stdout (with `{"event": ...}` lines before it); the user's own prints go to stderr.
Every module call and every torch function called from the user's file is recorded at its source position —
a module by the line:column of its constructor call, a function by the line:column of its call — with the
real input and output shapes, and the innermost call that raised; a failure also names the constructor call
(file, line) of the innermost module, of any file, whose forward raised.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import time
import traceback
import types
import weakref
from typing import Any

from torchshape_lint.source import notebook

LOAD_NAME = "__torchshape_confirm__"


def main() -> int:
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # C-level prints of the user's code go to stderr too: stdout carries only replies
    sys.stdout = sys.stderr
    try:
        import torch
    except ImportError as error:
        send(replies, {"event": "no-torch", "error": str(error)})
        return 0
    runner = Runner(torch, lambda event: send(replies, event))
    send(replies, {"event": "ready", "torch": torch.__version__, "cuda": torch.cuda.is_available()})
    for line in sys.stdin:
        send(replies, runner.run(json.loads(line)))
    return 0


def send(stream: Any, message: dict) -> None:
    stream.write(json.dumps(message) + "\n")


class Recording:
    """What one build did in PyTorch: calls at the user's file's positions, and the calls that raised."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.calls: list = []  # [line, column, label, before, after]
        self.failures: list = []  # (exception, line, column, label, before, module), innermost first
        self.raising_layers: list = []  # (exception, file, line of its constructor call): modules of any file

    def add(self, site: tuple, label: str, before: Any, after: Any, error: BaseException | None,
            module: Any = None) -> None:
        if error is None:
            self.calls.append([site[0], site[1], label, before, after])
        elif not any(f[0] is error for f in self.failures):
            self.failures.append((error, site[0], site[1], label, before, module))


class Runner:
    def __init__(self, torch: Any, notify: Any) -> None:
        self.torch = torch
        self.notify = notify
        self.sites: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # module → (file, line, column)
        self.loaded: dict = {}  # (path, device, mtime, size) → (namespace, failure reply or None)
        self.recording: Recording | None = None
        self.positions: dict = {}  # code object → its instruction positions
        self.stops = {torch.nn.Module._call_impl.__code__, torch.nn.Module._wrapped_call_impl.__code__}
        self.install()

    # ---- recording -----------------------------------------------------------------------------------------

    def install(self) -> None:
        torch, runner = self.torch, self
        module_class = torch.nn.Module

        def new(cls: type, *args: Any, **kwargs: Any) -> Any:
            instance = object.__new__(cls)
            runner.sites[instance] = runner.position(sys._getframe(1))
            return instance

        module_class.__new__ = staticmethod(new)

        def after_forward(module: Any, args: tuple, output: Any) -> None:
            recording = runner.recording
            site = runner.sites.get(module)
            if recording is None or site is None:
                return
            error = sys.exc_info()[1] if output is None else None
            if error is not None and not any(e is error for e, *_ in recording.raising_layers):
                recording.raising_layers.append((error, site[0], site[1]))  # the innermost first
            if site[0] != recording.path:
                return
            recording.add(site[1:], type(module).__name__, shape_of(args), shape_of(output), error, module)

        torch.nn.modules.module.register_module_forward_hook(after_forward, always_call=True)

        class Calls(torch.overrides.TorchFunctionMode):
            def __torch_function__(self, func: Any, types_: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
                recording, site = runner.recording, runner.user_call()
                if recording is None or site is None:
                    return func(*args, **(kwargs or {}))
                label = getattr(func, "__name__", str(func))
                try:
                    out = func(*args, **(kwargs or {}))
                except Exception as error:
                    recording.add(site, label, shape_of(args), None, error)
                    raise
                if isinstance(out, torch.Tensor):
                    recording.add(site, label, shape_of(args), shape_of(out), None)
                return out

        self.calls_mode = Calls

    def position(self, frame: Any) -> tuple:
        """(file, line, 0-based character column) of the instruction a frame is executing."""
        code = frame.f_code
        table = self.positions.get(code)
        if table is None:
            table = self.positions[code] = list(code.co_positions())
        line, _, column, _ = table[frame.f_lasti // 2]
        return code.co_filename, line or 0, character_column(code.co_filename, line, column or 0)

    def user_call(self) -> tuple | None:
        """(line, column) when a torch function is called straight from the user's file, not inside a layer."""
        recording = self.recording
        frame = sys._getframe(2)
        while frame is not None and recording is not None:
            if frame.f_code.co_filename == recording.path:
                return self.position(frame)[1:]
            if frame.f_code in self.stops:
                return None
            frame = frame.f_back
        return None

    # ---- running -------------------------------------------------------------------------------------------

    def run(self, request: dict) -> dict:
        path, device, name, recipe = os.path.realpath(request["path"]), request["device"], request["build"], \
            request["recipe"]
        started = time.perf_counter()
        reply = {"build": name, "status": "ok", "calls": [], "failure": None}
        stat = os.stat(path)
        key = (path, device, stat.st_mtime_ns, stat.st_size)  # an edited file is loaded again
        if key not in self.loaded:
            self.loaded[key] = self.load(path, device)
            self.notify({"event": "loaded", "path": path})
        namespace, load_failure = self.loaded[key]
        if load_failure is not None and load_failure["unavailable"]:
            reply.update(status="failed", failure=load_failure)
        elif namespace is None or recipe["name"] not in namespace:
            missing = {"line": None, "column": None, "label": None, "at_layer": False, "message": ""}
            stopped = f" (importing it raised {load_failure['message']})" if load_failure else ""
            reply.update(status="failed", failure=dict(
                load_failure or missing, phase="import", unavailable=True, raised=False,
                message=f"{recipe['name']} is not defined when the file is imported{stopped}"))
        else:
            reply.update(self.build_and_run(path, namespace, recipe, request, device))
        reply["seconds"] = round(time.perf_counter() - started, 4)
        return reply

    def load(self, path: str, device: str) -> tuple:
        """Import the file as a module, never as `__main__`: its `if __name__ == "__main__":` block (a training
        loop, a dataset download) does not run. (namespace, failure)."""
        recording = Recording(path)
        package, dotted = (None, None) if notebook.is_notebook(path) else package_of(path)
        sys.path.insert(0, os.path.dirname(path) if package is None else root_of(path, dotted))
        sys.argv = [path]
        namespace = None
        try:
            with self.recorded(recording, device):
                if dotted is not None:  # a package's module: its relative imports need the package
                    namespace = vars(importlib.import_module(dotted))
                else:
                    module = types.ModuleType(LOAD_NAME)
                    module.__file__, module.__package__ = path, package
                    namespace = vars(module)
                    sys.modules[module.__name__] = module
                    with open(path, "rb") as handle:
                        data = handle.read()
                    # a notebook runs as the module of its code cells that the static analysis read, line for line
                    source = notebook.read_notebook(data).text if notebook.is_notebook(path) else data
                    code = compile(source, path, "exec")
                    exec(code, namespace)
        except SystemExit as error:  # a file may end with sys.exit() at its top level: fine when it says so
            if error.code not in (None, 0):
                return namespace, self.failure(error, recording, "import", device)
        except BaseException as error:  # the user's code may raise anything
            return namespace, self.failure(error, recording, "import", device)
        return namespace, None

    def build_and_run(self, path: str, namespace: dict, recipe: dict, request: dict, device: str) -> dict:
        """Build the model as the static run built it (a builder or class called with the arguments it saw, or
        the model a name holds) and run it on zeros of the inputs the static run gave it, one per forward argument
        (more than its forward takes are left out, as the static run leaves them; fewer than it needs: not run)."""
        torch = self.torch
        recording = Recording(path)
        phase = "build"
        try:
            with self.recorded(recording, device):
                target = namespace[recipe["name"]]
                model = target(*recipe["args"], **recipe["kwargs"]) if recipe["call"] else target
                if not isinstance(model, torch.nn.Module):
                    raise TypeError(f"{request['build']} is a {type(model).__name__}, not a torch.nn.Module")
                model.eval()  # batch statistics and dropout do not change shapes; eval avoids batch-size limits
                first = first_module(model, request.get("first"), self.sites)
                shape = resolve_input(request["inputs"][0], first)
                if shape is None:
                    raise LookupError("no input to confirm with: the first layer's input size is not known")
                shapes = [shape] + request["inputs"][1:]
                taken, needed, keywords = forward_arity(model)
                if needed > len(shapes):
                    return {"status": "skipped", "calls": [], "note": (
                        f"its forward takes {needed} tensors and the input gives {len(shapes)} (give one shape per "
                        "argument: `# torchshape: input=[(1, 3, 32, 32), (1, 10)]`)")}
                if keywords:
                    return {"status": "skipped", "calls": [], "note": (
                        f"its forward needs the keyword argument {keywords[0]}, which the input does not give")}
                phase = "run"
                with torch.no_grad():
                    # an Embedding first reads indices: zeros as integers, which every embedding has a row for
                    indices = isinstance(first, (torch.nn.Embedding, torch.nn.EmbeddingBag))
                    given = shapes[:None if taken is None else max(taken, 1)]
                    model(*[torch.zeros(s, device=device, dtype=torch.long if indices and i == 0 else None)
                            for i, s in enumerate(given)])
        except BaseException as error:
            return {"status": "failed", "calls": recording.calls,
                    "failure": self.failure(error, recording, phase, device)}
        return {"status": "ok", "calls": recording.calls}

    def recorded(self, recording: Recording, device: str) -> Any:
        """Record calls on the device. The file's own code runs as written (it may call `.backward()`);
        the forward passes this worker makes itself run without autograd."""
        runner, torch = self, self.torch

        class Scope:
            def __enter__(self) -> None:
                runner.recording = recording
                self.stack = [torch.device(device), runner.calls_mode()]
                for context in self.stack:
                    context.__enter__()

            def __exit__(self, *exc: Any) -> None:
                for context in reversed(self.stack):
                    context.__exit__(None, None, None)
                runner.recording = None

        return Scope()

    def failure(self, error: BaseException, recording: Recording, phase: str, device: str) -> dict:
        """Where and why a build stopped: the innermost recorded call that raised it, else the deepest frame
        of the user's file in the traceback. `unavailable`: the model could not be tried (an import, memory,
        what the meta device cannot do), as opposed to PyTorch rejecting a shape."""
        found = next((f for f in recording.failures if f[0] is error), None)
        # the innermost module whose forward raised, in any file: where its constructor was called (not the model
        # this worker built itself, whose constructor call is here)
        layer = next(([file, line] for raised, file, line in recording.raising_layers
                      if raised is error and os.path.realpath(file) != os.path.realpath(__file__)), None)
        called = None  # the deepest frame of the user's file: for a layer that raised, the call that applied it
        for frame, _ in traceback.walk_tb(error.__traceback__):
            if frame.f_code.co_filename == recording.path:
                called = self.position(frame)[1:]
        if found is not None:
            _, line, column, label, before, module = found
        else:
            label = before = module = None
            line, column = called or (None, None)
        message = normalize(f"{type(error).__name__}: {error}".splitlines()[0][:300], module, before)
        unavailable, raised = isinstance(error, (MemoryError, self.torch.OutOfMemoryError, ImportError)), True
        if isinstance(error, (MemoryError, self.torch.OutOfMemoryError)):
            raised, message = False, f"out of memory on {device}: {message}"
        elif device == "meta" and "meta" in message.lower():
            unavailable, raised = True, False
            message = f"the meta device cannot run this: {message} (try --device cpu)"
        return {"phase": phase, "at_layer": found is not None, "line": line, "column": column, "label": label,
                "call": list(called) if found is not None and called else None, "layer": layer,
                "message": message, "unavailable": unavailable, "raised": raised}


def shape_of(value: Any) -> list | None:
    """The shape of a tensor, or of the first tensor in a tuple of arguments or outputs."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return list(value.shape)
    if isinstance(value, (tuple, list)):
        return next((s for s in map(shape_of, value) if s is not None), None)
    return None


def forward_arity(model: Any) -> tuple[int | None, int, list]:
    """(how many positional tensors the model's forward takes, None for any number (`*args`); how many it needs;
    the keyword-only arguments it needs, which a run on positional tensors cannot give)."""
    import inspect

    try:
        parameters = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):  # a forward inspect cannot read: take it as one that takes one
        return 1, 1, []
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    needed = sum(1 for p in positional if p.default is p.empty)
    keywords = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    taken = None if any(p.kind is p.VAR_POSITIONAL for p in parameters) else len(positional)
    return taken, needed, keywords


def resolve_input(template: list, first: Any) -> list | None:
    """The input shape; a None entry (the channels a run-wide default leaves to the first layer) is read from
    the module built at the first step's position (`first`: that module, or None)."""
    if None not in template:
        return template
    channels = next((getattr(first, name) for name in ("in_channels", "num_features", "num_channels", "in_features")
                     if hasattr(first, name)), None)
    return [channels if d is None else d for d in template] if isinstance(channels, int) else None


def first_module(model: Any, first: list | None, sites: Any) -> Any:
    """The module of `model` built at the first step's position, or None."""
    return next((module for module in model.modules() if first is not None and sites.get(module) is not None and
                 list(sites[module][1:]) == first), None)


def character_column(path: str, line: int | None, column: int) -> int:
    """Python counts columns in UTF-8 bytes; the linter in characters."""
    import linecache

    text = linecache.getline(path, line or 0)
    return column if text.isascii() else len(text.encode()[:column].decode(errors="ignore"))


def package_of(path: str) -> tuple[str | None, str | None]:
    """(package, dotted module name) of a file inside a package (its folder has `__init__.py`), else (None, None)."""
    folder, parts = os.path.dirname(path), [os.path.splitext(os.path.basename(path))[0]]
    while os.path.exists(os.path.join(folder, "__init__.py")):
        parts.insert(0, os.path.basename(folder))
        folder = os.path.dirname(folder)
    if len(parts) == 1:
        return None, None
    return ".".join(parts[:-1]), ".".join(parts)


def root_of(path: str, dotted: str) -> str:
    folder = os.path.dirname(path)
    for _ in range(dotted.count(".")):
        folder = os.path.dirname(folder)
    return folder


# The meta device checks shapes with its own words; say what CPU and CUDA say, so the verdicts read alike.
META_MATMUL = re.compile(r"a and b must have same reduction dim, but got \[([\d, ]*)\] X \[([\d, ]*)\]\.?")
META_NORM = re.compile(r"expected input with shape \[([^\]]*)\], but got input of size torch\.Size\(\[([^\]]*)\]\)")


def normalize(message: str, module: Any, before: list | None) -> str:
    match = META_MATMUL.search(message)
    if match:
        a, b = ("x".join(part.split(", ")) for part in match.groups())
        return message[:match.start()] + f"mat1 and mat2 shapes cannot be multiplied ({a} and {b})"
    match = META_NORM.search(message)
    if match:
        shape, size = match.groups()
        return message[:match.start()] + f"expected input with shape [*, {shape}], but got input of size[{size}]"
    if message.endswith("Invalid channel dimensions") and before and hasattr(module, "weight"):
        channels = before[-len(module.kernel_size) - 1]
        return (message[:-len("Invalid channel dimensions")] + f"Given groups={module.groups}, weight of size "
                f"{list(module.weight.shape)}, expected input{before} to have {module.in_channels} channels, "
                f"but got {channels} channels instead")
    return message


if __name__ == "__main__":
    sys.exit(main())
