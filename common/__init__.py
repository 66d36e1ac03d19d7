"""Library shared by the MLflow steps: data preparation, SSD models, training, evaluation, conversion.

Nothing in this package reads ``sys.argv``; the thin command-line modules in ``steps/`` do that.
"""
