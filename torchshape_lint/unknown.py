"""The one value the analysis cannot know. Anything computed from it is unknown too."""


class Unknown:
    """Absorbing: every operation on it yields it again. It never produces a finding."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "?"

    def __bool__(self) -> bool:  # pragma: no cover - a bug guard: truthiness must be decided by the evaluator
        raise TypeError("the truth of an unknown value must be decided by the evaluator")


UNKNOWN = Unknown()
