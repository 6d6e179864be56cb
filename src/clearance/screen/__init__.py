"""Screening: one query (:class:`Screener`), batches and monitoring build on it."""

from .check import Screener, parse_identifiers
from ..match.matcher import Thresholds

__all__ = ["Screener", "Thresholds", "parse_identifiers"]
