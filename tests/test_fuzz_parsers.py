"""Property-based hostile input over every parser (lists, inventories, nmap,
transactions, screening files): any bytes either parse or are refused with one
error line — never another exception, a lost row or a formula in an export.

The suite runs a bounded number of examples; ``benchmarks/fuzz.py`` runs the
same cases at volume and reports how many inputs were tried.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .fuzzing import TARGETS, run_case

EXAMPLES = 60
#: No shrinking: a known bug fails fast, and a new one is reported with its (unshrunk) input.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)
PARAMS = [
    pytest.param(t, id=t.name, marks=[pytest.mark.xfail(reason=f"bug: {t.known_bug}", strict=False)] if t.known_bug else [])
    for t in TARGETS
]


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_seed_parses(target, tmp_path):
    assert run_case(target, target.seed(), tmp_path / "case") == "ok"


@pytest.mark.parametrize("target", PARAMS)
@settings(max_examples=EXAMPLES, deadline=5000, phases=PHASES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_mutated_input_parses_or_is_refused(target, tmp_path, seed):
    data = target.mutate(target.seed(), random.Random(seed))
    run_case(target, data, tmp_path / "case")


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
@settings(max_examples=EXAMPLES // 2, deadline=5000, phases=PHASES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096))
def test_random_bytes_parse_or_are_refused(target, tmp_path, data):
    run_case(target, data, tmp_path / "case")
