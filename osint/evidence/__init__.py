"""Evidence bundles: signed, self-verifying BagIt bags of chosen items with their chain of custody.

Keys belong to a person (Ed25519, private half encrypted at rest); `export_bundle` writes a bag that any
recipient can check with `verify_bundle` (or sha256sum, openssl and bagit.py, no osint needed).
"""

from osint.evidence.archive import DamagedBundle, HostileBundle
from osint.evidence.bundle import ExportResult, export_bundle
from osint.evidence.keys import (EVIDENCE_LEAD, ROLES, KeyInfo, KeyProblem, Signer, create_key, find_key,
                                 fingerprint, keys_dir, list_keys, load_public, unlock)
from osint.evidence.select import Selection, select_items
from osint.evidence.verify import BundleReport, Failure, verify_bundle

__all__ = ["EVIDENCE_LEAD", "ROLES", "BundleReport", "DamagedBundle", "ExportResult", "Failure", "HostileBundle",
           "KeyInfo", "KeyProblem", "Selection", "Signer", "create_key", "export_bundle", "find_key",
           "fingerprint", "keys_dir", "list_keys", "load_public", "select_items", "unlock", "verify_bundle"]
