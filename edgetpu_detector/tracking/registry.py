"""Model Registry: register the pipeline's Edge TPU model under a name, with what a user needs to pick it.

Registering the same convert run twice (a rerun whose steps all came from the cache) returns the existing
version instead of adding a duplicate.
"""
import mlflow
from mlflow.exceptions import MlflowException


def register_model_version(client, name, model_uri, run_id, tags):
    """Register ``model_uri`` (logged by run ``run_id``) as a version of registered model ``name``.

    Args:
      client: ``mlflow.tracking.MlflowClient`` on a tracking store with a Model Registry (SQL database
        or tracking server; not a plain ``file:`` store).
      tags: ``{key: value}`` set on the version (e.g. ``edgetpu_compiler``, ``eval/int8_tflite/mAP``);
        values are converted to str.

    Returns:
      (``ModelVersion``, created: bool).

    Raises:
      mlflow.exceptions.MlflowException: the store has no registry, or ``model_uri`` does not exist.
    """
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name, description="SSD detector exported for the Coral Edge TPU "
                                                         "(int8 TFLite served through MLflow pyfunc)")
    existing = client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
    if existing:
        version, created = existing[0], False
    else:
        version, created = mlflow.register_model(model_uri, name), True
    for key, value in tags.items():
        client.set_model_version_tag(name, version.version, key, str(value))
    return client.get_model_version(name, version.version), created
