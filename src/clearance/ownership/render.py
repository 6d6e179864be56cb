"""Ownership paths as small, self-contained diagrams for the HTML report and web UI.

``path_svg(paths)`` draws the paths of an exposure record (listed parties at
the top, the entity at the bottom, percentages on the arrows) as one inline
``<svg>``; ``tree_html(paths)`` gives the same as nested lists for text-only
views. Both escape every name; neither emits scripts, styles that leak, or
external references, so the output can be inlined as is (Jinja2: ``|safe``).

>>> svg = path_svg(exposure["paths"])                 # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from html import escape

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 210, 46, 30, 56, 12
MAX_CHARS = 30
COLOURS = {
    "listed": ("#fde2e1", "#b03a2e"),
    "restricted": ("#fff1d6", "#b9770e"),
    "subject": ("#e8f0fe", "#1a5fb4"),
    "other": ("#ffffff", "#7f8c8d"),
}


def _label(step: dict) -> str:
    if step.get("percent") is not None:
        text = f"{step['percent']:g}%"
        return text if step.get("relation") in ("ownership", None) else f"{step['relation']} {text}"
    return str(step.get("relation") or "")


def _graph(paths: list[list[dict]]):
    """Nodes (id -> info) and unique edges of all paths; the subject is the last owned node."""
    nodes: dict[str, dict] = {}
    edges: dict[tuple[str, str, str], dict] = {}
    subject = None
    for path in paths:
        for step in path:
            owner, owned = step["owner_id"], step["owned_id"]
            info = nodes.setdefault(owner, {"name": step["owner"], "kind": "other", "lists": []})
            if step.get("owner_listed"):
                info["kind"] = "listed"
                info["lists"] = step["owner_listed"]
            elif step.get("owner_restricted") and info["kind"] != "listed":
                info["kind"] = "restricted"
                info["lists"] = step["owner_restricted"]
            nodes.setdefault(owned, {"name": step["owned"], "kind": "other", "lists": []})
            edges.setdefault((owner, owned, step.get("relation") or ""), step)
        if path:
            subject = path[-1]["owned_id"]
    if subject is not None:
        nodes[subject]["kind"] = "subject" if nodes[subject]["kind"] == "other" else nodes[subject]["kind"]
        nodes[subject]["subject"] = True
    return nodes, edges, subject


def _layers(nodes: dict, edges: dict, subject: str | None) -> dict[str, int]:
    """Distance above the subject (longest path), so every arrow points down."""
    layer = {key: 0 for key in nodes}
    for _ in range(len(nodes)):
        changed = False
        for owner, owned, _ in edges:
            if layer[owner] < layer[owned] + 1 and layer[owned] + 1 <= len(nodes):
                layer[owner] = layer[owned] + 1
                changed = True
        if not changed:
            break
    return layer


def path_svg(paths: list[list[dict]], title: str | None = None) -> str:
    """An inline SVG of ownership paths (each a list of steps, listed owner first)."""
    paths = [p for p in paths or [] if p]
    if not paths:
        return ""
    nodes, edges, subject = _graph(paths)
    layer = _layers(nodes, edges, subject)
    top = max(layer.values())
    rows: dict[int, list[str]] = {}
    for key in nodes:  # insertion order: first seen first
        rows.setdefault(top - layer[key], []).append(key)
    width = max(len(r) for r in rows.values()) * (BOX_W + GAP_X) - GAP_X + 2 * PAD
    height = (top + 1) * (BOX_H + GAP_Y) - GAP_Y + 2 * PAD + (22 if title else 0)
    offset_y = PAD + (22 if title else 0)
    pos: dict[str, tuple[float, float]] = {}
    for row, keys in rows.items():
        row_width = len(keys) * (BOX_W + GAP_X) - GAP_X
        x0 = (width - row_width) / 2
        for n, key in enumerate(keys):
            pos[key] = (x0 + n * (BOX_W + GAP_X), offset_y + row * (BOX_H + GAP_Y))
    uid = hashlib.sha1(repr(sorted(edges)).encode()).hexdigest()[:8]
    label = title or "Ownership paths"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ownership-paths" role="img" '
        f'aria-label="{escape(label)}" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(label)}</title>",
        f'<defs><marker id="arrow-{uid}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
    ]
    if title:
        out.append(f'<text x="{PAD}" y="{PAD + 10}" font-weight="bold">{escape(title)}</text>')
    for (owner, owned, relation), step in edges.items():
        (x1, y1), (x2, y2) = pos[owner], pos[owned]
        sx, sy, ex, ey = x1 + BOX_W / 2, y1 + BOX_H, x2 + BOX_W / 2, y2
        dash = "" if step.get("counted", step.get("percent") is not None) else ' stroke-dasharray="5 4"'
        out.append(
            f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="#555" stroke-width="1.5"'
            f'{dash} marker-end="url(#arrow-{uid})"><title>{escape(step.get("source") or "")}</title></line>'
        )
        text = _label(step)
        if text:
            mx, my = (sx + ex) / 2, (sy + ey) / 2
            out.append(
                f'<text x="{mx + 6:.1f}" y="{my + 4:.1f}" fill="#222" font-weight="bold">{escape(text)}</text>'
            )
    for key, info in nodes.items():
        x, y = pos[key]
        fill, stroke = COLOURS[info["kind"]]
        name = info["name"]
        short = name if len(name) <= MAX_CHARS else name[: MAX_CHARS - 1] + "…"
        sub = ", ".join(info["lists"]) if info["lists"] else ""
        if sub:
            sub = ("restricted: " if info["kind"] == "restricted" else "listed: ") + sub
        elif info.get("subject"):
            sub = "entity"
        border = ' stroke-width="2.5"' if info.get("subject") else ' stroke-width="1.2"'
        out.append(f'<g class="node node-{info["kind"]}"><title>{escape(name)} ({escape(key)})</title>')
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="{stroke}"{border}/>')
        out.append(f'<text x="{x + 8:.1f}" y="{y + 19:.1f}" fill="#111">{escape(short)}</text>')
        if sub:
            out.append(f'<text x="{x + 8:.1f}" y="{y + 36:.1f}" fill="{stroke}" font-size="10">{escape(sub)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def tree_html(paths: list[list[dict]]) -> str:
    """The same paths as nested ``<ul>`` lists (listed owner outermost)."""
    paths = [p for p in paths or [] if p]
    if not paths:
        return ""
    out = ['<ul class="ownership-paths">']
    for path in paths:
        first = path[0]
        lists = ", ".join(first.get("owner_listed") or first.get("owner_restricted") or [])
        out.append(f"<li><strong>{escape(first['owner'])}</strong>" + (f" <em>({escape(lists)})</em>" if lists else ""))
        depth = 1
        for step in path:
            out.append(f"<ul><li>{escape(_label(step))} &rarr; {escape(step['owned'])}")
            depth += 1
        out.append("</li></ul>" * (depth - 1) + "</li>")
    out.append("</ul>")
    return "".join(out)
