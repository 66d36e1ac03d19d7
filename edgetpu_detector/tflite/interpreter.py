"""The TFLite interpreter (``ai_edge_litert``), on the CPU or through Coral's Edge TPU delegate.

Source: Coral docs, "Run inference with TensorFlow Lite in Python": ``load_delegate('libedgetpu.so.1')``
passed as ``experimental_delegates``; a model compiled for the Edge TPU (``*_edgetpu.tflite``, holding
``edgetpu-custom-op``) runs only with it.
"""
import ctypes
from pathlib import Path

from edgetpu_detector.tflite.edgetpu_compiler import COMPILED_SUFFIX

EDGETPU_LIBRARY = "libedgetpu.so.1"


def is_compiled_for_edgetpu(path):
    """True when ``path`` names a model compiled by ``edgetpu_compiler`` (by its file name)."""
    return Path(path).name.endswith(COMPILED_SUFFIX)


def load_edgetpu_delegate():
    """Coral's Edge TPU delegate (``libedgetpu.so.1`` through ``ai_edge_litert``'s ``load_delegate``).

    The library is looked up first (``ctypes``), so that its absence is one clear error and not the half-built
    ``Delegate`` that ``load_delegate`` leaves behind (its ``__del__`` then raises AttributeError).

    Raises:
      ValueError: the library is absent or cannot be loaded, or the delegate fails (no Edge TPU attached).
    """
    try:
        ctypes.CDLL(EDGETPU_LIBRARY)
    except OSError as error:
        raise ValueError(f"the Edge TPU runtime {EDGETPU_LIBRARY} cannot be loaded: {error}") from None
    from ai_edge_litert.interpreter import load_delegate

    return load_delegate(EDGETPU_LIBRARY)


def edgetpu_runtime_available():
    """True when the Edge TPU runtime delegate (``libedgetpu.so.1``) loads, i.e. a Coral device can be used.

    Any failure to load it (library absent, no device) gives False.
    """
    try:
        load_edgetpu_delegate()
    except (ValueError, OSError, RuntimeError, ImportError):
        return False
    return True


def make_interpreter(path, edgetpu=False, num_threads=None, default_delegates=True):
    """Load a ``.tflite`` model into an ``ai_edge_litert`` Interpreter with tensors allocated.

    Args:
      path: ``.tflite`` file.
      edgetpu: load the Edge TPU delegate (``libedgetpu.so.1``) for a ``*_edgetpu.tflite``.
      num_threads: CPU threads, or None for the runtime's default.
      default_delegates: False runs the builtin kernels without the default XNNPACK delegate.

    Raises:
      FileNotFoundError: no such file. ValueError: the Edge TPU delegate cannot be loaded.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no TFLite model at {path}")
    delegates = [load_edgetpu_delegate()] if edgetpu else None
    resolver = OpResolverType.AUTO if default_delegates else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    interpreter = Interpreter(str(path), experimental_delegates=delegates, num_threads=num_threads,
                              experimental_op_resolver_type=resolver)
    interpreter.allocate_tensors()
    return interpreter
