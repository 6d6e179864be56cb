"""Ownership and affiliates: who holds what, what the aggregate share triggers.

* :func:`build_engine` - an :class:`OwnershipEngine` over the lists (active or
  as of a date), the ownership sets stored in the store and any ownership CSV
  files; ``engine.exposure(name_or_id)`` is the exposure record
  (``listed_ownership``, ``blocked``, ``rules``, ``paths`` ...);
* :func:`derived_hits` / :func:`augment` - exposure as screening hits with
  ``"via": "ownership"`` for batch screening and ``assess``;
* :func:`resolve_producer`, :func:`producer_for_registrant`,
  :func:`producer_for_mac` - section 889 producers behind a brand,
  manufacturer, OUI registrant or MAC address (curated data with sources);
* :func:`path_svg`, :func:`tree_html` - paths as inline SVG / HTML;
* :func:`import_ownership` - store a user ownership file (with provenance);
* :func:`exposure` - ``exposure(store, name_or_id)``: the record plus its ``svg``,
  from an engine cached per store state (for the web UI and reports).

Semantics, with worked examples: ``docs/ownership.md``.
"""

from .brands import ProducerMatch, oui_prefixes, producer_for_mac, producer_for_registrant, producers, resolve_producer
from .build import build_engine, cached_engine, exposure, import_ownership, list_graph
from .engine import OwnershipEngine
from .graph import Edge, OwnershipGraph
from .hits import augment, derived_hits
from .policy import Policy, load_policy
from .render import path_svg, tree_html

__all__ = [
    "build_engine",
    "cached_engine",
    "exposure",
    "import_ownership",
    "list_graph",
    "OwnershipEngine",
    "OwnershipGraph",
    "Edge",
    "Policy",
    "load_policy",
    "derived_hits",
    "augment",
    "resolve_producer",
    "producer_for_registrant",
    "producer_for_mac",
    "oui_prefixes",
    "producers",
    "ProducerMatch",
    "path_svg",
    "tree_html",
]
