"""The README's Python examples run, in order, on the bundled data (few draws)."""

from __future__ import annotations

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
    import rosetta.model

    fit = rosetta.model.fit

    def quick_fit(*args, **kwargs):
        kwargs.setdefault("draws", 150)
        kwargs.setdefault("tune", 150)
        kwargs.update(progress=False, warn=False)
        return fit(*args, **kwargs)

    monkeypatch.setattr(rosetta.model, "fit", quick_fit)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
    assert isinstance(namespace["fit"], namespace["rosetta"].Fit)
    assert (tmp_path / "trend.png").exists() and (tmp_path / "posterior.nc").exists()
