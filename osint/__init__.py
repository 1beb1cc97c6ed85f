"""osint: an offline toolkit that turns collected photos and videos into leads and court-ready evidence.

Nothing heavy is imported here: models and decoders load on first use, so `osint --help` is instant.
"""

__version__ = "0.1.0"
TOOL = f"osint {__version__}"
