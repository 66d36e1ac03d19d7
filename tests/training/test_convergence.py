"""The still-rising rule on the validation curves measured by ``bench.training_budget`` (real data, the
deployed model's test figures beside them say which runs had converged)."""
import json
from pathlib import Path

from edgetpu_detector.training.convergence import convergence_hint, still_rising

RESULTS = json.loads((Path(__file__).resolve().parents[2] / "bench/training_budget_results.json").read_text())


def _curve(variant, dataset, run):
    return [tuple(point[:2]) for point in RESULTS[variant]["datasets"][dataset][run]["val_curve"]]


def test_an_undertrained_run_is_told_and_a_converged_one_is_not():
    # With SSD's random crop, playing_cards' default: twice the steps gave +0.12 AP50 on test -> rising;
    # raccoon's: twice gave nothing
    assert still_rising(_curve("ssd_random_crop", "playing_cards", "default")) is True
    assert still_rising(_curve("ssd_random_crop", "raccoon", "default")) is False
    assert still_rising(_curve("ssd_random_crop", "raccoon", "double")) is False
    assert still_rising(_curve("trainable_backbone_stages_2", "raccoon", "double")) is False
    assert still_rising(_curve("trainable_backbone_stages_2", "playing_cards", "default")) is True
    # The current defaults (no crop): twice the steps changed AP50 by +0.013 and -0.005 -> converged
    for dataset in ("playing_cards", "raccoon"):
        for run in ("default", "double"):
            assert still_rising(_curve("current", dataset, run)) is False


def test_the_hint_says_what_to_raise():
    curve = _curve("ssd_random_crop", "playing_cards", "default")
    hint = convergence_hint(curve, "time_cap")
    assert hint.startswith("retrain: val mAP was still rising when training stopped (0.429 before the last 3 "
                           "validations, 0.486 in them)")
    assert hint.endswith("raise max_train_minutes, or train on a faster machine (a GPU)")
    assert convergence_hint(curve, "budget").endswith("raise epochs or num_steps")
    assert convergence_hint(curve, "early_stopping") is None
    assert convergence_hint(_curve("ssd_random_crop", "raccoon", "default"), "time_cap") is None
    assert convergence_hint(_curve("current", "playing_cards", "default"), "time_cap") is None
    assert still_rising([(100, 0.1), (200, 0.5)]) is None and convergence_hint([(100, 0.1)], "budget") is None
