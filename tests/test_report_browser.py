"""The HTML report opened in a real headless Chromium (Playwright driving the system browser).

Skipped when Playwright or a Chromium is missing: ``apt-get install chromium`` (Debian) installs
the browser (``make browser`` does it), or ``ROSETTA_CHROMIUM`` names one. ``ROSETTA_REPORT``
points the test at an existing report (the bundled fit's, say) instead of a fresh synthetic one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import CHROMIUM_ARGS, chromium

pytestmark = pytest.mark.slow  # a fit, every analysis and a browser

CAPABILITY_PLOT = "capability-against-release-date"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    executable = chromium()
    if executable is None:
        pytest.skip(
            "no Chromium found: install Debian's `chromium` package (`make browser`) or set "
            "ROSETTA_CHROMIUM to a Chromium executable"
        )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A report with every section: dated models with training compute, families, a fit."""
    given = os.environ.get("ROSETTA_REPORT")
    if given:
        return Path(given)
    from rosetta.io import save_fit
    from rosetta.model import fit
    from rosetta.report import build_report
    from rosetta.simulate import simulate_progress

    folder = tmp_path_factory.mktemp("browser")
    frame, truth = simulate_progress(n_families=6, n_single=6, n_benchmarks=6, random_seed=2)
    size = truth.models.groupby("family").cumcount() + 1
    frame["model"] = frame["model"].map(lambda m: f"{truth.models.loc[m, 'family']}-{size[m]}b")
    save_fit(fit(frame, method="map", draws=200, chains=1, progress=False), folder / "fit.nc")
    return build_report(folder / "fit.nc", folder / "report.html")


@pytest.fixture(scope="module")
def opened(browser, report):
    """The report loaded: the page, the requests it made and its console errors.

    How fast it loads is measured by ``benchmarks/bench_report.py``, not here: a timed test on a
    shared machine fails on the machine's load, not on the page.
    """
    requests, errors = [], []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(report.resolve().as_uri(), wait_until="load")
    yield page, requests, errors
    page.close()


def test_opens_offline_and_without_errors(opened, report):
    _, requests, errors = opened
    assert report.stat().st_size < 8e6
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
    assert errors == []


def test_every_section_renders(opened):
    page = opened[0]
    sections = page.locator("section")
    assert sections.count() >= 5
    for i in range(sections.count()):
        box = sections.nth(i).bounding_box()
        assert box is not None and box["height"] > 50
    figures = page.locator("div.js-plotly-plot")
    assert figures.count() >= 2
    for i in range(figures.count()):
        assert figures.nth(i).locator("svg.main-svg").count() > 0
    images = page.eval_on_selector_all("img", "els => els.map(e => e.complete && e.naturalWidth)")
    assert images and all(width > 0 for width in images)


def test_hovering_a_point_shows_the_models_name(opened):
    page = opened[0]
    page.locator(f"#{CAPABILITY_PLOT}").scroll_into_view_if_needed()
    point = page.evaluate(
        """(id) => {
          const gd = document.getElementById(id);
          const trace = gd._fullData.find(t => t.name === "frontier models");
          const i = trace.x.length - 1;
          const layout = gd._fullLayout, box = gd.getBoundingClientRect();
          return {name: trace.customdata[i][0],
                  x: box.left + layout._size.l + layout.xaxis.d2p(trace.x[i]),
                  y: box.top + layout._size.t + layout.yaxis.d2p(trace.y[i])};
        }""",
        CAPABILITY_PLOT,
    )
    page.mouse.move(point["x"], point["y"])
    hover = page.wait_for_selector(f"#{CAPABILITY_PLOT} .hoverlayer .hovertext", timeout=5000)
    assert point["name"] in hover.text_content()


def test_a_table_sorts_on_click_and_filters(opened):
    page = opened[0]
    table = page.locator("#capabilities table.sortable").last
    header = table.locator("thead th", has_text="mean").first
    column = table.locator("thead th").all_text_contents().index("mean")

    def values():
        cells = table.locator(f"tbody tr td:nth-child({column + 1})").all_text_contents()
        return [float(v) for v in cells]

    header.click()
    assert values() == sorted(values())
    header.click()
    assert values() == sorted(values(), reverse=True)
    first = table.locator("tbody tr").first.locator("td").first.text_content()
    search = page.locator("#capabilities input.filter").last
    search.fill(first)
    shown = table.locator("tbody tr:visible")
    assert 1 <= shown.count() < table.locator("tbody tr").count()
    search.fill("")
