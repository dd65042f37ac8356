"""Property-based tests of the readers: valid tables round-trip, invalid ones fail cleanly."""

import string

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rosetta.data import load_scores
from rosetta.errors import DataValidationError

names = (
    st.text(alphabet=string.ascii_letters + string.digits + " -_.", min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)
fast = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def valid_tables(draw):
    """A connected long table: a spanning chain of models and benchmarks plus random extras."""
    models = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    benchmarks = draw(st.lists(names.map(lambda n: "B " + n), min_size=1, max_size=5, unique=True))
    pairs = {(m, benchmarks[0]) for m in models} | {(models[0], b) for b in benchmarks}
    extra = draw(
        st.lists(st.tuples(st.sampled_from(models), st.sampled_from(benchmarks)), max_size=10)
    )
    pairs = sorted(pairs | set(extra))
    scores = draw(st.lists(st.floats(0, 1), min_size=len(pairs), max_size=len(pairs)))
    return pd.DataFrame(
        {"model": [p[0] for p in pairs], "benchmark": [p[1] for p in pairs], "score": scores}
    )


@fast
@given(valid_tables(), st.sampled_from(["float", "percent string", "wide"]), st.randoms())
def test_valid_tables_round_trip(frame, notation, rnd):
    shuffled = frame.sample(frac=1, random_state=rnd.randint(0, 1000))
    if notation == "percent string":
        shuffled = shuffled.assign(score=[f"{100 * s!r}%" for s in shuffled["score"]])
    if notation == "wide":
        shuffled = shuffled.pivot(index="model", columns="benchmark", values="score")
        shuffled = shuffled.reset_index()
    table = load_scores(shuffled, min_models=1, metadata=False)
    expected = frame.sort_values(["model", "benchmark"], ignore_index=True)
    got = table.scores
    assert got[["model", "benchmark"]].astype(str).equals(expected[["model", "benchmark"]])
    np.testing.assert_allclose(got["score"], expected["score"], rtol=1e-12, atol=1e-12)
    # the tidy output is itself a valid input that round-trips unchanged
    again = load_scores(got[["model", "benchmark", "score"]], min_models=1, metadata=False)
    assert again.sha256() == table.sha256()


cells = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-200, 200),
    st.text(max_size=8),
    st.sampled_from(["77%", "abc", "", " ", "1e5", "-0.1", "0.5%"]),
)


@fast
@given(
    st.lists(
        st.tuples(st.one_of(names, st.none()), st.one_of(names, st.none()), cells),
        min_size=0,
        max_size=8,
    ),
    st.sampled_from(["auto", "long", "wide"]),
)
def test_arbitrary_input_never_crashes_with_a_bare_traceback(rows, layout):
    frame = pd.DataFrame(rows, columns=["model", "benchmark", "score"])
    try:
        table = load_scores(frame, layout=layout, metadata=False)
    except DataValidationError as err:
        assert str(err) and "\n" not in str(err)
    else:
        assert table.scores["score"].between(0, 1).all()
        assert table.n_scores > 0
