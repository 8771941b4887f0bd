"""What a shape function proves wrong, and the collector it reports to.

A violation names its kind (the kebab-case name of the rule that reports it); the rules in
`checks/rules/` turn violations into findings with messages. Only proofs are recorded: a dimension
that is unknown, or symbolic and able to fit, records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torchshape_lint.shapes import dims
from torchshape_lint.shapes.dims import Dim


@dataclass
class Violation:
    kind: str
    where: Any = field(repr=False)  # (unit, node) of the call to blame: the layer's constructor, or the functional call
    label: str  # the layer or operation, e.g. "Linear(in_features=25088)"
    tensor: Any = None  # the Tensor that arrived, with its trace
    declared: Any = None
    arriving: Any = None
    suggestion: str | None = None
    detail: dict = field(default_factory=dict)


@dataclass
class SizeCheck:
    """A declared size compared with a decided arriving one (for --verbose)."""

    where: Any
    label: str
    declared: Any
    arriving: Any
    agrees: bool
    names: tuple = ()  # the names visible at the layer's constructor call that hold the arriving size


@dataclass
class Application:
    """One layer or functional op applied to a tensor, with the static shapes before and after."""

    where: Any = field(repr=False)
    label: str
    before: Any
    after: Any  # a Tensor, or UNKNOWN when the output could not be known
    # The layers.Layer applied (None for an op): `where` is then the call that built the layer, a constructor
    # (`nn.Conv2d(...)`, applied elsewhere) or a functional call that builds one and applies it at once
    # (`F.max_pool2d(x, 2)`). Explain counts its parameters.
    layer: Any = field(default=None, repr=False)
    call_site: Any = field(default=None, repr=False)  # (place, node) of the call that applied the layer, if known

    @property
    def by_layer(self) -> bool:
        return self.layer is not None


class Collector:
    """Receives violations, the checks that were decided, and every layer application, during one build."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []
        self.checks: list[SizeCheck] = []
        self.applications: list[Application] = []
        self.layers_checked = 0
        self.layers_unknown = 0
        self.build_failed = False  # a layer PyTorch cannot build was reported: the build stops there in PyTorch
        # the first place tensors the evaluation held became unknown: (where, their names, why); the layers they
        # reach after it are not checked (explain's last row and --verbose name it)
        self.lost: tuple | None = None

    def report(self, violation: Violation) -> None:
        self.violations.append(violation)

    def applied(self, where: Any, label: str, before: Any, after: Any, layer: Any = None,
                call_site: Any = None) -> None:
        self.applications.append(Application(where, label, before, after, layer, call_site))

    def wrap_dims(self, where: Any, label: str, tensor: Any, wanted: Any, rank: int) -> tuple | None:
        """The indexes the dims in `wanted` name in a tensor of `rank` dimensions (dims.wrap_dim); at the first one
        out of range, a violation and None, as PyTorch raises at the first."""
        indexes = []
        for dim in wanted:
            index = dims.wrap_dim(dim, rank)
            if index is None:
                self.dim_problem(where, label, tensor, dims.dim_out_of_range(dim, rank))
                return None
            indexes.append(index)
        return tuple(indexes)

    def dim_problem(self, where: Any, label: str, tensor: Any, problem: str) -> None:
        """Dims PyTorch rejects for the rank that arrives, in PyTorch's words."""
        self.report(Violation("dim-out-of-range", where, label, tensor, detail={"problem": problem}))

    def size(self, kind: str, where: Any, label: str, tensor: Any, declared: Any, arriving: Dim,
             suggestion: str | None = None, names: dict | None = None, **detail: Any) -> bool:
        """Record a violation when `arriving` can never equal `declared`; say whether the check was decided.
        `names`: the plain-int names visible where the layer was built."""
        verdict = dims.can_equal(arriving, declared)
        if verdict is None:
            self.layers_unknown += 1
            return False
        self.layers_checked += 1
        holding = tuple(name for name, value in (names or {}).items() if isinstance(arriving, int) and value == arriving)
        self.checks.append(SizeCheck(where, label, declared, arriving, verdict, holding))
        if verdict is False:
            self.report(Violation(kind, where, label, tensor, declared, arriving, suggestion, detail))
        return True


NAMED_KINDS = ("channel-mismatch", "linear-in-features")


def in_users_terms(collectors: list) -> None:
    """Suggestions that hold for every build of a file: where a name visible at a layer's constructor call holds
    the arriving size in every run of that call (`planes`, in a block built with several widths), the violations
    there suggest the name; where no name does and the runs disagree on the size, each says that its number holds
    only there and what the others get (--fix then writes none). Where some run's check was not decided, the
    suggestions stay as they are."""
    runs: dict = {}
    checks: dict = {}
    for collector in collectors:
        for application in collector.applications:
            runs[key(application.where)] = runs.get(key(application.where), 0) + 1
        for check in collector.checks:
            checks.setdefault(key(check.where), []).append(check)
    for collector in collectors:
        for violation in collector.violations:
            decided = checks.get(key(violation.where), [])
            if violation.kind not in NAMED_KINDS or not isinstance(violation.arriving, int) \
                    or len(decided) != runs.get(key(violation.where)):
                continue
            # symbolic sizes (a build with no input) are left out, as --fix leaves them out: no number holds them
            concrete = [check for check in decided if isinstance(check.arriving, int)]
            common = [name for name in concrete[0].names if all(name in check.names for check in concrete)]
            if common:  # any of them holds it in every run: the first bound (parameters come first)
                violation.suggestion = common[0]
                violation.detail["named"] = True
            else:
                others = sorted({check.arriving for check in concrete} - {violation.arriving})
                if others:
                    violation.detail["others"] = others


def key(where: Any) -> Any:
    """A call's place, by identity: (unit, node)."""
    return None if where is None else (id(where[0]), id(where[1]))
