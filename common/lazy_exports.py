"""Lazy public names for a package (PEP 562): import a submodule only when one of its names is first used.

Lets light consumers (the served TFLite model, ``predict`` on the CPU) import ``common.export`` or
``common.serving`` names without loading TensorFlow, which only the exporters need.
"""
import importlib
import sys


def lazy_exports(package, exports):
    """Module-level ``__getattr__`` and ``__dir__`` for ``package`` (its ``__name__``).

    Args:
      package: the package's ``__name__``.
      exports: ``{public name: submodule name}``.

    Returns:
      (``__getattr__``, ``__dir__``): assign them in the package's ``__init__``. ``__getattr__`` imports the
      submodule defining a public name on first access and caches the value in the package; any other name
      is tried as a submodule (``common.export.tflite`` after a bare ``import common.export``).
      Raises AttributeError for a name that is neither.
    """

    def __getattr__(name):
        module_name = exports.get(name)
        if module_name is None:
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as error:
                if error.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f"{package}.{module_name}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
