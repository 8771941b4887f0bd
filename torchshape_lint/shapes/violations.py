"""What a shape function proves wrong, and the collector it reports to.

Each kind of violation is a dataclass with its own fields (what was declared, what arrived, the suggestion as a
value); its `kind` is the kebab-case name of the rule in `checks/rules/` that turns it into a finding and formats
its message. Only proofs are recorded: a dimension that is unknown, or symbolic and able to fit, records nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from torchshape_lint.shapes import dims
from torchshape_lint.shapes.dims import Dim


@dataclass(frozen=True)
class Suggestion:
    """The value a finding suggests writing, in the user's terms: the sizes whose product it is, as written
    (`16 * 4 * 4` for the features a flatten makes of (16, 4, 4)); or a name of the user's that holds it in every
    build (`planes`); or a number right for this build only, with what the other uses of the line get."""

    factors: tuple  # ints; their product is the value
    name: str | None = None  # a name visible at the layer's constructor call holding the value in every build
    others: tuple = ()  # the values other uses of the same line get: the number holds here only

    @property
    def value(self) -> int:
        return math.prod(self.factors)

    def __str__(self) -> str:
        return self.name or " * ".join(map(str, self.factors))


@dataclass
class Problem:
    """Something a rule reports. Each kind is a subclass with its own fields; `kind` is the kebab-case name of the
    rule that formats it (checks/rules/). A kind that adds no field is a plain subclass, a dataclass by inheritance:
    @dataclass on it would only make the same methods again at every start."""

    kind: ClassVar[str] = ""


@dataclass(frozen=True)
class Reading:
    """Which reading of a pragma's shape of rank 3 or less, a batch as written or one sample with the batch left
    out, a violation holds under (checks/models.py): `either`, with what the sample's reading gets instead where it
    differs; or `batch` / `sample`, the one an op that reads a known rank (at `line`) leaves."""

    which: str
    written: str  # the pragma's shape as it prints
    instead: Any = None
    line: int | None = None


@dataclass(frozen=True)
class ReadingRun:
    """A build's run on one reading of a pragma's shape of rank 3 or less (Collector.readings): `batch`, the shape as
    written, or `sample`, one sample with the batch left out; `refused_at`, the line of an op that reads a known rank
    and refuses this reading where the other one's run goes on (None: none does)."""

    which: str
    run: Any  # its Collector
    refused_at: int | None = None


@dataclass
class Violation(Problem):
    """A problem a shape function proves at a call: its place, the layer or op, the tensor that arrived there."""

    where: Any = field(repr=False)  # (unit, node) of the call to blame: the layer's constructor, or the functional call
    label: str  # the layer or operation, e.g. "Linear(in_features=25088)"
    tensor: Any = None  # the Tensor that arrived, with its trace
    declared: Any = None
    arriving: Any = None
    suggestion: Suggestion | None = None
    reading: Reading | None = field(default=None, kw_only=True)


class LinearInFeatures(Violation):
    kind: ClassVar[str] = "linear-in-features"


class ChannelMismatch(Violation):
    kind: ClassVar[str] = "channel-mismatch"


@dataclass
class OutputTooSmall(Violation):
    kind: ClassVar[str] = "output-too-small"
    size: Any = None  # the size that arrives in the dimension that becomes too small
    formula: str = ""  # PyTorch's formula on it, e.g. `floor((2 - 2) / 2) + 1`


@dataclass
class InputRank(Violation):
    kind: ClassVar[str] = "input-rank"
    origin: str = ""  # where the input came from when it is the model's own (a pragma's shape)


@dataclass
class ViewSize(Violation):
    """`declared`: the values the written sizes hold (one sample's, with -1 first); `arriving`: the tensor's."""

    kind: ClassVar[str] = "view-size"
    sizes: tuple = ()  # as written, -1 included
    whole: bool = False  # no -1: the written shape holds a number of values of its own

    @property
    def batch_wildcard(self) -> bool:
        """The -1 comes first, meant as the batch: the sizes after it are one sample's."""
        return bool(self.sizes) and isinstance(self.sizes[0], int) and self.sizes[0] == -1


@dataclass
class LastBatchSize(Violation):
    """`declared`: the loader's batch size, hard-coded first in `sizes`; `arriving`: the last batch's."""

    kind: ClassVar[str] = "last-batch-size"
    op: str = ""  # view or reshape
    sizes: tuple = ()  # as written
    dataset: str = ""
    length: int = 0  # of the dataset
    full: int = 0  # how many full batches it makes
    total: int = 0  # the values the last batch holds
    rebatched: tuple | None = None  # the shape the last batch silently gets; None: PyTorch raises


@dataclass
class StatedProblem(Violation):
    """A problem PyTorch states in its own words (`problem`)."""

    problem: str = ""


class LayerArguments(StatedProblem):
    kind: ClassVar[str] = "layer-arguments"


class DimOutOfRange(StatedProblem):
    kind: ClassVar[str] = "dim-out-of-range"


class TooFewValues(StatedProblem):
    kind: ClassVar[str] = "too-few-values"


class RecurrentState(StatedProblem):
    kind: ClassVar[str] = "recurrent-state"


@dataclass
class OperandsProblem(StatedProblem):
    """An op over several tensors: `operands`, (name, Tensor) each, as the message names them."""

    operands: tuple = ()


