"""Copy the TFLite Model Metadata (and the packed labels.txt) of one model onto another: after compiling by hand
with ``edgetpu_compiler``, which drops it.

Usage: ``python -m tools.copy_metadata model_int8.tflite model_int8_edgetpu.tflite`` (rewrites the second).
"""
import sys

from edgetpu_detector.tflite.metadata.model_metadata import copy_metadata


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1])
        return 2
    print(f"wrote {copy_metadata(argv[0], argv[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
