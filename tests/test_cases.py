"""Case management as a library: users and keys, the review workflow
(decisions, reasons, four-eyes), suppression of a dismissed record x entity
while the list entry is unchanged and its reopening when it changes."""

from __future__ import annotations

import pytest

pytest.importorskip("argon2", reason="argon2-cffi is not installed")
from sqlalchemy import select

from clearance.cases import audit, ensure_tables, review, screening, settings, users
from clearance.cases.users import Principal
from clearance.cases.errors import Conflict
from clearance.errors import InputError
from clearance.screen import Screener
from clearance.store import runs as r
from tests.fixtures.api_server import cli

from tests.fixtures.acme_lists import V1, V2, store  # noqa: E402,F401  (store: the fixture)


def person(store, name: str, role: str) -> Principal:
    users.add_user(store, name, role, actor="test")
    from clearance.cases.tables import users as t

    with store.engine.connect() as conn:
        uid = conn.execute(select(t.c.id).where(t.c.name == name)).scalar()
    return Principal(uid, name, role, "test")


def screen(store, *names: str) -> dict:
    return screening.screen_records(store, Screener(store=store), [{"name": n, "country": "KP"} for n in names], "tester")


def alert_of(out: dict, row: int = 0) -> dict:
    return out["results"][row]["hits"][0]["alert"]


# -- users and keys ------------------------------------------------------------------------------


def test_keys_are_stored_hashed_and_checked(store):
    user, key = users.add_user(store, "alice", "reviewer", actor="test")
    assert key.startswith("clr_") and len(key) > 50
    from clearance.cases.tables import api_keys

    with store.engine.connect() as conn:
        stored = conn.execute(select(api_keys.c.hash)).scalar()
    assert stored.startswith("$argon2id$") and key not in stored
    assert users.authenticate_key(store, key).name == "alice"
    assert users.authenticate_key(store, key).role == "reviewer"
    assert users.authenticate_key(store, key[:-2] + "xx") is None
    assert users.authenticate_key(store, "clr_nothing_here") is None
    assert users.authenticate_key(store, "") is None
    key_id = key.split("_")[1]
    users.revoke_key(store, key_id, actor="test")
    assert users.authenticate_key(store, key) is None
    second = users.new_key(store, "alice", actor="test")
    assert users.authenticate_key(store, second) is not None
    users.disable_user(store, "alice", actor="test")
    assert users.authenticate_key(store, second) is None
    with pytest.raises(users.Conflict, match="already disabled"):  # the first time and actor are kept
        users.disable_user(store, "alice", actor="test")
    with pytest.raises(users.Conflict, match="already revoked"):
        users.revoke_key(store, key_id, actor="test")
    users.enable_user(store, "alice", actor="test")
    assert users.authenticate_key(store, second) is not None
    user_changes = [e["action"] for e in audit.entries(store) if e["subject"] == "user:alice"]
    assert user_changes == ["user.add", "user.key.revoke", "user.key.add", "user.disable", "user.enable"]
    assert key not in str(audit.entries(store)) and second not in str(audit.entries(store))


def test_bad_users_and_passwords(store):
    with pytest.raises(InputError, match="role 'boss'"):
        users.add_user(store, "bob", "boss")
    with pytest.raises(InputError, match="user name"):
        users.add_user(store, "bad name!", "viewer")
    with pytest.raises(InputError, match="at least 10"):
        users.add_user(store, "bob", "viewer", password="short")
    users.add_user(store, "bob", "viewer", password="correct horse battery")
    with pytest.raises(Conflict, match="already exists"):
        users.add_user(store, "bob", "admin")
    assert users.authenticate_password(store, "bob", "correct horse battery").role == "viewer"
    token, _ = users.create_session(store, users.authenticate_password(store, "bob", "correct horse battery"))
    assert users.authenticate_session(store, token) is not None
    users.set_password(store, "bob", "a new horse battery staple", actor="test")
    assert users.authenticate_session(store, token) is None  # the old password's sessions end with it
    assert users.authenticate_password(store, "bob", "wrong") is None
    assert users.authenticate_password(store, "nobody", "correct horse battery") is None


