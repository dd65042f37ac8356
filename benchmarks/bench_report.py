"""Time how long the HTML report takes to open in headless Chromium (Playwright).

Usage::

    .venv/bin/python benchmarks/bench_report.py [--report FILE] [--repeats 7]

Without --report it builds the bundled fit's report (``results/report.html``, from
``results/posterior.nc``, fitting the bundled data first when that file is missing). Each repeat
opens the file in a new page and waits for the load event; it prints the file size and the
median, fastest and slowest load (the README quotes the figure; the budget is 2 s on a 2-core
machine). Needs Playwright and a Chromium (``make browser``, or ``ROSETTA_CHROMIUM``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import CHROMIUM_ARGS, chromium


def bundled_report() -> Path:
    from rosetta.data import load_epoch
    from rosetta.io import save_fit
    from rosetta.model import fit
    from rosetta.report import build_report

    posterior, report = Path("results/posterior.nc"), Path("results/report.html")
    if not posterior.is_file():
        posterior.parent.mkdir(exist_ok=True)
        save_fit(fit(load_epoch(min_benchmarks=4, since="2022-11-01"), progress=False), posterior)
    return build_report(posterior, report)


def load_times(report: Path, repeats: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    executable = chromium()
    if executable is None:
        sys.exit("no Chromium found: `make browser`, or set ROSETTA_CHROMIUM")
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        for _ in range(repeats):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            start = time.perf_counter()
            page.goto(report.resolve().as_uri(), wait_until="load")
            times.append(time.perf_counter() - start)
            page.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="an HTML report (default: the bundled fit's)")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    report = args.report or bundled_report()
    times = load_times(report, args.repeats)
    print(
        f"{report}: {report.stat().st_size / 1e6:.1f} MB; load over {args.repeats} opens: "
        f"median {statistics.median(times):.2f} s, fastest {min(times):.2f} s, "
        f"slowest {max(times):.2f} s"
    )


if __name__ == "__main__":
    main()
