"""The pipeline: which steps run in which order, what each reads from the steps before it, and which of the
driver's parameters each receives -- derived from the MLproject declarations, not listed by hand."""
from edgetpu_detector.tracking.parameters import entry_point_parameters
from edgetpu_detector.tracking.store import PROJECT_DIR

STEPS = ("preprocess", "retrain", "convert", "evaluate")
# Run ids a step receives from the steps before it: {parameter: step whose run it names}.
UPSTREAM = {"data_run_id": "preprocess", "model_run_id": "retrain", "convert_run_id": "convert"}
# Step parameters the runner sets itself (a persistent work folder, see ``StepRunner``).
RUNNER_PARAMETERS = frozenset({"output_dir"})
# Parameters of ``main`` that no step takes: they steer the driver.
DRIVER_PARAMETERS = frozenset({"force_rerun", "register_model_name"})


def step_parameters(entry_point, project_dir=PROJECT_DIR):
    """Names of the driver's parameters that ``entry_point`` takes (all of its own but the upstream run ids
    and those the runner sets)."""
    declared = entry_point_parameters(project_dir, entry_point)
    return tuple(n for n in declared if n not in UPSTREAM and n not in RUNNER_PARAMETERS)


def run_pipeline(runner, args, project_dir=PROJECT_DIR):
    """Run (or reuse) every step in order with its share of ``args`` and its upstream run ids.

    Args:
      runner: ``edgetpu_detector.tracking.runner.StepRunner``.
      args: ``{parameter: value}`` of the ``main`` entry point.

    Returns:
      ``{step: StepResult}`` in ``STEPS`` order.

    Raises:
      StepFailed: from the runner; the steps after the failed one do not run.
    """
    results = {}
    for step in STEPS:
        declared = entry_point_parameters(project_dir, step)
        upstream = {name: results[source].run_id for name, source in UPSTREAM.items() if name in declared}
        results[step] = runner.run(step, {n: args[n] for n in step_parameters(step, project_dir)}, upstream)
    return results
