"""Geolocation: where a photo was taken, from every signal it carries.

EXIF GPS (with sanity flags), offline place names and user-drawn areas, landmark matching against a
gallery of geotagged reference photos, and the sun (shadow length at a known time gives a band of possible
places). Each method answers separately with its evidence; results are leads for human review.
"""

from osint.geolocate.exif import ExifGPS, read_gps
from osint.geolocate.gallery import (LandmarkAdded, add_landmarks, case_index, gallery, read_landmark_csv,
                                     remove_landmark)
from osint.geolocate.landmarks import (FEATURE_VERSION, MIN_INLIERS, SHORTLIST, Candidate, Features, GalleryEntry,
                                       ImageMatch, LandmarkIndex, confidence_note, extract_features, gallery_hash,
                                       verify)
from osint.geolocate.locate import (STAGE, Answer, Geolocation, LocateOptions, SunQuery, latest_results, locate_case,
                                    locate_file)
from osint.geolocate.mapping import MapLayers, MapPoint, geojson, layers_from_results, map_html, map_svg, write_map
from osint.geolocate.places import (Area, Areas, OnlineAddress, Place, country_name, distance_m, online_request,
                                    place_names, reverse_online)
from osint.geolocate.sun import ShadowBand, SunPosition, elevation_from_shadow, in_band, shadow_band, sun_position

__all__ = ["FEATURE_VERSION", "MIN_INLIERS", "SHORTLIST", "STAGE", "Answer", "Area", "Areas", "Candidate", "ExifGPS",
           "Features", "GalleryEntry", "Geolocation", "ImageMatch", "LandmarkAdded", "LandmarkIndex", "LocateOptions",
           "MapLayers", "MapPoint", "OnlineAddress", "Place", "ShadowBand", "SunPosition", "SunQuery", "add_landmarks",
           "case_index", "confidence_note", "country_name", "distance_m", "elevation_from_shadow",
           "extract_features", "gallery", "gallery_hash", "geojson", "in_band", "latest_results",
           "layers_from_results", "locate_case", "locate_file", "map_html", "map_svg", "online_request",
           "place_names", "read_gps", "read_landmark_csv", "remove_landmark", "reverse_online", "shadow_band",
           "sun_position", "verify", "write_map"]
