"""MLflow plumbing of the pipeline: the tracking store and artifact names, the MLproject parameters, the step
runner with its cache and fingerprints, failure records and step logs, credential redaction, the parent
run's summary and the Model Registry.

May import: ``core``; MLflow. Nothing of the detector itself.
"""
