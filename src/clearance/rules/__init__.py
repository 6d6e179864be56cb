"""What a hit means: consequences per list and programme, with citations, as dated data.

The library API:

* :func:`determine` - the rules that attach to one list entry (an Entity, a
  ``(source, Entity)`` pair or a screening hit) on a date, in a context
  (party role, purpose, item, claimed relief);
* :func:`attach_rules` - adds ``rules`` and ``consequence`` to every hit of a
  screening-result record (what ``clearance check`` and batch screening call);
* :func:`assess` - a whole transaction: screen every party as of a date, apply
  the rules, the most severe outcome wins, with reasons in plain words;
* :func:`load_rules` / :func:`default_rules` - the rule tables of ``data/rules/``.

See ``docs/rules.md`` for the rule tables, the as-of policy and the JSON schema.
"""

from __future__ import annotations

from .engine import SOURCE_LABELS, Context, Item, Rule, as_date, determine, el_covers, listed_on, most_severe
from .schema import PURPOSES, ROLES, SEVERITY, RuleBook, default_rules, load_rules

__all__ = [
    "Context",
    "Item",
    "Rule",
    "RuleBook",
    "determine",
    "most_severe",
    "attach_rules",
    "assess",
    "load_rules",
    "default_rules",
    "as_date",
    "listed_on",
    "el_covers",
    "PURPOSES",
    "ROLES",
    "SEVERITY",
    "SOURCE_LABELS",
]


def __getattr__(name: str):
    # The assessment layer needs the store and the matcher; import it on first use.
    if name in ("assess", "attach_rules"):
        from . import assessment

        return getattr(assessment, name)
    raise AttributeError(name)
