"""The arithmetic behind an arriving size, in words: what went in, what changed it, what came out."""

from __future__ import annotations

from torchshape_lint.checks.finding import TraceLine
from torchshape_lint.shapes import dims
from torchshape_lint.shapes.layers import spatial_step
from torchshape_lint.shapes.tensor import Tensor, show_shape


def spatial(shape: tuple | None) -> tuple | None:
    return tuple(shape[2:]) if shape is not None and len(shape) >= 3 else None


def show_sizes(sizes: tuple) -> str:
    return "x".join(dims.show(d) for d in sizes)


def summary(x: Tensor) -> str:
    """`input (1, 3, 32, 32); 32x32 → 16x16 → ... (5 MaxPool2d); (1, 512, 1, 1)`."""
    steps = [s for s in x.trace if s.before is not None or s.after is not None]
    start = next((s.before for s in steps if s.before is not None), x.shape if x.shape is not None else x.hint)
    parts = [f"input {show_shape(start)}" if start is not None else "the input"]
    chain, labels = [], []
    for step in steps:
        before, after = spatial(step.before), spatial(step.after)
        if not spatial_step(step.label):
            continue
        if before is not None and after is not None and before != after and len(before) == len(after):
            if not chain:
                chain.append(show_sizes(before))
            if show_sizes(after) != chain[-1]:  # symbolic sizes print alike: show each once
                chain.append(show_sizes(after))
            labels.append(step.label)
    if x.dropped and chain:  # the middle of the trace was not kept: show where it began, count no further
        first = spatial(start)
        chain = ([show_sizes(first)] if first is not None else []) + ["…"] + chain[1:]
    if len(chain) > MAX_CHAIN:
        chain = chain[: MAX_CHAIN // 2] + ["…"] + chain[-(MAX_CHAIN // 2):]
    if chain:
        counted = ", ".join(f"{labels.count(label)} {label}" for label in dict.fromkeys(labels))
        tail = f" (and {x.dropped} earlier steps)" if x.dropped else ""
        parts.append(f"{' → '.join(chain)} through {counted}{tail}")
    shaped = [s for s in steps if s.after is not None]
    if x.flat_parts and len(x.flat_parts) > 1:
        total = x.last_dim()
        parts.append(f"flattened {'*'.join(dims.show(d) for d in x.flat_parts)} = {dims.show(total)}")
    elif shaped and not chain:
        parts.append(" → ".join(f"{s.label} {show_shape(s.after)}" for s in shaped[-RECENT_STEPS:]))
    elif shaped:
        parts.append(f"then {show_shape(shaped[-1].after)}")
    return "; ".join(parts)


RECENT_STEPS = 4
MAX_CHAIN = 10  # sizes shown in a message's chain; the middle of a longer one is elided  # without a spatial chain to show, the last few steps say where the size came from


def trace_lines(x: Tensor) -> list[TraceLine]:
    """Each step, with its formula where one applies (for JSON and explanations)."""
    return [TraceLine(step.label, show_shape(step.before), show_shape(step.after), step.formula) for step in x.trace]


def came_from(x: Tensor) -> str:
    """The step that made a tensor, with its line: `Conv2d (line 12)`; `the input` before any step."""
    step = next((s for s in reversed(x.trace) if s.after is not None), None)
    if step is None:
        return "the input"
    if step.where is None:
        return step.label
    place, node = step.where
    return f"{step.label} (line {place.span(node).line})"


def problem_and_operands(violation) -> str:
    """An op that takes several tensors, in PyTorch's words and with each operand's shape and the step that made it:
    `a + b: The size of tensor a (16) must match ...; a (2, 16) from Conv2d (line 12), b (2, 32) from the input`."""
    operands = ", ".join(f"{name} {show_shape(t.shape)} from {came_from(t)}" for name, t in violation.operands)
    return f"{violation.label}: {violation.problem.rstrip('.')}; {operands}"
