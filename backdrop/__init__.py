"""Backdrop: a data store for performance data."""

__version__ = "0.1.0"
