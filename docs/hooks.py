"""MkDocs hooks: a page per `rosetta` command with an example run, and the notebooks.

Each command's page has its help and options (as ``--help`` gives them) and the output of its
runs in `EXAMPLES`, made in a scratch folder while the site builds. The notebooks are copied to
that folder before mkdocs-jupyter executes them, so what they write stays out of the repository.
Both run when mkdocs-jupyter's ``execute`` is on (``ROSETTA_DOCS_EXECUTE``, default true).
"""

from __future__ import annotations

import html
import inspect
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

from rosetta.cli import cli

log = logging.getLogger("mkdocs.hooks.rosetta")
ROOT = Path(__file__).parents[1]
ROSETTA = Path(sys.executable).with_name("rosetta")

#: Files the examples read: written to the scratch folder first, and shown on the page.
INPUTS = {
    "my_benchmark.csv": (
        "model,benchmark,score\n"
        "LLaMA-65B,MyBench,0.31\n"
        "gpt-4o-2024-05-13,MyBench,0.64\n"
        "claude-3-5-sonnet-20240620,MyBench,0.70\n"
    ),
}

#: The example runs, in order (later runs read what earlier ones wrote), each shown on the page
#: of its command. The fits use ``--method map`` (mode and Laplace approximation: seconds).
EXAMPLES = (
    "rosetta data --min-benchmarks 4 --since 2022-11-01",
    "rosetta fit --min-benchmarks 4 --since 2022-11-01 --method map --top 10 --quiet"
    " --out posterior.nc",
    "rosetta query posterior.nc --score 'GPQA diamond=0.71' --score MMLU=88%"
    " --score 'MATH level 5=75' --score 'SWE-Bench verified=0.45'",
    "rosetta query posterior.nc --score MMLU=0.78 --score GSM8K=0.71 --suggest 3",
    "rosetta place posterior.nc --scores my_benchmark.csv --floor MyBench=0.25",
    "rosetta saturation posterior.nc --benchmark 'SWE-Bench verified' --level 0.5 0.9",
    "rosetta trend posterior.nc --since 2023-06-01",
    "rosetta progress posterior.nc --no-sensitivity",
    "rosetta accelerate posterior.nc",
    "rosetta fit --min-benchmarks 4 --since 2022-11-01 --method map --domains metadata --top 5"
    " --quiet --out bifactor.nc",
    "rosetta compare bifactor.nc posterior.nc",
    "rosetta report posterior.nc --out report.html",
    "rosetta simulate --models 40 --benchmarks 10 --observed-fraction 0.5 --seed 1 --out sim.csv",
    "rosetta validate sim.csv --method map --folds 3",
    "rosetta calibrate --worlds 1 --null-worlds 2 --factors 1,4 --quiet --out calibration",
)

#: What a page says about its example beyond the common note.
NOTES = {
    "fit": "The default, `--method nuts`, samples the full posterior: about 40 s on 2 cores.",
    "calibrate": "Three worlds only, so the rule it prints is not one to use: the shipped rule "
    "comes from 150 null worlds, 90 at 2x and 30 at 4x (the README has the commands), about 70 "
    "minutes on 2 cores.",
}

#: The scratch folder of the build in progress.
_scratch: tempfile.TemporaryDirectory | None = None


@event_priority(50)  # before mkdocs-jupyter, which takes the notebooks added here
def on_files(files, config):
    """Add the command pages and the notebooks (copied to the scratch folder)."""
    global _scratch
    runs = {name: [] for name in cli.commands}
    for line in EXAMPLES:
        runs[shlex.split(line)[1]].append(line)
    if missing := [name for name, lines in runs.items() if not lines]:
        raise PluginError(f"docs/hooks.py: no example of rosetta {', '.join(missing)}")
    _scratch = tempfile.TemporaryDirectory(prefix="rosetta-docs-")
    work = Path(_scratch.name)
    execute = config.plugins["mkdocs-jupyter"].config["execute"]
    outputs = _run_examples(work) if execute else {}
    files.append(File.generated(config, "commands/index.md", content=_commands_index()))
    for name, command in cli.commands.items():
        page = _command_page(name, command, runs[name], outputs)
        files.append(File.generated(config, f"commands/{name}.md", content=page))
    if execute:
        report = str(work / "report.html")
        files.append(File.generated(config, "commands/report-example.html", abs_src_path=report))
    (work / "notebooks").mkdir()
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        name = f"notebooks/{notebook.name}"
        (work / name).write_bytes(notebook.read_bytes())
        # A file of the scratch folder, not File.generated: mkdocs-jupyter reads it from src_dir.
        files.append(File(name, str(work), config.site_dir, config.use_directory_urls))
    return files


