"""Recognising media by content, decoding (reduced-size photos, video frames with timestamps), metadata."""

from osint.media.image import load_image
from osint.media.probe import Probe, captured_log, probe, quiet_decoding, read_exif
from osint.media.sniff import HEAD_BYTES, MediaKind, check_regular, open_regular, sniff, sniff_file
from osint.media.video import Frame, creation_time, sample_frames

__all__ = ["HEAD_BYTES", "Frame", "MediaKind", "Probe", "captured_log", "check_regular", "creation_time", "load_image",
           "open_regular", "probe", "quiet_decoding", "read_exif", "sample_frames", "sniff", "sniff_file"]
