"""The training budget follows the data (``plan_budget``), the time cap re-plans (``replan_steps``), and the
learning-rate schedule follows the planned steps, a re-planned end included."""
import pytest

from edgetpu_detector.training.budget import (
    DEFAULT_EPOCHS, MAX_AUTO_STEPS, MIN_AUTO_STEPS, SYNTHETIC_STEPS, plan_budget, replan_steps)
from edgetpu_detector.training.config import TrainConfig, learning_rate_schedule


def test_auto_steps_are_epochs_of_the_training_split_within_bounds():
    budget = plan_budget(144, 8)  # raccoon: 160 training images less 16 for validation
    assert budget.steps_per_epoch == 18 and budget.num_steps == DEFAULT_EPOCHS * 18
    assert budget.epochs == pytest.approx(DEFAULT_EPOCHS)
    assert plan_budget(104, 8).num_steps == DEFAULT_EPOCHS * 13  # issue 17's set: ~1200 steps converged
    assert plan_budget(16, 8).num_steps == MIN_AUTO_STEPS  # fruit_nuts: 2 steps an epoch
    assert plan_budget(5000, 8).num_steps == MAX_AUTO_STEPS
    assert plan_budget(144, 16, epochs=50).num_steps == max(MIN_AUTO_STEPS, 50 * 9)
    given = plan_budget(144, 8, num_steps="450.0")
    assert given.num_steps == 450 and given.epochs == pytest.approx(25) and given.rule == "num_steps given"


def test_auto_warmup_validation_and_patience_scale_with_the_steps():
    budget = plan_budget(104, 8, num_val=12)
    assert budget.warmup_steps == round(0.1 * budget.num_steps)
    assert budget.validation_every == round(budget.num_steps / 10) and budget.early_stopping_patience == 4
    no_val = plan_budget(104, 8, num_val=0)
    assert no_val.validation_every == 0 and no_val.early_stopping_patience == 0 and "no val split" in no_val.lines()[1]
    explicit = plan_budget(104, 8, num_val=12, warmup_steps=5, validation_every="50", early_stopping_patience=0)
    assert (explicit.warmup_steps, explicit.validation_every, explicit.early_stopping_patience) == (5, 50, 0)
    assert "budget: 1300 steps = 100.0 epochs of 104 training images" in budget.lines()[0]
    assert budget.metrics()["train/budget/num_steps"] == 1300


def test_the_synthetic_demo_keeps_its_short_budget_without_validation():
    budget = plan_budget(60, 8, num_val=6, synthetic=True)
    assert (budget.num_steps, budget.warmup_steps, budget.validation_every) == (SYNTHETIC_STEPS, 30, 0)


@pytest.mark.parametrize("bad", [dict(num_steps="many"), dict(num_steps=0), dict(epochs=0),
                                 dict(validation_every="-1"), dict(warmup_steps="2.5"),
                                 dict(validation_every=10, num_val=0)])
def test_bad_values_are_clear_errors(bad):
    with pytest.raises(ValueError):
        plan_budget(**{"num_train": 100, "batch_size": 8, **bad})
    with pytest.raises(ValueError, match="no training images"):
        plan_budget(0, 8)


def test_replan_fits_the_time_left_and_grows_back_only_to_the_budget():
    # 0.5 s a step, 10 s per validation every 100 steps: 0.6 s a step; 300 s left after step 20 -> 500 more
    assert replan_steps(2000, 2000, 20, 0.5, 10.0, 100, 300.0) == 520
    assert replan_steps(400, 400, 20, 0.5, 10.0, 100, 300.0) == 400
    assert replan_steps(400, 400, 20, 0.5, 0.0, 0, -5.0) == 21
    # a load spike at step 20 planned 520 steps; at step 300 the machine is quiet again: 600 s left fit 1000 more
    assert replan_steps(2000, 520, 300, 0.5, 10.0, 100, 600.0) == 1300
    assert replan_steps(1000, 520, 300, 0.5, 10.0, 100, 600.0) == 1000  # never beyond the budget
    # under GROW_MARGIN more steps or SHRINK_MARGIN fewer fit: the plan stays (no schedule jitter)
    assert replan_steps(2000, 1000, 300, 0.5, 0.0, 0, 360.0) == 1000
    assert replan_steps(2000, 1000, 300, 0.5, 0.0, 0, 348.0) == 1000  # 0.4 % short: within SHRINK_MARGIN
    assert replan_steps(2000, 1000, 300, 0.5, 0.0, 0, 340.0) == 980
    # a re-plan at the last step (a run resumed 20 steps before its end) keeps the end: no step past it
    assert replan_steps(30, 30, 30, 0.5, 0.0, 0, -5.0) == 30
    assert replan_steps(60, 30, 30, 0.5, 0.0, 0, 600.0) == 30


