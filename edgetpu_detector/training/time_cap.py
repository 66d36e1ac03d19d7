"""The wall-time cap of training (``TrainConfig.max_train_minutes``): the clock that measures the run, and the
re-plan that fits the steps to the time left (``edgetpu_detector.training.budget`` holds the
rule, ``replan_steps``)."""
import time

from edgetpu_detector.training.budget import replan_steps


class TrainingClock:
    """Training wall time of this run (``train_seconds``, in the checkpoint: it survives a resume), and the
    measured seconds per step (from the third step of this process on: the first ones trace) and per
    validation."""

    def __init__(self, train_seconds):
        self.train_seconds, self.last = train_seconds, time.perf_counter()
        self.step_seconds, self.steps, self.validation_seconds, self.validations = 0.0, 0, 0.0, 0

    def _tick(self):
        now = time.perf_counter()
        elapsed, self.last = now - self.last, now
        self.train_seconds.assign_add(elapsed)
        return elapsed

    def stepped(self, steps_this_process):
        elapsed = self._tick()
        if steps_this_process > 2:
            self.step_seconds, self.steps = self.step_seconds + elapsed, self.steps + 1

    def validated(self, seconds):
        self._tick()
        self.validation_seconds, self.validations = self.validation_seconds + seconds, self.validations + 1

    def seconds_per_step(self):
        return self.step_seconds / max(self.steps, 1)

    def seconds_per_validation(self):
        return self.validation_seconds / self.validations if self.validations else 0.0

    def total(self):
        return float(self.train_seconds.numpy())

    def eta(self, num_steps, current, validator):
        """Seconds the ``num_steps - current`` steps left will take, their validations included."""
        left = num_steps - current
        validations = left // validator.every + 1 if validator.enabled else 0
        return left * self.seconds_per_step() + validations * self.seconds_per_validation()


def format_duration(seconds):
    """``seconds`` (float) as ``"<m> min <ss> s"``."""
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


def replan_under_cap(planned, warmup, budget, num_steps, current, clock, validator, cap_seconds, bar):
    """Fit the plan to the time cap (no-op without one): shrink it to the steps that fit, or give steps back, up
    to ``budget``, once a slower stretch has passed (``replan_steps``); a warmup not yet over follows in
    proportion (never below the steps done), one that is over stays. Returns the steps planned."""
    if not cap_seconds:
        return num_steps
    every = validator.every if validator.enabled else 0
    fitted = replan_steps(budget, num_steps, current, clock.seconds_per_step(), clock.seconds_per_validation(),
                          every, cap_seconds - clock.total())
    if fitted != num_steps:
        old_warmup = int(warmup.numpy())
        if current < old_warmup:
            warmup.assign(max(current, round(old_warmup * fitted / num_steps)))
        planned.assign(fitted)
        validator.scale_interval(fitted)
        fits = "do not fit" if fitted < num_steps else "leave spare time"
        print(f"retrain: max_train_minutes {cap_seconds / 60:g}: {num_steps} steps {fits} at "
              f"{1.0 / clock.seconds_per_step():.2f} steps/s; re-planned to {fitted} steps: warmup "
              f"{int(warmup.numpy())} steps, the learning rate decays to 0 at the new end"
              + (f", validation every {validator.every} steps" if validator.enabled else ""), flush=True)
        bar.total = fitted
        bar.refresh()
    return fitted
