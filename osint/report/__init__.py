"""The review report: one offline HTML file showing match candidates side by side with their context,
duplicate groups, the map of located items and the custody summary; and the decisions reviewers record."""

from osint.report.collect import case_candidates, collect, custody_summary
from osint.report.decisions import (EXPORT_FORMAT, DecisionError, ImportSummary, case_decisions, import_decisions,
                                    record_decision, resolve)
from osint.report.model import (DECISIONS, Candidate, CustodySummary, Decision, DupGroup, Link, Located, Member,
                                Person, ReportData, candidate_id)
from osint.report.render import MAX_SIDE, PAGE_SIZE, ReportFile, data_uri, render_html, write_report

__all__ = ["DECISIONS", "EXPORT_FORMAT", "MAX_SIDE", "PAGE_SIZE", "Candidate", "CustodySummary", "Decision",
           "DecisionError", "DupGroup", "ImportSummary", "Link", "Located", "Member", "Person", "ReportData",
           "ReportFile", "candidate_id", "case_candidates", "case_decisions", "collect", "custody_summary",
           "data_uri", "import_decisions", "record_decision", "render_html", "resolve", "write_report"]
