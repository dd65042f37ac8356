"""rosetta report: one self-contained HTML file with every section."""

from __future__ import annotations

import re

import pytest

from rosetta.cli import main


@pytest.mark.parametrize("static", [False, True])
def test_report_is_self_contained(tiny_fit, tmp_path, capsys, static):
    out = tmp_path / "report.html"
    flags = ["--static"] if static else []
    assert main(["report", str(tiny_fit[1]), "--out", str(out), "--icc", "b01", *flags]) == 0
    page = out.read_text()
    for section in ("Data", "Capabilities and the frontier", "Benchmarks", "Fit checks"):
        assert f"<h2>{section}</h2>" in page
    # The ladder is interactive (Plotly, inlined) unless --static asks for images only.
    assert page.count("data:image/png;base64,") >= (5 if static else 4)
    assert ("js-plotly-plot" in page or "Plotly.newPlot" in page) is not static
    # Nothing is fetched from elsewhere when the page opens: scripts and styles are inline (the
    # markup outside the inline scripts is checked here; the browser test watches the requests).
    assert not re.search(r"<script[^>]*\ssrc\s*=", page, re.IGNORECASE)
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.DOTALL)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup, re.IGNORECASE)
    styles = "".join(re.findall(r"<style>(.*?)</style>", page, re.DOTALL))
    assert "@import" not in styles and "url(" not in styles
    # Every table sorts and filters (the page's own script).
    assert 'class="dataframe sortable"' in page and "aria-sort" in page
    # The tiny table has no dates or compute: those analyses say why they are absent.
    assert "No trend" in page and "Not estimated" in page and "Not forecast" in page
    assert "wrote" in capsys.readouterr().out


@pytest.mark.slow  # end to end: fits, then every analysis
def test_report_with_dates_has_the_trend(tmp_path):
    from rosetta.io import save_fit
    from rosetta.model import fit
    from rosetta.report import build_report
    from rosetta.simulate import simulate_progress

    frame, truth = simulate_progress(n_families=6, n_single=6, n_benchmarks=6, random_seed=2)
    size = truth.models.groupby("family").cumcount() + 1
    frame["model"] = frame["model"].map(lambda m: f"{truth.models.loc[m, 'family']}-{size[m]}b")
    idata = fit(frame, method="map", draws=200, chains=1, progress=False)
    path = tmp_path / "dated.nc"
    save_fit(idata, path)
    validation = {"folds": 5, "rmse": 0.1, "mae": 0.08, "coverage": 0.9, "n_heldout": 50}
    page = build_report(path, tmp_path / "r.html", validation=validation).read_text()
    assert "Frontier growth" in page and "Efficiency gain per year" in page
    assert "Held-out accuracy" in page
    assert "<h2>Saturation forecast</h2>" in page and "already reached" in page
