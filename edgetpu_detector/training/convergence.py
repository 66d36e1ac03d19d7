"""Had training converged? Read from the validation curve, so that an undertrained model is said to be one.

The rule: the curve is *still rising* when the best val mAP of its last third of validations beats the best of
all the validations before by more than ``MIN_RISE``. Measured (README, Training budget and validation):
with SSD's random crop on (the default then), playing_cards' default run stopped by the time cap rose 0.429 ->
0.486 and was far from converged (twice the steps: AP50 +0.12 on test); raccoon's rose 0.622 -> 0.626 and twice
the steps gave nothing. None of the current defaults' curves is flagged: twice their steps moved AP50 by 0.013
at most.
"""
MIN_RISE = 0.02  # val mAP: above the spread of neighbouring validations on ~30 val images
MIN_VALIDATIONS = 3


def _rise(curve):
    """(validations in the last third, best val mAP before them, best in them), or None below MIN_VALIDATIONS."""
    if len(curve) < MIN_VALIDATIONS:
        return None
    last = max(1, len(curve) // 3)
    return last, max(m for _, m in curve[:-last]), max(m for _, m in curve[-last:])


def still_rising(curve, min_rise=MIN_RISE):
    """True when the validation curve was still rising at its end (the rule above).

    Args:
      curve: list of ``(step, val mAP)`` in step order.
      min_rise: float, the gain in val mAP that counts.

    Returns:
      bool, or None with fewer than ``MIN_VALIDATIONS`` validations (nothing to tell).
    """
    rise = _rise(curve)
    return None if rise is None else rise[2] - rise[1] > min_rise


def convergence_hint(curve, stopped_by):
    """A console line when ``curve`` (see ``still_rising``) was still rising at the end of training, saying what
    would give it more training (``stopped_by``: ``time_cap`` or ``budget``); else None (also after early
    stopping, which saw no gain for its patience)."""
    if stopped_by == "early_stopping" or not still_rising(curve):
        return None
    last, before, after = _rise(curve)
    more = ("raise max_train_minutes, or train on a faster machine (a GPU)" if stopped_by == "time_cap"
            else "raise epochs or num_steps")
    return (f"retrain: val mAP was still rising when training stopped ({before:.3f} before the last "
            f"{last} validations, {after:.3f} in them): the model has not converged; more training would likely "
            f"help: {more}")
