"""Matching: normalise -> index -> candidates -> score -> explain.

>>> from clearance.match import MatchIndex, Matcher
>>> matcher = Matcher(MatchIndex.build(items))      # items: (source, Entity)
>>> matcher.match("Hikvision")                      # hits, best first

See ``docs/matching.md`` for the method, the thresholds and their evaluation.
"""

from .index import INDEX_VERSION, MatchIndex
from .matcher import Matcher, Thresholds
from .normalize import NameForm, analyze

__all__ = ["INDEX_VERSION", "MatchIndex", "Matcher", "NameForm", "Thresholds", "analyze"]