class MergeMismatch(OperandsProblem):
    kind: ClassVar[str] = "merge-mismatch"


class MatmulMismatch(OperandsProblem):
    kind: ClassVar[str] = "matmul-mismatch"


@dataclass
class PragmaProblem(Violation):
    comment: str = ""  # the pragma as written
    problem: str = ""


class BadPragma(PragmaProblem):
    kind: ClassVar[str] = "bad-pragma"


class MisplacedPragma(PragmaProblem):
    kind: ClassVar[str] = "misplaced-pragma"


# source/pragmas.py names what is wrong with a pragma by its rule's name
PRAGMA_PROBLEMS = {cls.kind: cls for cls in (BadPragma, MisplacedPragma)}


@dataclass
class InternalError(Problem):
    kind: ClassVar[str] = "internal-error"
    error: str = ""  # `Type: message`, one line


@dataclass
class UnreadableFile(Problem):
    kind: ClassVar[str] = "unreadable-file"
    error: str = ""


@dataclass
class ConfirmMismatch(Problem):
    """PyTorch's shapes at a layer differ from the static ones."""

    kind: ClassVar[str] = "confirm-mismatch"
    device: str = ""
    label: str = ""
    static: str = ""  # `(before) → (after)` as the static pass has them
    real: str = ""  # as PyTorch has them


@dataclass
class ConfirmFailure(Problem):
    """PyTorch raised where no static finding predicted it."""

    device: str = ""
    label: str = ""  # the layer it raised at, if any
    message: str = ""
    phase: str = ""  # import, build, run
    raised: bool = False  # PyTorch raised (else the model could not be tried: no torch, a missing file)


class ConfirmRuntimeError(ConfirmFailure):
    kind: ClassVar[str] = "confirm-runtime-error"


class ConfirmFailed(ConfirmFailure):
    kind: ClassVar[str] = "confirm-failed"


@dataclass(slots=True)  # one per layer applied, or check decided: 40 000 in a long cfg
class SizeCheck:
    """A declared size compared with a decided arriving one (for --verbose)."""

    where: Any
    label: str
    declared: Any
    arriving: Any
    agrees: bool
    names: tuple = ()  # the names visible at the layer's constructor call that hold the arriving size


@dataclass(slots=True)  # one per layer applied, or check decided: 40 000 in a long cfg
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
        # the first `for` loop a bound of the analysis stopped, (where, node): the evaluation went on after it, with
        # what the loop writes unknown (evaluate/statements.py, LoopShare); the run summary names it
        self.loop_stopped: tuple | None = None
        # for a pragma's shape of rank 3 or less that the first layer did not settle: a ReadingRun per reading, the
        # batch as written first (checks/models.py); explain shows them in place of this run
        self.readings: list[ReadingRun] = []
        # the model's input, and how many applications its constructor had made by then (checks/models.py): the
        # build's input is what the model ran on, not the first tensor an op of its constructor read
        self.model_input: Any = None
        self.input_at = 0

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
        self.report(DimOutOfRange(where, label, tensor, problem=problem))

    def size(self, kind: type, where: Any, label: str, tensor: Any, declared: Any, arriving: Dim,
             suggestion: Suggestion | None = None, names: dict | None = None) -> bool:
        """Record a violation of class `kind` when `arriving` can never equal `declared`; say whether the check was
        decided. `names`: the plain-int names visible where the layer was built."""
        verdict = dims.can_equal(arriving, declared)
        if verdict is None:
            self.layers_unknown += 1
            return False
        self.layers_checked += 1
        holding = tuple(name for name, value in (names or {}).items() if isinstance(arriving, int) and value == arriving)
        self.checks.append(SizeCheck(where, label, declared, arriving, verdict, holding))
        if verdict is False:
            self.report(kind(where, label, tensor, declared, arriving, suggestion))
        return True


NAMED_KINDS = (ChannelMismatch, LinearInFeatures)


def in_users_terms(collectors: list) -> None:
    """Suggestions that hold for every build of a file: where a name visible at a layer's constructor call holds
    the arriving size in every run of that call, and the runs get different sizes (`planes`, in a block built with
    several widths), the violations
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
            if not isinstance(violation, NAMED_KINDS) or not isinstance(violation.arriving, int) \
                    or len(decided) != runs.get(key(violation.where)):
                continue
            # symbolic sizes (a build with no input) are left out, as --fix leaves them out: no number holds them
            concrete = [check for check in decided if isinstance(check.arriving, int)]
            common = [name for name in concrete[0].names if all(name in check.names for check in concrete)]
            suggested = violation.suggestion or Suggestion((violation.arriving,))
            # a name is evidence only where it follows the size through runs that differ; one value may be a
            # coincidence (`n_classes` is 2 where 2 channels arrive)
            tracked = len({check.arriving for check in concrete}) > 1
            if common and tracked:  # any of them holds it in every run: the first bound (parameters come first)
                violation.suggestion = replace(suggested, name=common[0])
            else:
                others = sorted({check.arriving for check in concrete} - {violation.arriving})
                if others:
                    violation.suggestion = replace(suggested, others=tuple(others))


def key(where: Any) -> Any:
    """A call's place, by identity: (unit, node)."""
    return None if where is None else (id(where[0]), id(where[1]))
