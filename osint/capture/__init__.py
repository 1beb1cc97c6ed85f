"""Capture from the web: pages, direct media, Telegram channels and VK walls into the case, archived as WACZ.

`capture(case, urls, options)` is the only function in osint that goes online (besides the explicitly
requested geocoder, timestamp authority and cluster): it says where it connects before it does, sends
everything (the browser included) through `options.net.proxy` when given, and stores each capture's media
as collected items, its web archive (WACZ) and screenshot under derived/, and a `capture` record with its
custody entry.
"""

from osint.capture.archive import WarcLog, check_wacz, make_wacz, wacz_responses
from osint.capture.net import CaptureError, Fetched, Fetcher, NetOptions, RefusedURL, check_url
from osint.capture.parse import Listing, MediaRef, Post, read_page, read_telegram, read_vk
from osint.capture.run import (CAPTURE_KIND, SUPPORTED, CaptureOptions, CaptureOutcome, CaptureSummary,
                               MediaOutcome, Planned, PostInfo, capture, classify, item_posts, plan)

__all__ = ["CAPTURE_KIND", "SUPPORTED", "CaptureError", "CaptureOptions", "CaptureOutcome", "CaptureSummary",
           "Fetched", "Fetcher", "Listing", "MediaOutcome", "MediaRef", "NetOptions", "Planned", "Post", "PostInfo",
           "RefusedURL", "WarcLog", "capture", "check_url", "check_wacz", "classify", "make_wacz", "plan",
           "item_posts", "read_page", "read_telegram", "read_vk", "wacz_responses"]
