"""Ownership paths as inline SVG / HTML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from clearance.ownership.render import path_svg, tree_html


def step(owner, owned, percent, listed=(), restricted=(), relation="ownership"):
    return {
        "owner": owner, "owner_id": owner.lower(), "owned": owned, "owned_id": owned.lower(), "percent": percent,
        "relation": relation, "counted": percent is not None, "source": "test",
        "owner_listed": list(listed), "owner_restricted": list(restricted),
    }


PATHS = [
    [step("Listed <script>alert(1)</script>", "Mid & Co", 60, listed=["us-ofac-sdn"]), step("Mid & Co", "Target", 90, restricted=["us-ofac-sdn"])],
    [step("Other SDN", "Target", 10, listed=["us-ofac-sdn"])],
    [step("Linked party", "Target", None, listed=["us-ofac-sdn"], relation="linked")],
]


def test_svg_is_well_formed_escaped_and_labelled():
    svg = path_svg(PATHS, title="Ownership of Target")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert "60%" in svg and "90%" in svg and "linked" in svg
    assert 'stroke-dasharray' in svg  # a link, not a counted holding
    texts = [t.text for t in root.iter() if t.tag.endswith("text")]
    assert "Target" in texts and "restricted: us-ofac-sdn" in texts


def test_empty_paths_render_nothing():
    assert path_svg([]) == "" and tree_html([]) == ""


def test_tree_html():
    html = tree_html(PATHS)
    assert html.startswith("<ul") and "60% &rarr; Mid &amp; Co" in html and "&lt;script&gt;" in html
