"""Scoring features, each on its own."""

from __future__ import annotations

import random
import struct

from clearance.match.score import (
    compare,
    country_evidence,
    decimal_round,
    dob_evidence,
    schema_compatible,
    token_sim,
)


def score(q, l, qw=None, lw=None, lweak=None, person=False):
    q, l = tuple(q.split()), tuple(l.split())
    qw = qw or [8.0] * len(q)
    lw = lw or [8.0] * len(l)
    lweak = lweak or [False] * len(l)
    return compare(q, qw, l, lw, lweak, person)


def test_token_sim():
    assert token_sim("hikvision", "hikvision") == 1.0
    assert 0.85 < token_sim("hikvsion", "hikvision") < 1.0  # transposition: one edit
    assert token_sim("abdulhai", "abdulhay") > 0.8
    assert token_sim("bank", "band") == 0.75
    assert token_sim("zte", "ztf") == 0.0  # short tokens must be equal
    assert token_sim("54th", "55th") == 0.0  # numbers must be equal
    assert token_sim("china", "korea") == 0.0


def test_exact_and_reordered_names_score_one():
    assert score("abdulhai salek", "salek abdulhai").score == 1.0


def test_typos_lower_the_score_a_little():
    exact = score("hikvision digital", "hikvision digital").score
    typo = score("hikvsion digital", "hikvision digital").score
    assert 0.8 < typo < exact


def test_unmatched_query_token_costs_more_than_unmatched_list_token():
    extra_in_query = score("acme widgets", "acme").score
    extra_in_list = score("acme", "acme widgets").score
    assert extra_in_list > extra_in_query


def test_rare_tokens_weigh_more_than_common_ones():
    # "china" is common (weight 2), "hikvision" rare (weight 10)
    missing_common = compare(("hikvision",), [10.0], ("china", "hikvision"), [2.0, 10.0], [False, False]).score
    missing_rare = compare(("china",), [2.0], ("china", "hikvision"), [2.0, 10.0], [False, False]).score
    assert missing_common > 0.85
    assert missing_rare < 0.5


def test_matches_on_common_words_only_are_damped():
    common = compare(("bank",), [4.0], ("bank",), [4.0], [False]).score
    rare = compare(("melli",), [9.0], ("melli",), [9.0], [False]).score
    assert common < 0.6 < rare == 1.0


def test_brand_form_of_a_long_name():
    # a very rare leading word ("Mofidrahbar") stands for the whole name
    s = compare(("mofidrahbar",), [9.9], ("mofidrahbar", "audit", "firm"), [9.9, 6.0, 5.0], [False] * 3).score
    assert s >= 0.8
    # the same word in the middle of the name is not a brand
    s2 = compare(("sony",), [9.9], ("almacen", "electro", "sony", "star"), [7.0, 6.0, 9.9, 6.0], [False] * 4).score
    assert s2 < s - 0.1


def test_weak_tokens_count_little():
    with_form = compare(("acme", "ltd"), [9.0, 0.35], ("acme", "llc"), [9.0, 0.35], [False, True]).score
    assert with_form > 0.9


def test_compound_tokens():
    detail = compare(("hik", "vision"), [9.0, 6.0], ("hikvision",), [9.0], [False])
    assert detail.score > 0.9
    assert ("hik vision", "hikvision", 1.0) in detail.pairs


def test_initials_for_people():
    person = score("j smith", "john smith", person=True).score
    org = score("j smith", "john smith", person=False).score
    assert person > org


def test_people_need_both_sides_covered():
    assert score("salek", "salek abdulhai", person=True).score < 0.70


def test_explanation_lists_pairs_and_unmatched():
    detail = score("hikvision digitl technology", "hangzhou hikvision digital technology")
    assert ("digitl", "digital", detail.pairs[-1][2]) in detail.pairs
    assert detail.unmatched_list == ["hangzhou"]
    assert detail.unmatched_query == []


def test_fast_path_agrees_with_explained_path():
    q, l = ("hikvsion", "digital"), ("hangzhou", "hikvision", "digital")
    full = compare(q, [9.0, 6.0], l, [7.0, 9.0, 6.0], [False] * 3)
    fast = compare(q, [9.0, 6.0], l, [7.0, 9.0, 6.0], [False] * 3, explain=False)
    assert fast == full.score


def test_decimal_round_is_round_to_the_bit():
    rng = random.Random(3)
    values = [0.0, -0.0, 1.0, 0.5, 5e-05, -5e-05, 0.00015, 0.12345, 0.98765, 1e-12, 1e12, -0.08, float("inf")]
    for _ in range(20_000):
        values += [rng.random(), -rng.random(), rng.uniform(0, 30), rng.randint(0, 10**5) / 10**5, rng.randint(0, 2 * 10**4) / 2e4]
    for value in values:
        for digits in (2, 3, 4):
            # the same double, sign of zero included
            assert struct.pack("d", decimal_round(value, digits)) == struct.pack("d", round(value, digits)), (value, digits)


def test_schema_compatibility():
    assert schema_compatible(None, "Vessel")
    assert schema_compatible("Company", "Organization")
    assert schema_compatible("LegalEntity", "Person")
    assert not schema_compatible("Person", "Vessel")
    assert not schema_compatible("Person", "Company")
    assert not schema_compatible("Vessel", "Company")
    # The DPL lists LegalEntity (person or company unknown): a Person query must still meet it.
    assert schema_compatible("Person", "LegalEntity")
    assert schema_compatible("Company", "LegalEntity")
    assert not schema_compatible("Vessel", "LegalEntity")


