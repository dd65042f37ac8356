"""The README's Python examples run, in order, on the bundled data (few draws)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"


def python_blocks(section: str = "## Python") -> list[str]:
    """The ```python blocks of one section of the README, in order."""
    text = README.read_text()
    start = text.index(f"\n{section}\n")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start : end if end > 0 else None], re.S)


def test_the_python_section_has_an_example_per_result_type():
    code = "\n".join(python_blocks())
    calls = ("fit(", "query(", "suggest(", "place(", "saturation(", "trend(", "progress(")
    for call in (*calls, "accelerate(", "validate(", "compare("):
        assert f"rosetta.{call}" in code, call
    for method in ("summary()", "to_dict()", "plot_data()", "plot("):
        assert method in code, method


@pytest.mark.slow
def test_the_python_examples_run(tmp_path, monkeypatch):
    """Quick settings: whole fits with few draws, cross-validation and spec choice by MAP folds.

    (With NUTS folds of the default length the spec choice alone took some 20 minutes on CI.)
    """
    import rosetta.model
    import rosetta.selection
    import rosetta.validation

    fit = rosetta.model.fit
    by_map = [(rosetta.validation, "cross_validate"), (rosetta.selection, "choose_spec")]
    for module, name in by_map:
        monkeypatch.setattr(module, name, functools.partial(getattr(module, name), method="map"))

    def quick_fit(*args, **kwargs):
        kwargs.setdefault("draws", 150)
        kwargs.setdefault("tune", 150)
        kwargs.setdefault("min_ess", None)  # exactly those draws, converged or not
        kwargs.update(progress=False, warn=False)
        return fit(*args, **kwargs)

    monkeypatch.setattr(rosetta.model, "fit", quick_fit)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
    assert isinstance(namespace["fit"], namespace["rosetta"].Fit)
    assert (tmp_path / "trend.png").exists() and (tmp_path / "posterior.nc").exists()
