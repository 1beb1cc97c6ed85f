"""Face matching: find the faces of missing children in collected photos and video frames.

Detect (YuNet by default; dlib HOG or CNN as options), encode (dlib ResNet 128-d and OpenCV SFace,
fused by default), cache per item in the case, and rank reference persons for every face with the
false-match rate measured at that distance. Results are candidates for human review, never verdicts.
Importing this package loads no model and changes no library setting; models load on first use.
"""

from osint.facematch.ages import AgeGap, ItemDate, age_gap, item_date, set_item_date, under_18, under_18_at_reference
from osint.facematch.analyse import (MIN_ENCODE_PX, STAGE, FaceSettings, FoundFace, FrameInfo, MediaFaces,
                                     analyse_file, faces_in_frame, scan_case)
from osint.facematch.calibration import Calibration, calibration, distances, fusion_scales, shipped
from osint.facematch.cluster import Group, cluster
from osint.facematch.detect import DETECTORS, Detection, detect
from osint.facematch.encode import ENCODERS, encode
from osint.facematch.faceset import FaceRef, FaceSet, case_faces, from_result
from osint.facematch.folders import FolderMatch, match_folders
from osint.facematch.gallery import (CaseMatches, Person, RefPhoto, add_references, case_matches, not_analysed,
                                     not_analysed_note, persons, reference_faces, remove_person)
from osint.facematch.match import REVIEW, Candidate, default_model, describe, explain, match
from osint.facematch.tracks import Track, link_tracks, match_media

__all__ = ["DETECTORS", "ENCODERS", "MIN_ENCODE_PX", "REVIEW", "STAGE", "AgeGap", "ItemDate", "age_gap", "item_date",
           "set_item_date", "under_18", "under_18_at_reference", "Calibration", "Candidate", "CaseMatches",
           "Detection", "FaceRef", "FaceSet", "FaceSettings", "FolderMatch", "FoundFace", "FrameInfo", "Group",
           "MediaFaces", "Person", "RefPhoto", "Track", "add_references", "analyse_file", "calibration", "case_faces",
           "case_matches", "not_analysed", "not_analysed_note", "cluster",
           "default_model", "describe", "explain", "detect", "distances", "encode", "faces_in_frame", "from_result",
           "fusion_scales", "link_tracks", "match", "match_folders", "match_media", "persons", "reference_faces", "remove_person", "scan_case",
           "shipped"]
