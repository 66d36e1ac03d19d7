"""argparse types shared by the step CLIs (MLflow passes numbers as the user typed them, e.g. ``300.0``)."""
import argparse


def whole_number(text):
    """Parse ``"300"`` or ``"300.0"`` as int 300; reject fractions and non-numbers with argparse's error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return int(value)