def test_roles():
    assert users.role_allows("admin", "decide") and users.role_allows("reviewer", "screen")
    assert not users.role_allows("analyst", "decide") and not users.role_allows("viewer", "screen")
    assert not users.role_allows("nobody", "read")


def test_cli_users_add_shows_the_key_once(home):
    done = cli(home, "users", "add", "carol", "--role", "analyst", "--password-stdin", input="a long enough password\n")
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert key.startswith("clr_") and "shown once" in done.stderr
    listing = cli(home, "users", "list", "--json")
    assert listing.returncode == 0 and key not in listing.stdout and '"role": "analyst"' in listing.stdout
    bad = cli(home, "users", "add", "dave", "--role", "king")
    assert bad.returncode == 2 and "error: role 'king'" in bad.stderr
    assert cli(home, "users", "disable", "carol").returncode == 0
    refused = cli(home, "alerts", "decide", "1", "confirmed", "--reason", "seen", "--user", "carol")
    assert refused.returncode == 2 and refused.stderr.strip() == "error: user carol is disabled"


# -- the review workflow ----------------------------------------------------------------------------


def test_dismissal_suppresses_until_the_entry_changes(store, tmp_path):
    reviewer = person(store, "rita", "reviewer")
    first = screen(store, "Zorblax Heavy Industries Ltd", "Quonset Dynamics Trading")
    alert = alert_of(first)
    assert alert["state"] == "open"
    for blank in ("  ", "\x00\x00\x00", "\u200b\u200b\u200b\u200b", "\x07 \x1b x"):
        with pytest.raises(InputError, match="reason"):
            review.decide(store, alert["id"], "dismissed", blank, reviewer)
    done = review.decide(store, alert["id"], "dismissed", "Our customer is a Norwegian shipyard, not the listed firm", reviewer)
    assert done["state"] == "dismissed"

    second = screen(store, "Zorblax Heavy Industries Ltd", "Quonset Dynamics Trading")
    assert alert_of(second)["state"] == "suppressed"
    assert "dismissed in decision" in alert_of(second)["note"]
    assert alert_of(second, 1)["state"] == "open"  # the other record is not affected
    items, total = review.queue(store)
    assert alert_of(second)["id"] not in {a["id"] for a in items}
    assert {a["id"] for a in review.queue(store, "suppressed")[0]} == {alert_of(second)["id"]}

    v2 = tmp_path / "acme-v2.csv"
    v2.write_text(V2)
    store.import_files(v2, "acme-blocklist", captured="2026-02")
    third = screen(store, "Zorblax Heavy Industries Ltd")
    assert alert_of(third)["state"] == "open"
    assert "reopened" in alert_of(third)["note"]
    fourth = screen(store, "Zorblax Heavy Industries Ltd")
    assert alert_of(fourth)["state"] == "open"  # the suppression ended with the change

    detail = review.get_alert(store, alert_of(third)["id"])
    assert detail["review_state"] == "open" and detail["entity"]["properties"]["alias"] == ["Zorblax Group", "Zorblax HI"]
    actions = [e["action"] for e in audit.entries(store)]
    assert actions.count("screen.run") == 4 and "alert.dismissed" in actions
    assert audit.verify(store).ok


def test_dismissed_alert_carried_into_a_changed_snapshot_reopens(store, tmp_path):
    from clearance.screen.monitor import add_portfolio, run_portfolio

    reviewer = person(store, "rita", "reviewer")
    book = tmp_path / "book.csv"
    book.write_text("name,country\nZorblax Heavy Industries,KP\n")
    add_portfolio(store, book, "book")
    [alert] = r.open_alerts(store)
    review.decide(store, alert["id"], "dismissed", "different company", reviewer)
    v2 = tmp_path / "acme-v2.csv"
    v2.write_text(V2)
    snap = store.import_files(v2, "acme-blocklist").snapshot
    run_portfolio(store, "book")  # the monitor run carries the alert into the new snapshot
    [carried] = r.open_alerts(store)
    assert carried["id"] == alert["id"] and carried["snapshot_id"] == snap.id
    assert review.review(store, alert["id"])["state"] == "dismissed"
    review.sync(store)
    after = review.review(store, alert["id"])
    assert after["state"] == "open" and "reopened" in after["note"]


