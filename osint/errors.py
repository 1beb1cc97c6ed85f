"""Typed errors shared by every stage.

`UnsupportedMedia` means "not ours, skip" (a text file, a PDF); `CorruptMedia` means "ours, but
damaged" (a truncated JPEG, a bad PNG CRC, a decompression bomb). Both are reported per file and
the batch goes on; neither should ever stop a run.
"""


class OsintError(Exception):
    """Base class for errors the CLI turns into one clear line."""


class UnsupportedMedia(OsintError):
    """The file is not a photo or video this toolkit reads."""


class CorruptMedia(OsintError):
    """The file claims to be a photo or video but cannot be decoded safely."""


class CaseError(OsintError):
    """The case folder is missing, damaged, or was asked for something it does not hold."""
