"""Geolocation: where a photo was taken, from every signal it carries.

EXIF GPS (with sanity flags), offline place names and user-drawn areas, landmark matching against a
gallery of geotagged reference photos, and the sun (shadow length at a known time gives a band of possible
places). Each method answers separately with its evidence; results are leads for human review.
"""

from osint.geolocate.exif import ExifGPS, read_gps
from osint.geolocate.landmarks import (FEATURE_VERSION, MIN_INLIERS, Candidate, Features, GalleryEntry, ImageMatch,
                                       LandmarkIndex, confidence_note, extract_features, gallery_hash, verify)
from osint.geolocate.places import (Area, Areas, OnlineHit, Place, country_name, distance_m, geocode_online,
                                    online_request, place_names)
from osint.geolocate.sun import ShadowBand, SunPosition, elevation_from_shadow, in_band, shadow_band, sun_position

__all__ = ["FEATURE_VERSION", "MIN_INLIERS", "Area", "Areas", "Candidate", "ExifGPS", "Features", "GalleryEntry",
           "ImageMatch", "LandmarkIndex", "OnlineHit", "Place", "ShadowBand", "SunPosition", "confidence_note",
           "country_name", "distance_m", "elevation_from_shadow", "extract_features", "gallery_hash",
           "geocode_online", "in_band", "online_request", "place_names", "read_gps", "shadow_band",
           "sun_position", "verify"]
