"""The snapshot store on the real bundled lists: versions, activation, diff,
export, integrity — on SQLite and, when a server is available, PostgreSQL."""

from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import text

from clearance.errors import InputError, StoreError
from clearance.sources.ftm import export_lines
from clearance.store import diff, open_store, verify

from .conftest import LISTS, run_cli


def _ent_nums(folder, name="sdn.csv") -> set[str]:
    with open(LISTS / folder / name, encoding="utf-8", newline="") as fh:
        return {row[0] for row in csv.reader(fh) if row and row[0].strip().isdigit()}


SDN_2019 = "us-ofac-sdn/2019-01"
SDN_2021 = "us-ofac-sdn/2021-07"


def test_import_versions_and_idempotence(db_url):
    store = open_store(initialise=False)
    first = store.import_files(LISTS / SDN_2019, "us-ofac-sdn", captured="2019-01")
    assert first.created and first.snapshot.version == 1
    assert first.snapshot.entity_count == len(_ent_nums(SDN_2019))
    again = store.import_files(LISTS / SDN_2019, "us-ofac-sdn", captured="2019-01")
    assert not again.created and again.snapshot.id == first.snapshot.id
    second = store.import_files(LISTS / SDN_2021, "us-ofac-sdn", captured="2021-07")
    assert second.created and second.snapshot.version == 2
    assert store.active_snapshot("us-ofac-sdn").id == second.snapshot.id
    assert [s.version for s in store.history("us-ofac-sdn")] == [1, 2]
    assert verify(store) == []

    # Unchanged entities are stored once and shared between versions.
    with store.engine.connect() as conn:
        stored = conn.execute(text("select count(*) from entity_data")).scalar()
    assert stored < first.snapshot.entity_count + second.snapshot.entity_count

    # Rolling back is an activation, not a re-import.
    store.activate("us-ofac-sdn", 1)
    assert store.active_snapshot("us-ofac-sdn").version == 1
    assert sum(1 for _ in store.active_entities(["us-ofac-sdn"])) == first.snapshot.entity_count


@pytest.mark.parametrize("captured", ["2020-99", "2020-02-30", "2020-9", "yesterday", "2020"])
def test_an_impossible_capture_date_is_refused_before_anything_is_written(home, captured):
    store = open_store(initialise=False)
    with pytest.raises(InputError, match="expected a real month or day"):
        store.import_files(LISTS / SDN_2019, "us-ofac-sdn", captured=captured)
    assert store.sources() == []


@pytest.mark.parametrize("source", ["", "Bad Id!", "-x", "a", "UPPER"])
def test_a_bad_source_id_is_refused(home, tmp_path, source):
    listing = tmp_path / "block.csv"
    listing.write_text("name,country\nQA Test Blocked Co,IR\n", encoding="utf-8")
    store = open_store(initialise=False)
    with pytest.raises(InputError, match="expected 2 to 100 lower-case letters"):
        store.import_files(listing, source)
    assert store.sources() == []


def test_older_store_gets_new_indexes(db_url):
    """An index a later version added is created when an older store is opened."""
    from sqlalchemy import inspect

    store = open_store(initialise=False)
    with store.engine.begin() as conn:
        conn.execute(text("drop index ix_alerts_last_run"))
        conn.execute(text("delete from meta where key = 'indexes'"))  # as an older version left it
    assert "ix_alerts_last_run" not in {ix["name"] for ix in inspect(store.engine).get_indexes("alerts")}
    store.engine.dispose()
    store = open_store(initialise=False)
    assert "ix_alerts_last_run" in {ix["name"] for ix in inspect(store.engine).get_indexes("alerts")}


def test_diff_matches_raw_files(db_url):
    store = open_store(initialise=False)
    store.import_files(LISTS / SDN_2019, "us-ofac-sdn", captured="2019-01")
    store.import_files(LISTS / SDN_2021, "us-ofac-sdn", captured="2021-07")
    old, new = _ent_nums(SDN_2019), _ent_nums(SDN_2021)
    result = diff(store, "us-ofac-sdn")
    assert {i.rsplit("-", 1)[1] for i in result.added} == new - old
    assert {i.rsplit("-", 1)[1] for i in result.removed} == old - new
    assert len(result.added) > 1000 and len(result.removed) > 100
    changed = {c["id"] for c in result.changed}
    assert changed and changed <= {f"us-ofac-sdn-{n}" for n in old & new}
    assert all(c["fields"] for c in result.changed)


def test_activation_records_what_changed(db_url):
    """Importing (which activates) or activating a snapshot records which entities changed since
    the one it replaces, as the snapshots compare and as ``diff`` finds them; any other pair is
    compared when asked."""
    from clearance.store import changes
    from clearance.store import schema as t

    store = open_store(initialise=False)
    old = store.import_files(LISTS / SDN_2019, "us-ofac-sdn", captured="2019-01").snapshot
    new = store.import_files(LISTS / SDN_2021, "us-ofac-sdn", captured="2021-07").snapshot
    store.activate("us-ofac-sdn", 1)
    store.activate("us-ofac-sdn", 1)  # the same again: nothing replaced
    with store.engine.connect() as conn:
        pairs = sorted(conn.execute(text("select old_id, new_id from snapshot_changes")).all())
        recorded, forth, back = changes.changes(conn, old.id, new.id), changes.compare(conn, old.id, new.id), changes.compare(conn, new.id, old.id)
        assert changes.changes(conn, new.id, old.id) == back
        conn.execute(t.snapshot_changes.delete())
        assert changes.changes(conn, old.id, new.id) == forth  # not recorded: compared
    assert pairs == [(old.id, new.id), (new.id, old.id)]
    added, changed, removed = recorded
    assert recorded == forth and back == (removed, changed, added)
    found = diff(store, "us-ofac-sdn", 1, 2)
    assert (added, sorted(c["id"] for c in found.changed), removed) == (found.added, changed, found.removed)
    assert len(added) > 1000 and len(changed) > 100 and len(removed) > 100


