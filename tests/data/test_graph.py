import pandas as pd

from rosetta.data.graph import find_components


def test_components_largest_first():
    frame = pd.DataFrame(
        {
            "model": ["a", "b", "b", "c", "x", "y"],
            "benchmark": ["B1", "B1", "B2", "B2", "Z", "Z"],
        }
    )
    components = find_components(frame)
    assert components == [(["a", "b", "c"], ["B1", "B2"]), (["x", "y"], ["Z"])]


def test_single_component_and_empty():
    frame = pd.DataFrame({"model": ["a", "b"], "benchmark": ["B", "B"]})
    assert len(find_components(frame)) == 1
    assert find_components(frame.iloc[:0]) == []
