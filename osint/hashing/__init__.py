"""Perceptual hashes of photos and video keyframes, near-duplicate search, groups of reposts, crop-robust links.

pHash and dHash (imagehash) on a small reduced decode, PDQ (Meta's reference, with its mirrored and rotated
variants) on the full decode; a Hamming index for search and all-pairs joins; links and groups under
measured thresholds; local features (osint.hashing.local) for crops, captions and screenshots, and for a
still cut from a video, linked at its frame (osint.hashing.stills); vPDQ (osint.hashing.vpdq) for videos;
`repost_groups`, the one grouping of a case.
"""

from osint.hashing.hashes import (BITS, DECODE_SIDE, DHASH, KEYFRAME_EVERY_S, PDQ, PHASH, STAGE, VERSION,
                                  FrameHashes, MediaHashes, bits_to_hex, hash_file, hash_picture, hex_to_bits)
from osint.hashing.index import HammingIndex, Pairs, distances, to_words
from osint.hashing.match import (ALGORITHMS, MIN_QUALITY, Evidence, Group, HashSet, PairMatch, Thresholds,
                                 compare)
from osint.hashing.pdq import DIHEDRAL, pdq
from osint.hashing.local import LOCAL_STAGE, LOCAL_VERSION, LocalFeatures, LocalLink, LocalSet, local_features, match_pair
from osint.hashing.stage import (hash_case, local_case, local_links, repost_groups, stored_hashes, stored_local,
                                 stored_video_local, stored_vpdq, video_local_case, vpdq_case)
from osint.hashing.stills import VIDEO_STAGE, VIDEO_VERSION, VideoLocal, video_links, video_local
from osint.hashing.vpdq import VpdqLink, vpdq_available, vpdq_links

__all__ = ["ALGORITHMS", "BITS", "DECODE_SIDE", "DHASH", "DIHEDRAL", "KEYFRAME_EVERY_S", "LOCAL_STAGE",
           "LOCAL_VERSION", "LocalFeatures", "LocalLink", "LocalSet", "local_case", "local_features", "match_pair",
           "stored_local", "MIN_QUALITY", "PDQ", "VpdqLink", "stored_vpdq", "vpdq_available", "vpdq_case", "vpdq_links",
           "VIDEO_STAGE", "VIDEO_VERSION", "VideoLocal", "local_links", "repost_groups", "stored_video_local",
           "video_links", "video_local", "video_local_case",
           "PHASH", "STAGE", "VERSION", "Evidence", "FrameHashes", "Group", "HammingIndex", "HashSet",
           "MediaHashes", "PairMatch", "Pairs", "Thresholds", "bits_to_hex", "compare", "distances", "hash_case",
           "hash_file", "hash_picture", "hex_to_bits", "pdq", "stored_hashes", "to_words"]
