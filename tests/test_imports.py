import subprocess
import sys


def test_light_paths_do_not_import_pymc():
    code = (
        "import sys, rosetta, rosetta.prediction, rosetta.summary, rosetta.placement,"
        " rosetta.suggestion, rosetta.benchmark_placement, rosetta.saturation_forecast,"
        " rosetta.cli;"
        "assert 'pymc' not in sys.modules, 'pymc imported';"
        "assert 'arviz' not in sys.modules, 'arviz imported';"
        "assert 'numba' not in sys.modules, 'numba imported (only a query needs it)';"
        "print('ok')"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_lazy_top_level_api():
    import rosetta

    assert callable(rosetta.fit) and rosetta.load == rosetta.Fit.load
    assert rosetta.MeasurementSpec().likelihood == "beta"
    for name in rosetta.__all__:
        assert getattr(rosetta, name) is not None, name


def test_modules_are_not_shadowed_by_functions():
    import importlib

    import rosetta

    for name in rosetta.__all__:
        if callable(getattr(rosetta, name)) and not isinstance(getattr(rosetta, name), type):
            try:
                module = importlib.import_module(f"rosetta.{name}")
            except ModuleNotFoundError:
                continue
            raise AssertionError(f"rosetta.{name} is both a function and {module}")


def test_reading_a_saved_fit_does_not_import_pymc(tiny_fit):
    code = (
        "import sys, rosetta;"
        f"fit = rosetta.load({str(tiny_fit[1])!r});"
        "fit.summary(); fit.to_dict(); fit.table;"
        "assert 'pymc' not in sys.modules, 'pymc imported';"
        "print('ok')"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"
