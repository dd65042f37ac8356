"""Exceptions and warnings of rosetta; each subclasses a builtin so plain handlers still work."""

from __future__ import annotations

from collections.abc import Sequence

from rosetta.constants import MAX_LISTED_PROBLEMS


class RosettaError(Exception):
    """Base class of every error raised on purpose by rosetta."""


class DataValidationError(RosettaError, ValueError):
    """Input data that cannot become a valid score table.

    Parameters
    ----------
    problems
        One line per problem, each naming the row, column and value at fault.
    source
        Where the data came from (a path or ``"DataFrame"``), used in the message.
    """

    def __init__(self, problems: Sequence[str], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        where = f" in {self.source}" if self.source else ""
        shown = self.problems[:MAX_LISTED_PROBLEMS]
        more = len(self.problems) - len(shown)
        tail = f"; and {more} more" if more > 0 else ""
        if len(self.problems) == 1:
            return f"invalid scores{where}: {shown[0]}"
        return f"{len(self.problems)} problems{where}: " + "; ".join(shown) + tail


class DisconnectedGraphError(DataValidationError):
    """The model-benchmark graph has several components, so no single scale exists.

    Parameters
    ----------
    components
        Each component as a ``(models, benchmarks)`` pair of name lists, largest first.
    source
        Where the data came from, used in the message.
    """

    def __init__(
        self, components: Sequence[tuple[list[str], list[str]]], source: str | None = None
    ) -> None:
        self.components = list(components)
        described = [_describe_component(i, c) for i, c in enumerate(self.components, 1)]
        problem = (
            f"the model-benchmark graph has {len(self.components)} disconnected components and "
            "cannot be put on one scale (link them with a shared benchmark, or keep the largest "
            "with keep_largest_component / --keep-largest-component): " + "; ".join(described)
        )
        super().__init__([problem], source)


def _describe_component(index: int, component: tuple[list[str], list[str]]) -> str:
    models, benchmarks = component

    def head(names: list[str]) -> str:
        shown = ", ".join(repr(n) for n in names[:3])
        return shown + (f", +{len(names) - 3} more" if len(names) > 3 else "")

    return (
        f"component {index}: {len(models)} models ({head(models)}) "
        f"x {len(benchmarks)} benchmarks ({head(benchmarks)})"
    )


class DomainMapError(RosettaError, ValueError):
    """A benchmark -> domain map that cannot define a bifactor model."""


class IncompatibleFitError(RosettaError, ValueError):
    """A saved posterior that this version of rosetta cannot read."""


class InsufficientDataError(RosettaError, ValueError):
    """A fit without what an analysis needs (release dates, training compute, families)."""


class SamplingError(RosettaError, RuntimeError):
    """The sampler failed; the message says what to try next."""


class RosettaWarning(UserWarning):
    """Base of the warnings rosetta itself emits (shown by the CLI; others only with -v)."""


class ConvergenceWarning(RosettaWarning):
    """R-hat, effective sample size or divergences past the thresholds in `rosetta.constants`."""
