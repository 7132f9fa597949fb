"""Reports over run directories: the paper-style table, plots and results.json.

    from edtune.report import build_report
    build_report("runs/demo")      # -> runs/demo/report.md, runs/demo/plots/*.png, runs/demo/results.json

Reads only the files the loop writes (metrics.json, usage.json); matplotlib is imported when plotting.
"""

from edtune.report.build import build_report, render_markdown, write_report
from edtune.report.records import MethodResult, ReportResults, SeedResult
from edtune.report.results import compare, format_table
from edtune.report.runs import LoadedRun, find_runs, load_run

__all__ = ["LoadedRun", "MethodResult", "ReportResults", "SeedResult", "build_report", "compare", "find_runs",
           "format_table", "load_run", "render_markdown", "write_report"]
