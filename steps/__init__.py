"""Thin command-line entry points, one per MLflow step, and the driver that chains them (``main``)."""
