"""Command-line arguments of every step, derived from its MLproject declaration (the one place parameters are
declared: ``edgetpu_detector.tracking.parameters``)."""
import argparse
from dataclasses import fields

from edgetpu_detector.core.values import parse_list
from edgetpu_detector.tracking.parameters import entry_point_parameters
from edgetpu_detector.tracking.store import PROJECT_DIR


def _argument_type(parameter):
    def parse(text):
        try:
            return parameter.parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = parameter.kind  # argparse names the type in its error message
    return parse


def parse_args(entry_point, argv=None, description=None):
    """Parse the options of ``entry_point`` (``--num-steps 300`` for ``num_steps``) as declared in MLproject.

    Returns:
      dict ``{parameter name: value}``: ints, floats, bools and text as their declaration says; lists stay
      text (``parse_list`` splits them).
    """
    parser = argparse.ArgumentParser(prog=f"python -m steps.{entry_point}", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for parameter in entry_point_parameters(PROJECT_DIR, entry_point).values():
        default = None if parameter.required else parameter.parse(parameter.default)
        parser.add_argument(parameter.flag, dest=parameter.name, type=_argument_type(parameter), default=default,
                            required=parameter.required, help=f"{parameter.help} (default: {parameter.default!r})"
                            if not parameter.required else parameter.help)
    return vars(parser.parse_args(argv))


def config_from(cls, args, **values):
    """An instance of dataclass ``cls`` with the fields named like parameters taken from ``args`` (list
    parameters split into tuples), plus ``values``."""
    types = {f.name: f.type for f in fields(cls)}
    taken = {name: parse_list(value) if types[name] in (tuple, "tuple") else value
             for name, value in args.items() if name in types and name not in values}
    return cls(**taken, **values)
