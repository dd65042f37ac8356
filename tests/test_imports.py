import subprocess
import sys


def test_light_paths_do_not_import_pymc():
    code = (
        "import sys, rosetta, rosetta.predict, rosetta.summary, rosetta.query, rosetta.cli;"
        "assert 'pymc' not in sys.modules, 'pymc imported';"
        "assert 'arviz' not in sys.modules, 'arviz imported';"
        "print('ok')"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_lazy_top_level_api():
    import rosetta

    assert callable(rosetta.fit) and rosetta.load is rosetta.load_fit
    assert rosetta.MeasurementSpec().likelihood == "beta"