def test_country_evidence():
    assert country_evidence({"cn"}, frozenset({"cn"})) > 0
    assert country_evidence({"cn"}, frozenset({"ir"})) < 0
    assert country_evidence(set(), frozenset({"ir"})) == 0
    assert country_evidence({"cn"}, frozenset()) == 0


def test_birth_date_evidence():
    same, _ = dob_evidence("1957-03-10", ("1957-03-10",))
    year, _ = dob_evidence("1957", ("1957-03-10",))
    near, _ = dob_evidence("1958", ("1957",))
    far, reason = dob_evidence("1967", ("1957",))
    assert same > year > 0 > near > far
    assert "10 years off" in reason
    assert dob_evidence(None, ("1957",)) == (0.0, "")


def test_a_single_letter_cannot_identify_a_name_however_rare():
    # "x" met the alias "E. X. Co." of a UN entry at 0.92: a letter carries at most LETTER_INFO
    assert score("x", "e x", qw=[9.5], lw=[6.0, 9.5]).score == 0.0
    assert score("e x", "e x", qw=[6.0, 9.5], lw=[6.0, 9.5]).score < 0.7
    # ... but an acronym of three letters still finds its company ("B.R.C. S.A.")
    assert score("b r c", "b r c", qw=[9.0] * 3, lw=[9.0] * 3).score > 0.9
    # and an initial still helps a person's name
    assert score("j smith", "john smith", qw=[4.0, 9.0], lw=[4.0, 9.0], person=True).score > 0.7


def test_typo_pairs_go_most_similar_first_then_later_tokens_first():
    # one list token, two query tokens a typo from it: the closer one takes it
    detail = compare(("abdulhay", "abdulhxy"), [8.0, 8.0], ("abdulhai",), [8.0], [False])
    assert detail.pairs == [("abdulhay", "abdulhai", 0.875)]
    assert detail.unmatched_query == ["abdulhxy"]
    # equally close: the later query token takes it
    detail = compare(("bankx", "banky"), [8.0, 8.0], ("bankz",), [8.0], [False])
    assert detail.pairs == [("banky", "bankz", 0.8)]
    assert detail.unmatched_query == ["bankx"]


def _random_token(rng, alphabet, size):
    return "".join(rng.choice(alphabet) for _ in range(size))


def _edited(rng, token, alphabet):
    """The token after a few random edits (so that many pairs are a typo apart)."""
    chars = list(token)
    for _ in range(rng.randint(1, 4)):
        op, at = rng.randrange(4), rng.randrange(len(chars) + 1)
        if op == 0:
            chars.insert(at, rng.choice(alphabet))
        elif chars and op == 1:
            del chars[min(at, len(chars) - 1)]
        elif chars and op == 2:
            chars[min(at, len(chars) - 1)] = rng.choice(alphabet)
        elif len(chars) > 1:
            at = min(at, len(chars) - 2)
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
    return "".join(chars) or token


def test_cheap_pair_tests_never_hide_a_typo_or_compound():
    # compare() rules most pairs out by lengths and letter sets before token_sim: it must
    # find every pair token_sim accepts, letters or not, ASCII or not
    import random

    rng = random.Random(5)
    alphabet = "abcdefghijklmnopqrstuvwxyzéßжд中1-"
    for _ in range(4000):
        a = _random_token(rng, alphabet[: rng.choice((6, 26, len(alphabet)))], rng.randint(1, 15))
        b = _edited(rng, a, alphabet) if rng.random() < 0.8 else _random_token(rng, alphabet, rng.randint(1, 15))
        if a == b:
            continue
        sim = token_sim(a, b)
        detail = compare((a,), [8.0], (b,), [8.0], [False])
        assert detail.pairs == ([(a, b, round(sim, 3))] if sim else []), (a, b)
        # the same pair as a compound: a written in two parts on the query side, then on the list side
        cut = rng.randint(1, len(a) - 1) if len(a) > 1 else 0
        if cut and token_sim(a[:cut], b) == 0 and token_sim(a[cut:], b) == 0:
            joined = token_sim(a, b) if a != b else 1.0
            detail = compare((a[:cut], a[cut:]), [8.0, 8.0], (b,), [8.0], [False])
            assert detail.pairs == ([(f"{a[:cut]} {a[cut:]}", b, round(joined, 3))] if joined else []), (a, b, cut)
            detail = compare((b,), [8.0], (a[:cut], a[cut:]), [8.0, 8.0], [False, False])
            assert detail.pairs == ([(b, f"{a[:cut]} {a[cut:]}", round(joined, 3))] if joined else []), (a, b, cut)


def test_names_longer_than_the_fixed_buffers():
    # normalize caps names at 24 tokens; compare() still scores longer ones (in lists)
    words = tuple(f"{w}{'abcdefghijklmnopqrstuvwxyz'[i % 26]}" for i, w in enumerate(["alpha", "bravo", "delta"] * 10))
    assert len(words) == 30
    reordered = tuple(reversed(words))
    assert score(" ".join(words), " ".join(reordered)).score == 1.0
    typo = (words[0][:2] + words[0][3:],) + words[1:]
    detail = compare(typo, [8.0] * 30, words + ("extra",), [8.0] * 31, [False] * 31)
    assert 0.8 < detail.score < 1.0
    assert (typo[0], words[0], round(token_sim(typo[0], words[0]), 3)) in detail.pairs
    assert detail.unmatched_list == ["extra"] and detail.unmatched_query == []
    assert compare(typo, [8.0] * 30, words + ("extra",), [8.0] * 31, [False] * 31, explain=False) == detail.score
