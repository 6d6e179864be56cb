"""Matching: normalise -> index -> candidates -> score -> explain.

>>> from clearance.match import MatchIndex, Matcher
>>> matcher = Matcher(MatchIndex.build(items))      # items: (source, Entity)
>>> matcher.match("Hikvision")                      # hits, best first

See ``docs/matching.md`` for the method, the thresholds and their evaluation.
"""

from .compiled import guard as _guard

_guard()  # before the compiled modules are first imported

from .index import INDEX_VERSION  # noqa: E402, MatchIndex
from .matcher import Matcher, Thresholds  # noqa: E402
from .normalize import NameForm, analyze  # noqa: E402

__all__ = ["INDEX_VERSION", "MatchIndex", "Matcher", "NameForm", "Thresholds", "analyze"]
