"""Evaluation charts with matplotlib: precision-recall curves, confusion matrix, score histogram."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_pr_curves(evaluation, path, iou=0.5):
    """Precision-recall curve per class at one IoU threshold (pycocotools' interpolated precision).

    Args:
      evaluation: ``edgetpu_detector.evaluation.coco_metrics.CocoEvaluation``.
      path: PNG file to write.
      iou: IoU threshold, one of ``evaluation.iou_thresholds``.

    Returns:
      path.
    """
    fig, ax = plt.subplots(figsize=(6, 5), dpi=100)
    if evaluation.precision is not None:
        t = int(np.argmin(np.abs(evaluation.iou_thresholds - iou)))
        for k, name in enumerate(evaluation.category_names):
            precision = evaluation.precision[t, :, k]
            if np.all(precision < 0):
                continue
            ap = float(precision[precision > -1].mean())
            ax.plot(evaluation.recall_thresholds, np.clip(precision, 0, 1), label=f"{name} (AP{round(iou * 100)} {ap:.3f})")
        ax.legend(loc="lower left", fontsize="small")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
           title=f"Precision-recall at IoU {iou:.2f}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_confusion_matrix(matrix, class_names, path, score_threshold, iou_threshold):
    """Heat map of ``edgetpu_detector.evaluation.confusion.confusion_matrix`` (index 0 = background). Returns path."""
    labels = ["background"] + list(class_names)
    n = len(labels)
    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * n, 1.0 + 0.6 * n), dpi=100)
    ax.imshow(matrix, cmap="Blues")
    for i in range(n):
        for j in range(n):
            value = int(matrix[i, j])
            ax.text(j, i, str(value), ha="center", va="center",
                    color="white" if value > matrix.max() / 2 else "black", fontsize="small")
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set(xlabel="predicted", ylabel="true",
           title=f"Confusion (score >= {score_threshold:g}, IoU >= {iou_threshold:g})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_score_histogram(tp_scores, fp_scores, path):
    """Histogram of detection scores for true and false positives (IoU 0.5). Returns path."""
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    bins = np.linspace(0, 1, 41)
    ax.hist(fp_scores, bins=bins, alpha=0.6, label=f"false positives ({len(fp_scores)})", color="tab:red")
    ax.hist(tp_scores, bins=bins, alpha=0.6, label=f"true positives ({len(tp_scores)})", color="tab:green")
    ax.set_yscale("log")
    ax.set(xlabel="score", ylabel="detections", title="Scores of true and false positives (IoU 0.5)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
