"""TF Object Detection API model-zoo detectors: registry, cached download, and import into our Keras models."""