def test_schedule_follows_the_planned_steps_even_when_replanned():
    import tensorflow as tf

    config = TrainConfig(num_steps=100, learning_rate=0.01, warmup_steps=10)
    schedule = learning_rate_schedule(config)
    assert float(schedule(0)) == 0.0 and float(schedule(5)) == pytest.approx(0.005)
    assert float(schedule(10)) == pytest.approx(0.01) and float(schedule(55)) == pytest.approx(0.005, rel=1e-4)
    assert float(schedule(100)) == pytest.approx(0.0, abs=1e-9)
    planned = tf.Variable(100, dtype=tf.int64)
    moving = learning_rate_schedule(config, planned)
    planned.assign(50)
    assert float(moving(30)) == pytest.approx(0.005, rel=1e-4) and float(moving(50)) == pytest.approx(0.0, abs=1e-9)


def test_a_replan_scales_warmup_and_validation_interval(tmp_path):
    """``replan_under_cap`` with a measured 1 s a step and 5 s a validation, 100 s left at step 20 of 200; then
    the machine gets faster and steps are given back, up to the budget, a warmup that is over staying over."""
    from types import SimpleNamespace

    import tensorflow as tf

    from edgetpu_detector.training.time_cap import replan_under_cap
    from edgetpu_detector.training.validation import Validator

    config = TrainConfig(num_steps=200, warmup_steps=40, validation_every=20)
    validator = Validator(None, SimpleNamespace(num_classes=1), config, ["val.record"], None, tmp_path)
    clock = SimpleNamespace(seconds_per_step=lambda: 1.0, seconds_per_validation=lambda: 5.0, total=lambda: 20.0)
    planned, warmup = tf.Variable(200, dtype=tf.int64), tf.Variable(40, dtype=tf.int64)
    bar = SimpleNamespace(total=200, refresh=lambda: None)
    # 100 s at 1 + 5/20 = 1.25 s a step: 80 more steps
    assert replan_under_cap(planned, warmup, 200, 200, 20, clock, validator, 120.0, bar) == 100
    assert int(planned.numpy()) == 100 and int(warmup.numpy()) == 20 and validator.every == 10 and bar.total == 100
    assert replan_under_cap(planned, warmup, 200, 100, 20, clock, validator, 0.0, bar) == 100  # no cap: no change
    fast = SimpleNamespace(seconds_per_step=lambda: 0.2, seconds_per_validation=lambda: 1.0, total=lambda: 40.0)
    # at step 60: 80 s left at 0.2 + 1/10 s a step fit 266 more, but the budget is 200
    assert replan_under_cap(planned, warmup, 200, 100, 60, fast, validator, 120.0, bar) == 200
    assert int(planned.numpy()) == 200 and int(warmup.numpy()) == 20 and validator.every == 20 and bar.total == 200


def test_the_time_cap_stops_training_and_checkpoints(shared_dir, tmp_path):
    """A cap shorter than the first step (it traces the graph): training stops after it, checkpointed, and says
    that the cap stopped it."""
    from edgetpu_detector.data.preprocess import preprocess
    from edgetpu_detector.ssd.models.ssd import DetectorConfig
    from edgetpu_detector.training.loop import train

    data = preprocess(shared_dir / "datasets/fruit_nuts/data", tmp_path / "data", progress=False, num_workers=1)
    config = TrainConfig(num_steps=200, batch_size=2, warmup_steps=40, log_every=1, checkpoint_every=100,
                         max_train_minutes=0.001, image_every=0, precise_bn_batches=0)
    result = train(DetectorConfig(num_classes=data.num_classes, model="ssdlite_mobilenet_v2", image_size=96,
                                  alpha=0.35), str(data.train_record), tmp_path / "model", config, progress=False)
    assert result.steps_run == 1 and result.stopped_by == "time_cap"
    assert result.tags()["train/stopped_by"] == "time_cap"
    assert (tmp_path / "model" / "checkpoints" / "ckpt-1.index").is_file()