def on_post_build(config):
    """Remove the scratch folder (what the examples and notebooks wrote)."""
    _scratch.cleanup()


def _run_examples(work: Path) -> dict[str, str]:
    """Run every example in ``work``; return its output (stdout and stderr) by command line."""
    for name, text in INPUTS.items():
        (work / name).write_text(text)
    outputs = {}
    for line in EXAMPLES:
        started = time.perf_counter()
        argv = shlex.split(line)
        done = subprocess.run(
            [str(ROSETTA), *argv[1:]],
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "MPLBACKEND": "Agg"},
        )
        if done.returncode:
            raise PluginError(f"{line} exited {done.returncode}:\n{done.stdout}")
        outputs[line] = "\n".join(row.split("\r")[-1].rstrip() for row in done.stdout.splitlines())
        log.info("ran %s (%.0f s)", line, time.perf_counter() - started)
    return outputs


def _commands_index() -> str:
    """The commands page: the group's usage and options, and a table of the commands."""
    context = click.Context(cli, info_name="rosetta", **cli.context_settings)
    rows = [
        f"| [`{name}`]({name}.md) | {_cell(_help(command).split(chr(10) * 2)[0])} |"
        for name, command in cli.commands.items()
    ]
    return "\n".join(
        [
            "# Commands",
            "",
            _help(cli),
            "",
            *_usage_and_options(cli, context),
            "| command | what it does |",
            "|---|---|",
            *rows,
            "",
            "Every command has `--help` (`-h`); those that print results print one JSON object "
            "with `--json`.",
            "",
        ]
    )


def _command_page(name: str, command: click.Command, lines: list[str], outputs: dict) -> str:
    """One command's page: its help, usage and options (as ``--help`` says them), and examples."""
    root = click.Context(cli, info_name="rosetta", **cli.context_settings)
    context = click.Context(command, info_name=name, parent=root)
    page = [
        f"# rosetta {name}",
        "",
        _help(command),
        "",
        *_usage_and_options(command, context),
        "## Example",
        "",
        "Run while this site was built, in an empty folder. `posterior.nc` and `bifactor.nc` are "
        "fits of the bundled Epoch AI data with `--method map`, to keep the build short: numbers "
        "read from them come from a Laplace approximation, not the NUTS posterior.",
        "",
    ]
    if name in NOTES:
        page += [NOTES[name], ""]
    if name == "report" and outputs:
        page += ["The report this run wrote: [report-example.html](report-example.html).", ""]
    for line in lines:
        for input_name in INPUTS.keys() & set(shlex.split(line)):
            page += [f"`{input_name}`:", "", "```text", INPUTS[input_name].rstrip(), "```", ""]
        output = outputs.get(line)
        page += ["```console", f"$ {line}", *([output] if output else []), "```", ""]
    if not outputs:
        page += ["!!! note", "    Not run in this build (`ROSETTA_DOCS_EXECUTE=false`).", ""]
    return "\n".join(page)


def _usage_and_options(command: click.Command, context: click.Context) -> list[str]:
    """The usage line and a table of the options, in the words of ``--help``."""
    records = (p.get_help_record(context) for p in command.get_params(context))
    return [
        "```text",
        command.get_usage(context),
        "```",
        "",
        "| option | description |",
        "|---|---|",
        *(f"| `{names}` | {_cell(text)} |" for names, text in records if text),
        "",
    ]


def _help(command: click.Command) -> str:
    """A command's help text, dedented."""
    return inspect.cleandoc(command.help or "")


def _cell(text: str) -> str:
    """Text for one Markdown table cell."""
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")
