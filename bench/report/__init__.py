"""The report: tables, plots and verdicts from run records, beside the paper's numbers."""

from bench.report.build import build_report, report_suite

__all__ = ["build_report", "report_suite"]
