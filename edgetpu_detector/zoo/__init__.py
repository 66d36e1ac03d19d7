"""TF Object Detection API model-zoo detectors: the registry of known detectors, cached and verified
download, and the import of TF1 (TF-slim) weights into our Keras detectors.

May import: ``ssd``, ``core``.
"""
