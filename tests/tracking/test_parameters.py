"""Every parameter is declared once, in MLproject: the commands, the step CLIs, the driver's forwarding, the
config dataclasses and the README's table agree with it."""
from dataclasses import fields
import inspect
import re

import pytest

from edgetpu_detector.data.preprocess import preprocess
from edgetpu_detector.evaluation.evaluate import evaluate_detector
from edgetpu_detector.evaluation.forms import parse_forms
from edgetpu_detector.export.convert import convert_detector
from edgetpu_detector.inference.predict import predict
from edgetpu_detector.ssd.models.ssd import DetectorConfig
from edgetpu_detector.ssd.postprocess import NMSConfig
from edgetpu_detector.tflite.edgetpu_compiler import CompilerOptions
from edgetpu_detector.tracking.parameters import read_project
from edgetpu_detector.tracking.pipeline import DRIVER_PARAMETERS, RUNNER_PARAMETERS, STEPS, UPSTREAM, step_parameters
from edgetpu_detector.tracking.store import PROJECT_DIR
from edgetpu_detector.training.config import TrainConfig
from steps._args import parse_args
from tools.readme_tables import parameter_table

PROJECT = read_project(PROJECT_DIR)


@pytest.mark.parametrize("entry_point", sorted(PROJECT))
def test_each_command_passes_every_parameter_once(entry_point):
    command = PROJECT[entry_point]["command"]
    assert command.startswith(f"python -m steps.{entry_point} ")
    passed = re.findall(r"(--[a-z0-9-]+) \{([a-z0-9_]+)\}", command)
    assert sorted(name for _, name in passed) == sorted(PROJECT[entry_point]["parameters"])
    for flag, name in passed:
        assert flag == PROJECT[entry_point]["parameters"][name].flag


def test_the_driver_declares_and_forwards_every_step_parameter():
    main = PROJECT["main"]["parameters"]
    forwarded = set()
    for step in STEPS:
        declared = PROJECT[step]["parameters"]
        for name in step_parameters(step):
            assert declared[name] == main[name], f"{step}.{name} differs from main.{name}"
            forwarded.add(name)
        assert set(declared) - set(step_parameters(step)) <= set(UPSTREAM) | RUNNER_PARAMETERS
    assert set(main) == forwarded | DRIVER_PARAMETERS


def _defaults(function):
    return {name: p.default for name, p in inspect.signature(function).parameters.items()
            if p.default is not inspect.Parameter.empty}


def _check_defaults(entry_point, defaults, renamed=None):
    declared = PROJECT[entry_point]["parameters"]
    checked = 0
    for name, value in defaults.items():
        parameter = (renamed or {}).get(name, name)
        if parameter in declared:
            expected = declared[parameter].parse(declared[parameter].default)
            if declared[parameter].kind == "list":
                expected = tuple(item.strip() for item in expected.split(","))
            assert value == expected, f"{name}: {value!r} != MLproject {entry_point}.{parameter} {expected!r}"
            checked += 1
    return checked


def test_library_defaults_are_the_mlproject_defaults():
    # ``auto`` in MLproject, resolved from the data by plan_budget / resolve_val_fraction; the pipeline's time cap
    # (the library's callers run the steps they ask for).
    derived = {"num_steps", "warmup_steps", "validation_every", "early_stopping_patience", "max_train_minutes",
               "val_fraction"}
    assert _check_defaults("retrain", {f.name: f.default for f in fields(TrainConfig) if f.name not in derived}) >= 9
    assert _check_defaults("retrain", {f.name: f.default for f in fields(DetectorConfig)}) == 3
    assert _check_defaults("preprocess", {k: v for k, v in _defaults(preprocess).items() if k not in derived}) == 6
    assert _check_defaults("convert", _defaults(convert_detector)) == 1
    nms = {f.name: f.default for f in fields(NMSConfig) if f.name != "max_detections"}  # auto: from the data
    assert _check_defaults("convert", nms) == 3
    assert _check_defaults("convert", {f.name: f.default for f in fields(CompilerOptions)},
                           {"timeout_s": "edgetpu_timeout", "search_delegate": "edgetpu_search_delegate",
                            "num_segments": "edgetpu_num_segments",
                            "min_runtime_version": "edgetpu_min_runtime_version"}) == 4
    assert parse_forms(PROJECT["evaluate"]["parameters"]["eval_forms"].default) == _defaults(evaluate_detector)["forms"]
    assert _check_defaults("predict", _defaults(predict)) == 6


@pytest.mark.parametrize("entry_point", sorted(PROJECT))
def test_step_clis_take_the_declared_defaults(entry_point):
    declared = PROJECT[entry_point]["parameters"]
    required = [arg for p in declared.values() if p.required for arg in (p.flag, "x")]
    args = parse_args(entry_point, required)
    assert set(args) == set(declared)
    for name, parameter in declared.items():
        if not parameter.required:
            assert args[name] == parameter.parse(parameter.default)


def test_clis_parse_values_as_mlflow_passes_them():
    args = parse_args("convert", ["--data-run-id", "a", "--model-run-id", "b", "--use-regular-nms", "True",
                                  "--edgetpu-search-delegate", "false", "--edgetpu-num-segments", "2.0"])
    assert args["use_regular_nms"] is True and args["edgetpu_search_delegate"] is False
    assert args["edgetpu_num_segments"] == 2 and args["edgetpu_timeout"] == 600
    for bad in (["--use-regular-nms", "maybe"], ["--max-classes-per-detection", "2.5"]):
        with pytest.raises(SystemExit):
            parse_args("convert", ["--data-run-id", "a", "--model-run-id", "b", *bad])


def test_readme_parameter_table_is_generated_from_mlproject():
    readme = (PROJECT_DIR / "README.md").read_text()
    assert parameter_table(PROJECT_DIR, "main") in readme
