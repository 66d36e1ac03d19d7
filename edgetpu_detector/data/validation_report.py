"""The validation report: every issue found in a dataset, with counts, as JSON and CSV, and a console summary.

Files (written by ``write_validation_report``):

* ``validation_report.json``: ``{"data_dir", "format", "formats_found", "split_source", "test_fraction",
  "seed", "label_map", "counts", "issues_by_code": {code: {"policy", "count", "meaning"}}, "summary",
  "num_warnings", "warnings": [{"code", "file", "problem", "action"}, ...]}``;
* ``validation_report.csv``: one row per issue, columns ``code,policy,file,problem,action``.

Policies and codes: edgetpu_detector.data.issues.POLICIES.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from edgetpu_detector.data.issues import POLICIES

REPORT_JSON = "validation_report.json"
REPORT_CSV = "validation_report.csv"


def issues_by_code(warnings: list[dict]) -> dict[str, dict]:
    """``{code: {"policy", "count", "meaning"}}`` for the codes present, sorted by code."""
    out: dict[str, dict] = {}
    for item in warnings:
        entry = out.setdefault(item["code"], {"policy": POLICIES[item["code"]][0], "count": 0,
                                              "meaning": POLICIES[item["code"]][1]})
        entry["count"] += 1
    return dict(sorted(out.items()))


def write_validation_report(report: dict, output_dir) -> tuple[Path, Path]:
    """Write ``report`` (the dict in the module docstring, without ``issues_by_code``, added here) as JSON
    and its warnings as CSV into ``output_dir``; returns (json path, csv path)."""
    output_dir = Path(output_dir)
    report = dict(report)
    report["issues_by_code"] = issues_by_code(report["warnings"])
    report["num_warnings"] = len(report["warnings"])
    json_path = output_dir / REPORT_JSON
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    csv_path = output_dir / REPORT_CSV
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("code", "policy", "file", "problem", "action"))
        for item in report["warnings"]:
            writer.writerow((item["code"], POLICIES[item["code"]][0], item["file"], item["problem"], item["action"]))
    return json_path, csv_path


def console_summary(report: dict, examples: int = 2) -> str:
    """A few lines for the console: boxes in/kept/skipped, then one line per issue code with examples."""
    counts = report["counts"]
    lines = [f"{report.get('format', '?')} dataset: {counts['images_kept']} images kept, "
             f"{counts['images_skipped']} skipped; boxes in {counts['boxes_in']} = kept {counts['boxes_kept']} "
             f"+ skipped {counts['boxes_skipped']} ({counts['boxes_clipped']} clipped)"]
    grouped: dict[str, list[dict]] = {}
    for item in report["warnings"]:
        grouped.setdefault(item["code"], []).append(item)
    for code in sorted(grouped):
        items = grouped[code]
        policy = POLICIES[code][0]
        shown = "; ".join(f"{i['file']}: {i['problem']} -> {i['action']}" for i in items[:examples])
        more = f" (+{len(items) - examples} more)" if len(items) > examples else ""
        lines.append(f"  {policy:4s} {code} x{len(items)}: {shown}{more}")
    return "\n".join(lines)
