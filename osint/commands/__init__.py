"""Command modules: each parses arguments, shows progress and formats results for one stage.

Each module exposes `register(app)`; `osint.cli` mounts them. No module here computes anything itself.
"""
