"""Parsing of parameter values as users and MLflow spell them."""
import pytest

from edgetpu_detector.core.values import parse_bool, parse_list, parse_whole_number


def test_whole_number_accepts_mlflow_float_spelling():
    assert parse_whole_number("300") == 300 and parse_whole_number("300.0") == 300 and parse_whole_number("3e2") == 300
    with pytest.raises(ValueError, match="not a whole number"):
        parse_whole_number("2.5")
    with pytest.raises(ValueError, match="not a number"):
        parse_whole_number("abc")


def test_booleans_in_every_spelling():
    for text in ("true", "True", " YES ", "1", "on", True):
        assert parse_bool(text) is True
    for text in ("false", "False", "no", "0", "OFF", False):
        assert parse_bool(text) is False
    with pytest.raises(ValueError, match="not a boolean"):
        parse_bool("maybe")


def test_lists_drop_spaces_and_empty_items():
    assert parse_list(" crop, flip,,photometric ") == ("crop", "flip", "photometric")
    assert parse_list("") == ()
