"""The case: one folder, one owner of its originals, database, results and hash-chained custody log."""

from osint.case.custody import (GENESIS, ChainProblem, CustodyEntry, canonical, canonical_sha256, check_chain,
                                result_sha256)
from osint.case.store import (Acquisition, Case, Item, Output, Problem, Staged, StageResult, VerifyReport,
                              default_actor, file_sha256, utcnow)

__all__ = ["GENESIS", "Acquisition", "Case", "ChainProblem", "CustodyEntry", "Item", "Output", "Problem", "Staged",
           "StageResult", "VerifyReport", "canonical", "canonical_sha256", "check_chain", "default_actor",
           "file_sha256", "result_sha256", "utcnow"]