def test_a_slow_stretch_shrinks_the_plan_and_a_checkpoint_gives_the_steps_back(shared_dir, tmp_path, monkeypatch,
                                                                                capsys):
    """The loop with a simulated clock (wall time cannot be made slow and then fast on demand): at step 20 a
    step takes 2 s, so 60 s fit 50 of the 60 steps; at the checkpoint of step 40 the machine is fast again
    (0.1 s a step, 10 s spent) and the plan grows back to the budget, which training then runs to its end."""
    from edgetpu_detector.data.preprocess import preprocess
    from edgetpu_detector.ssd.models.ssd import DetectorConfig
    from edgetpu_detector.training import loop
    from edgetpu_detector.training.time_cap import TrainingClock

    class SimulatedClock(TrainingClock):
        def seconds_per_step(self):
            return 2.0 if self.steps < 30 else 0.1

        def total(self):
            return 0.0 if self.steps < 30 else 10.0

    monkeypatch.setattr(loop, "TrainingClock", SimulatedClock)
    data = preprocess(shared_dir / "datasets/fruit_nuts/data", tmp_path / "data", progress=False, num_workers=1)
    config = TrainConfig(num_steps=60, batch_size=2, warmup_steps=6, log_every=10, checkpoint_every=20,
                         max_train_minutes=1.0, image_every=0, precise_bn_batches=0)
    result = loop.train(DetectorConfig(num_classes=data.num_classes, model="ssdlite_mobilenet_v2", image_size=96,
                                       alpha=0.35), str(data.train_record), tmp_path / "model", config,
                        progress=False)
    out = capsys.readouterr().out
    assert "60 steps do not fit at 0.50 steps/s; re-planned to 50 steps" in out
    assert "50 steps leave spare time at 10.00 steps/s; re-planned to 60 steps" in out
    assert result.steps_run == 60 and result.planned_steps == 60 and result.stopped_by == "budget"


def test_validation_is_due_every_interval_and_once_at_a_replanned_end(tmp_path):
    from types import SimpleNamespace

    from edgetpu_detector.training.validation import Validator

    config = TrainConfig(num_steps=1800, warmup_steps=180, validation_every=150)
    validator = Validator(None, SimpleNamespace(num_classes=1), config, ["val.record"], None, tmp_path)
    assert [s for s in range(1, 1801) if validator.due(s, 1800)] == list(range(150, 1801, 150))
    # a plan re-planned to 1501 steps (raccoon, time cap): step 1500 no longer validates, 1501 does
    due = [s for s in range(1, 1502) if validator.due(s, 1501)]
    assert due == [*range(150, 1500, 150), 1501]
    assert [s for s in range(1, 1581) if validator.due(s, 1580)][-2:] == [1500, 1580]  # 80 >= 75: both
    config = TrainConfig(num_steps=100, warmup_steps=10)
    assert not any(Validator(None, SimpleNamespace(num_classes=1), config, None, None, tmp_path).due(s, 100)
                   for s in range(1, 101))  # no validation configured


def test_the_time_caps_stop_validates_the_last_weights(shared_dir, tmp_path, monkeypatch):
    """When the cap's hard stop comes before the planned end (a simulated clock: the time is up at step 27 of
    60; the clock counts steps from the third on), the weights of that step are validated too, so keep-best sees them. The val split here is the training
    record itself (fruit_nuts has too few images for one): only the mechanism is under test."""
    from edgetpu_detector.data.preprocess import preprocess
    from edgetpu_detector.ssd.models.ssd import DetectorConfig
    from edgetpu_detector.training import loop
    from edgetpu_detector.training.time_cap import TrainingClock

    class SimulatedClock(TrainingClock):
        def seconds_per_step(self):
            return 0.1

        def total(self):
            return 0.0 if self.steps < 25 else 100.0

    monkeypatch.setattr(loop, "TrainingClock", SimulatedClock)
    data = preprocess(shared_dir / "datasets/fruit_nuts/data", tmp_path / "data", progress=False, num_workers=1)
    config = TrainConfig(num_steps=60, batch_size=2, warmup_steps=6, log_every=10, checkpoint_every=20,
                         max_train_minutes=1.0, image_every=0, precise_bn_batches=0, validation_every=20)
    validated = []
    result = loop.train(DetectorConfig(num_classes=data.num_classes, model="ssdlite_mobilenet_v2", image_size=96,
                                       alpha=0.35), str(data.train_record), tmp_path / "model", config,
                        progress=False, validation_records=str(data.train_record), names_to_ids=data.names_to_ids,
                        on_metrics=lambda step, m: validated.append(step) if "val/mAP" in m else None)
    assert result.stopped_by == "time_cap" and result.steps_run == 27
    assert validated == [20, 27]
    assert (tmp_path / "model" / "checkpoints" / "ckpt-27.index").is_file()
