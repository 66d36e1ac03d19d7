"""Parameter values as users and MLflow spell them: one parser per kind, used by the step CLIs, the step
cache and the library alike.

MLflow passes every parameter as text, numbers as the user typed them (``300``, ``300.0``, ``3e2``) and
YAML booleans as Python prints them (``False``).
"""

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def parse_bool(text):
    """``true/false``, ``1/0``, ``yes/no``, ``on/off`` (any case, surrounding spaces ignored) or a bool -> bool.

    Raises:
      ValueError: any other value (the message quotes it).
    """
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ValueError(f"not a boolean (true/false): {text!r}")


def parse_whole_number(text):
    """``"300"``, ``"300.0"`` or ``"3e2"`` -> int 300.

    Raises:
      ValueError: not a number, or not a whole number (the message quotes it).
    """
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"not a number: {text!r}") from None
    if not value.is_integer():
        raise ValueError(f"not a whole number: {text!r}")
    return int(value)


def parse_list(text):
    """``"a, b,,c"`` -> ``("a", "b", "c")``: a comma-separated list, items stripped, empty items dropped."""
    return tuple(item.strip() for item in str(text).split(",") if item.strip())