def test_history_and_diff_errors(home):
    store = open_store(initialise=False)
    with pytest.raises(StoreError, match="unknown source"):
        store.history("nope")
    store.import_files(LISTS / "us-ofac-nonsdn/2025-12", "us-ofac-nonsdn")
    with pytest.raises(StoreError, match="only one version"):
        diff(store, "us-ofac-nonsdn")
    with pytest.raises(StoreError, match="no version 7"):
        store.snapshot("us-ofac-nonsdn", 7)


def test_bundled_initialisation(bundled_store):
    snaps = {s.source: s for s in bundled_store.active_snapshots()}
    assert set(snaps) == {"us-ofac-sdn", "us-ofac-nonsdn", "un-sc", "us-bis-dpl", "us-trade-csl", "us-covered"}
    assert snaps["us-ofac-sdn"].captured == "2021-07"
    assert snaps["us-ofac-sdn"].entity_count == len(_ent_nums(SDN_2021))
    assert snaps["us-ofac-nonsdn"].entity_count == 442
    assert snaps["un-sc"].entity_count == 730 + 273
    assert snaps["un-sc"].published == "2026-02-27"
    assert [s.captured for s in bundled_store.history("us-bis-dpl")] == ["2019-06", "2022-09"]
    assert [s.captured for s in bundled_store.history("us-ofac-sdn")] == ["2019-01", "2021-07"]
    assert verify(bundled_store) == []
    source, hikvision = bundled_store.entity("us-ofac-nonsdn-30946")
    assert source == "us-ofac-nonsdn"
    assert hikvision.get("isinCode") == ["CNE100000PM8"]


def test_ftm_export_round_trip(bundled_store, tmp_path, home):
    snap = bundled_store.active_snapshot("us-ofac-nonsdn")
    originals = {e.id: e for e in bundled_store.entities(snap)}
    path = tmp_path / "nonsdn.ftm.json"
    path.write_text("\n".join(export_lines(originals.values(), dataset="us-ofac-nonsdn")) + "\n", encoding="utf-8")

    from followthemoney import model

    for line in path.read_text(encoding="utf-8").splitlines():
        model.get_proxy(json.loads(line))  # every exported record is valid FtM

    store = open_store(initialise=False)
    result = store.import_files(path, "my-nonsdn-copy")
    assert result.snapshot.entity_count == len(originals)
    imported = {e.id: e for e in store.entities(result.snapshot)}
    hik = imported["us-ofac-nonsdn-30946"]
    assert hik.schema == "Company"
    assert hik.get("isinCode") == ["CNE100000PM8"]
    assert "HIKVISION" in hik.get("alias")
    assert hik.get("program") == originals["us-ofac-nonsdn-30946"].get("program")
    assert hik.get("effectiveDate") == originals["us-ofac-nonsdn-30946"].get("effectiveDate")
    for entity_id, original in originals.items():
        assert sorted(imported[entity_id].get("name")) == sorted(original.get("name"))


def test_verify_finds_tampering(copy_of_bundled):
    store = open_store(initialise=False)
    assert verify(store) == []
    with store.engine.begin() as conn:
        conn.execute(text("update entity_data set data = replace(data, 'HIKVISION', 'HIKVlSION')"))
    problems = verify(store)
    assert any("does not match its hash" in p for p in problems)
    result = run_cli("store", "verify")
    assert result.returncode == 1
    assert "does not match its hash" in result.stderr


def test_verify_finds_broken_activation(copy_of_bundled):
    store = open_store(initialise=False)
    with store.engine.begin() as conn:
        conn.execute(text("delete from snapshot_entities where entity_id = 'us-ofac-nonsdn-30946'"))
    problems = verify(store)
    assert any("us-ofac-nonsdn version 1" in p and "entities stored" in p for p in problems)


def test_disk_full_leaves_store_untouched(copy_of_bundled):
    """A size-capped database file (SQLite max_page_count) fills up mid-import."""
    from sqlalchemy import event

    store = open_store(initialise=False)
    before = {s.source: s.id for s in store.active_snapshots()}
    with store.engine.connect() as conn:
        pages = conn.execute(text("PRAGMA page_count")).scalar()

    @event.listens_for(store.engine, "connect")
    def cap(dbapi_connection, record):
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 20}")

    store.engine.dispose()
    with pytest.raises(StoreError, match="store is full.*previous snapshot is still active"):
        store.import_files(LISTS / "un-sc/2026-02", "un-copy")
    event.remove(store.engine, "connect", cap)
    store.engine.dispose()
    store = open_store(initialise=False)
    assert {s.source: s.id for s in store.active_snapshots()} == before
    assert "un-copy" not in store.sources()
    assert verify(store) == []
