"""Known-material triage: read hash lists (CSV, VICS 2.0), mark the case's items on them, export the case's hashes."""

from osint.known.lists import KINDS, MAX_LIST_BYTES, Entry, HashList, ListError, read_list
from osint.known.triage import (EXPORT_COLUMNS, KIND, Mark, case_digests, export_rows, file_digests, find_marks,
                                known_marks, known_text, mark_known, save_export, vics_bytes)

__all__ = ["EXPORT_COLUMNS", "KIND", "KINDS", "MAX_LIST_BYTES", "Entry", "HashList", "ListError", "Mark",
           "case_digests", "export_rows", "file_digests", "find_marks", "known_marks", "known_text", "mark_known",
           "read_list", "save_export", "vics_bytes"]
