"""Aggregation semantics on small hand-made graphs (no store needed)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.ownership.aggregate import Arrays, lookthrough, restricted
from clearance.ownership.engine import OwnershipEngine
from clearance.ownership.graph import Edge, Listing, OwnershipGraph
from clearance.ownership.policy import load_policy


def graph_of(listed: dict[str, str], holdings: list[tuple[str, str, float]], **edge_kw) -> OwnershipGraph:
    graph = OwnershipGraph()
    for key, family in listed.items():
        node = graph.add_node(key, key.upper(), schema="Company")
        node.listings.append(Listing(key, family, (family,)))
    for owner, owned, percent in holdings:
        for key in (owner, owned):
            if key not in graph.nodes:
                graph.add_node(key, key.upper(), schema="Company")
        graph.add_edge(Edge(owner, owned, "ownership", percent, source="test", **edge_kw))
    return graph


def engine_of(listed, holdings, as_of="2026-01-15") -> OwnershipEngine:
    return OwnershipEngine(graph_of(listed, holdings), load_policy(), as_of)


def test_two_listed_owners_aggregate_to_blocked():
    engine = engine_of({"x": "us-ofac-sdn", "y": "us-ofac-sdn"}, [("x", "c", 30), ("y", "c", 25)])
    record = engine.exposure("c")
    assert record["listed_ownership"] == {"us-ofac-sdn": pytest.approx(0.55, abs=1e-6)}
    assert record["blocked"] is True
    assert {o["owner_id"]: o["share"] for o in record["owners"]} == {"x": pytest.approx(0.3, abs=1e-6), "y": pytest.approx(0.25, abs=1e-6)}


def test_49_percent_is_shown_not_blocked():
    engine = engine_of({"x": "us-ofac-sdn"}, [("x", "c", 49)])
    record = engine.exposure("c")
    assert record["blocked"] is False
    assert record["listed_ownership"]["us-ofac-sdn"] == pytest.approx(0.49, abs=1e-6)
    assert record["rules"][0]["status"] == "below-threshold"
    assert record["status"] == "review"
    assert record["paths"][0][0]["percent"] == 49


def test_indirect_product_and_full_counting_through_blocked_entity():
    engine = engine_of({"x": "us-ofac-sdn"}, [("x", "a", 60), ("a", "b", 90)])
    record = engine.exposure("b")
    assert record["listed_ownership"]["us-ofac-sdn"] == pytest.approx(0.54, abs=1e-6)
    assert record["counted_ownership"]["us-ofac-sdn"] == pytest.approx(0.9, abs=1e-6)
    assert record["blocked"] is True
    assert [s["owned_id"] for s in record["paths"][0]] == ["a", "b"]


def test_ofac_faq_401_examples():
    # Example 1: 50% of 50% is blocked (A is blocked, A holds 50% of B).
    assert engine_of({"x": "us-ofac-sdn"}, [("x", "a", 50), ("a", "b", 50)]).exposure("b")["blocked"]
    # Example 2: X holds 50% of A and B; A and B each hold 25% of C.
    e2 = engine_of({"x": "us-ofac-sdn"}, [("x", "a", 50), ("x", "b", 50), ("a", "c", 25), ("b", "c", 25)])
    assert e2.exposure("c")["blocked"] and e2.exposure("c")["counted_ownership"]["us-ofac-sdn"] == pytest.approx(0.5, abs=1e-6)
    # Example 3: X holds 50% of A and 10% of B; A holds 40% of B.
    e3 = engine_of({"x": "us-ofac-sdn"}, [("x", "a", 50), ("x", "b", 10), ("a", "b", 40)])
    assert e3.exposure("b")["blocked"]


def test_no_counting_through_an_unblocked_entity():
    # 49% of A (not blocked) which holds 100% of B, plus 2% direct: look-through 51%, counted 2%.
    engine = engine_of({"x": "us-ofac-sdn"}, [("x", "a", 49), ("a", "b", 100), ("x", "b", 2)])
    record = engine.exposure("b")
    assert record["blocked"] is False
    assert record["listed_ownership"]["us-ofac-sdn"] == pytest.approx(0.51, abs=1e-6)
    assert record["counted_ownership"]["us-ofac-sdn"] == pytest.approx(0.02, abs=1e-6)
    assert record["rules"][0]["status"] == "review"


def test_cycle_terminates_with_walk_sum_totals():
    # X 60% of A; A 50% of C1; C1 50% of C2; C2 20% of C1 (cross-holding).
    engine = engine_of({"x": "us-ofac-sdn"}, [("x", "a", 60), ("a", "c1", 50), ("c1", "c2", 50), ("c2", "c1", 20)])
    one, two = engine.exposure("c1"), engine.exposure("c2")
    # s(c1) = 0.3 + 0.2 s(c2), s(c2) = 0.5 s(c1)  ->  s(c1) = 0.3 / 0.9
    assert one["listed_ownership"]["us-ofac-sdn"] == pytest.approx(1 / 3, abs=1e-6)
    assert two["listed_ownership"]["us-ofac-sdn"] == pytest.approx(1 / 6, abs=1e-6)
    # Counted: c1 50% by blocked A -> blocked; c2 50% by blocked c1 -> blocked; c1 then 70%.
    assert one["counted_ownership"]["us-ofac-sdn"] == pytest.approx(0.7, abs=1e-6)
    assert two["counted_ownership"]["us-ofac-sdn"] == pytest.approx(0.5, abs=1e-6)
    assert one["blocked"] and two["blocked"]


def test_cross_holding_shares_of_all_ultimate_owners_add_up_to_one():
    # X (listed) 60%, O 20%, and Y 20% of A; A holds 50% of Y, P the other 50% of Y.
    holdings = [("x", "a", 60), ("o", "a", 20), ("y", "a", 20), ("a", "y", 50), ("p", "y", 50)]
    totals = 0.0
    for owner in ("x", "o", "p"):
        engine = engine_of({owner: "us-ofac-sdn"}, holdings)
        totals += engine.exposure("a")["listed_ownership"]["us-ofac-sdn"]
    assert totals == pytest.approx(1.0, abs=1e-6)


def test_unlisted_cycle_is_not_blocked_and_closed_cycle_is_capped():
    engine = engine_of({"x": "us-ofac-sdn"}, [("e", "w", 60), ("w", "e", 60)])
    assert engine.exposure("e")["status"] == "clear"
    closed = engine_of({"x": "us-ofac-sdn"}, [("x", "a", 50), ("a", "b", 100), ("b", "a", 100)])
    record = closed.exposure("a")
    assert record["listed_ownership"]["us-ofac-sdn"] <= 1.0
    assert any("add up to" in w for w in record["warnings"])


def test_conflicting_statements_latest_wins_and_are_reported():
    graph = graph_of({"x": "us-ofac-sdn"}, [])
    graph.add_node("c", "C")
    graph.add_edge(Edge("x", "c", "ownership", 60, start="2020-01-01", source="old"))
    graph.add_edge(Edge("x", "c", "ownership", 40, start="2024-01-01", source="new"))
    engine = OwnershipEngine(graph, load_policy(), "2025-01-01")
    record = engine.exposure("c")
    assert record["listed_ownership"]["us-ofac-sdn"] == pytest.approx(0.4, abs=1e-6)
    assert any("conflicting" in w for w in record["warnings"])
    # Before the newer statement, the older one holds.
    assert OwnershipEngine(graph, load_policy(), "2022-01-01").exposure("c")["blocked"]


def test_links_are_shown_never_counted():
    graph = graph_of({"x": "us-ofac-sdn"}, [])
    graph.add_node("c", "C")
    graph.add_edge(Edge("x", "c", "linked", source="Linked To"))
    record = OwnershipEngine(graph, load_policy(), "2025-01-01").exposure("c")
    assert record["listed_ownership"] == {} and record["blocked"] is False
    assert record["related"][0]["relation"] == "linked"
    assert record["paths"][0][0]["relation"] == "linked"
    assert record["status"] == "review"


@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        ("2025-09-28", "not-in-force"),
        ("2025-09-29", "applies"),
        ("2025-11-09", "applies"),
        ("2025-11-10", "suspended"),
        ("2026-11-09", "suspended"),
        ("2026-11-10", "applies"),
    ],
)
def test_bis_affiliates_rule_applies_only_inside_its_dates(as_of, status):
    engine = engine_of({"el": "us-bis-entity-list"}, [("el", "sub", 60)], as_of=as_of)
    rule = engine.exposure("sub")["rules"][0]
    assert rule["rule"] == "bis-affiliates-rule"
    assert rule["status"] == status
    if status == "suspended":
        assert rule["would_apply"] is True and "90" in rule["window_citation"]


def _brute_force(n, edges, listed):
    """Sum over all paths from a listed node of the product of weights (DAG)."""
    out = np.zeros(n)
    children = {}
    for s, d, w in edges:
        children.setdefault(s, []).append((d, w))

    def walk(node, value):
        for child, w in children.get(node, ()):
            out[child] += value * w
            if not listed[child]:
                walk(child, value * w)

    for node in range(n):
        if listed[node]:
            walk(node, 1.0)
    return np.minimum(out, 1.0)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_lookthrough_equals_path_products_on_random_dags(data):
    n = data.draw(st.integers(2, 9))
    pairs = [(a, b) for a, b in itertools.combinations(range(n), 2)]
    chosen = data.draw(st.lists(st.sampled_from(pairs), unique=True, max_size=14)) if pairs else []
    # Keep each node's total held share <= 100%.
    held = [0.0] * n
    edges = []
    for a, b in chosen:
        w = data.draw(st.sampled_from([0.1, 0.25, 0.3, 0.5, 0.6, 0.9]))
        if held[b] + w <= 1.0:
            held[b] += w
            edges.append((a, b, w))
    listed = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    arrays = Arrays.build(n, [e[0] for e in edges], [e[1] for e in edges], [e[2] for e in edges])
    share, _ = lookthrough(arrays, listed)
    assert np.allclose(share, _brute_force(n, edges, listed))
    mask, counted, _ = restricted(arrays, listed, 0.5)
    # Restricted = listed or >= 50% held by restricted holders (a fixed point).
    for node in range(n):
        total = sum(w for s, d, w in edges if d == node and mask[s])
        assert mask[node] == (bool(listed[node]) or total >= 0.5 - 1e-9)
