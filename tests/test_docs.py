"""The documentation site builds with warnings as errors and documents every public name."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs", reason="the docs extra is not installed: pip install -e '.[docs]'")

import rosetta
from rosetta.cli import cli

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built with ``--strict``, without running the notebooks and the examples."""
    out = tmp_path_factory.mktemp("docs") / "site"
    env = {**os.environ, "ROSETTA_DOCS_EXECUTE": "false", "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def public_modules() -> list[str]:
    found = ["rosetta", *(m.name for m in pkgutil.walk_packages(rosetta.__path__, "rosetta."))]
    return [name for name in found if not any(part.startswith("_") for part in name.split("."))]


def test_every_public_name_has_its_api_entry(site):
    html = "".join(page.read_text() for page in (site / "api").rglob("*.html"))
    documented = set(re.findall(r'id="(rosetta[\w.]*)"', html))
    expected = {
        f"{obj.__module__}.{obj.__qualname__}"
        for obj in (getattr(rosetta, name) for name in rosetta.__all__ if name != "__version__")
    }
    for name in public_modules():
        module = importlib.import_module(name)
        expected |= {name} | {
            f"{name}.{key}"
            for key, value in vars(module).items()
            if not key.startswith("_")
            and (inspect.isfunction(value) or inspect.isclass(value))
            and value.__module__ == name
        }
    missing = sorted(expected - documented)
    assert not missing, f"not in the API pages: {missing}"
    assert "rosetta.__version__" in html


def test_every_command_and_notebook_has_a_page(site):
    for name in cli.commands:
        page = (site / "commands" / name / "index.html").read_text()
        assert f"rosetta {name}" in page and "--help" in page
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        assert (site / "notebooks" / notebook.stem / "index.html").is_file()