def test_four_eyes(store):
    analyst, rita, rob = person(store, "ann", "analyst"), person(store, "rita", "reviewer"), person(store, "rob", "reviewer")
    viewer = person(store, "vic", "viewer")
    alert = alert_of(screen(store, "Quonset Dynamics Trading"))
    with pytest.raises(review.Forbidden):
        review.decide(store, alert["id"], "confirmed", "same firm", analyst)
    with pytest.raises(review.Forbidden):
        review.decide(store, alert["id"], "dismissed", "not them", viewer)
    settings.set_value(store, "four_eyes", "true", actor="admin")
    assert review.decide(store, alert["id"], "confirmed", "same address in Tehran", analyst)["state"] == "pending"
    with pytest.raises(review.Forbidden, match="only a reviewer may dismiss"):
        review.decide(store, alert["id"], "dismissed", "not them", analyst)
    with pytest.raises(review.Forbidden):
        review.decide(store, alert["id"], "approved", "fine", analyst)
    assert review.decide(store, alert["id"], "approved", "checked the address", rita)["state"] == "confirmed"
    with pytest.raises(review.Conflict):
        review.decide(store, alert["id"], "approved", "again", rob)
    for decision in ("confirmed", "escalated"):  # a reviewer's final decision is not the analyst's to reopen
        with pytest.raises(review.Forbidden, match="only a reviewer may revise it"):
            review.decide(store, alert["id"], decision, "again, please", analyst)
    other = alert_of(screen(store, "Quonset Dynamics Trading Co"))
    review.decide(store, other["id"], "confirmed", "same", analyst)
    assert review.decide(store, other["id"], "rejected", "the address differs", rob)["state"] == "open"
    reviewer_confirms = alert_of(screen(store, "Quonset Dynamics"))
    assert review.decide(store, reviewer_confirms["id"], "confirmed", "same firm", rita)["state"] == "confirmed"
    history = review.history(store, alert["id"])
    assert [(d["decision"], d["actor"], d["state"]) for d in history] == [("confirmed", "ann", "pending"), ("approved", "rita", "confirmed")]
    assert [e["action"] for e in audit.entries(store, action="config.set")] == ["config.set"]


def test_queue_filters_and_stats(store):
    screen(store, "Zorblax Heavy Industries", "Quonset Dynamics Trading", "Nobody In Particular")
    items, total = review.queue(store, source="acme-blocklist", q="zorblax")
    assert total == 1 and items[0]["name"] == "Zorblax Heavy Industries"
    assert [review.queue(store, q=wildcard)[1] for wildcard in ("%", "_", "zorbla_")] == [0, 0, 0]  # searched as written
    with pytest.raises(InputError, match="state 'bogus'"):
        review.queue(store, "bogus")
    stats = review.stats(store)
    assert stats["by_state"]["open"] == 2 and stats["to_review"] == 2
    assert stats["by_source"]["acme-blocklist"]["open"] == 2 and stats["per_day"][0]["alerts"] == 2
    with pytest.raises(review.NotFound):
        review.get_alert(store, 9999)


def test_cli_alerts_and_decide(home, tmp_path):
    from clearance.store import open_store

    s = open_store(initialise=False)
    ensure_tables(s.engine)
    path = tmp_path / "v1.csv"
    path.write_text(V1)
    s.import_files(path, "acme-blocklist")
    alert = alert_of(screen(s, "Zorblax Heavy Industries"))
    users.add_user(s, "rita", "reviewer", actor="test")
    listed = cli(home, "alerts", "list")
    assert listed.returncode == 0 and "Zorblax" in listed.stdout
    done = cli(home, "alerts", "decide", str(alert["id"]), "dismissed", "--reason", "a shipyard in Norway", "--user", "rita")
    assert done.returncode == 0 and "dismissed" in done.stdout
    assert audit.entries(s, action="alert.dismissed")[0]["actor"] == "rita"
    nope = cli(home, "alerts", "decide", str(alert["id"]), "confirmed", "--reason", "x y z", "--user", "nobody")
    assert nope.returncode == 2 and "no user named 'nobody'" in nope.stderr
