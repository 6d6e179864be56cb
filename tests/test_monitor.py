"""``clearance monitor``: incremental re-screening after a list update gives
exactly the alerts of a full re-screen (OFAC SDN 2019-01 -> 2021-07)."""

from __future__ import annotations

import csv
import json
import random

import pytest

from tests.test_batch_support import cli, monitor_home, planted_rows, screen_home, sdn_2019_index, warm_bundled_home  # noqa: F401


def alert_keys(store, portfolio_id):
    from clearance.store import runs as r

    return sorted((a["row_index"], a["entity_id"], a["hit_status"], a["score"]) for a in r.open_alerts(store, portfolio_id))


@pytest.fixture
def portfolio(monitor_home, tmp_path):
    """Counterparties touching the SDN update: names it added, removed and changed, plus planted and clean rows."""
    from clearance.store import diff, open_store

    store = open_store(initialise=False)
    change = diff(store, "us-ofac-sdn", 1, 2)
    old = {e.id: e for e in store.entities(store.snapshot("us-ofac-sdn", 1))}
    new = {e.id: e for e in store.entities(store.snapshot("us-ofac-sdn", 2))}
    rng = random.Random(2021)
    rows = [(new[i].caption, "", "sdn-added") for i in rng.sample(change.added, 60)]
    rows += [(old[i].caption, "", "sdn-removed") for i in rng.sample(change.removed, 40)]
    rows += [(new[c["id"]].caption, "", "sdn-changed") for c in rng.sample(change.changed, 40)]
    rows += [(r["name"], r["country"], r["kind"]) for r in planted_rows()]
    words = "acme global trading northern pacific logistics supply holdings united industrial services marine energy".split()
    rows += [(" ".join(rng.sample(words, 2)).title() + " " + rng.choice(["Ltd", "GmbH", "LLC", "SA"]), rng.choice(["", "DE", "CN"]), "clean") for _ in range(300)]
    path = tmp_path / "portfolio.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Counterparty", "Country", "Note"])
        writer.writerows(rows)
    return store, path


def test_incremental_run_equals_full_rescreen(portfolio):
    from clearance.screen.monitor import add_portfolio, run_portfolio

    store, path = portfolio
    store.activate("us-ofac-sdn", 1)
    first = add_portfolio(store, path, "book")
    assert first.rows > 500 and first.new > 0
    store.activate("us-ofac-sdn", 2)
    result = run_portfolio(store, "book")
    change = result.list_changes["us-ofac-sdn"]
    assert (change["from"], change["to"]) == (1, 2) and change["added"] > 1000 and change["removed"] > 100
    assert result.new > 0 and result.resolved > 0
    assert result.rescreened < result.rows - 200, result.stages  # most of the 340 clean rows were left alone
    full = add_portfolio(store, path, "reference")
    assert alert_keys(store, result.portfolio_id) == alert_keys(store, full.portfolio_id)
    resolved = [a for a in result.alerts if a["change"] == "resolved"]
    assert any(a["resolution"] == "entity removed from the list" for a in resolved)

    # nothing changed since: nothing re-screened, nothing reported
    again = run_portfolio(store, "book")
    assert (again.rescreened, again.new, again.changed, again.resolved) == (0, 0, 0, 0)
    assert again.open == result.open

    # and back to 2019-01: the alerts are those of a full screen on that version
    store.activate("us-ofac-sdn", 1)
    back = run_portfolio(store, "book")
    reference = add_portfolio(store, path, "reference", replace=True)
    assert alert_keys(store, back.portfolio_id) == alert_keys(store, reference.portfolio_id)
    assert back.new > 0 and back.resolved > 0


def test_monitor_cli(portfolio, monitor_home):
    store, path = portfolio
    store.activate("us-ofac-sdn", 1)
    added = cli("monitor", "add", str(path), "--name", "book", "--map", "name=Counterparty", "--json", home=monitor_home)
    assert added.returncode == 1, added.stderr
    data = json.loads(added.stdout)
    assert data["name"] == "book" and data["rows"] > 500 and data["new"] > 0
    dup = cli("monitor", "add", str(path), "--name", "book", home=monitor_home)
    assert dup.returncode == 2 and "already exists" in dup.stderr
    store.activate("us-ofac-sdn", 2)
    run = cli("monitor", "run", "--json", home=monitor_home)
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)["portfolios"][0]
    assert report["list_changes"]["us-ofac-sdn"]["to"] == 2
    assert report["new"] > 0 and report["resolved"] > 0
    changes = {a["change"] for a in report["alerts"]}
    assert {"new", "resolved"} <= changes
    table = cli("monitor", "run", home=monitor_home)
    assert table.returncode == 0 and "book" in table.stdout
    listed = json.loads(cli("monitor", "list", "--json", home=monitor_home).stdout)
    assert listed[0]["name"] == "book" and listed[0]["open_alerts"] == report["open"]
    missing = cli("monitor", "run", "--name", "nope", home=monitor_home)
    assert missing.returncode == 2 and "no portfolio named 'nope'" in missing.stderr
    odd = path.with_name("odd.jsonl")
    odd.write_text('{"Counterparty": "Mahan Air"}\n[1, 2]\n"str"\n', encoding="utf-8")
    told = cli("monitor", "add", str(odd), "--name", "odd", "--map", "name=Counterparty", home=monitor_home)
    assert told.returncode == 2 and "2 row(s) could not be screened" in told.stderr, told.stderr
    as_json = cli("monitor", "add", str(odd), "--name", "odd", "--replace", "--map", "name=Counterparty", "--json", home=monitor_home)
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["errors"] == 2


def test_runs_alerts_and_portfolios_on_sqlite_and_postgresql(db_url, home, tmp_path):
    """The run/alert/portfolio tables and their updates work on both databases (a small DPL store)."""
    from clearance.data import bundled_captures
    from clearance.screen.batch import screen_file
    from clearance.screen.monitor import add_portfolio, run_portfolio
    from clearance.store import open_store
    from clearance.store import runs as r

    store = open_store(initialise=False)
    dpl = [(c, s, f) for c, s, f in bundled_captures() if s == "us-bis-dpl"]
    for captured, source, folder in dpl:
        store.import_files(folder, source, captured=captured)
    src = tmp_path / "p.csv"
    src.write_text("name\nAaron Abraham Villa\nSiemens AG\nHELENE AGNESE\n", encoding="utf-8")
    summary = screen_file(store, src, tmp_path / "out.jsonl")
    assert summary.counts["match"] == 2 and len(r.run_alerts(store, summary.run_id)) >= 2
    store.activate("us-bis-dpl", 1)
    first = add_portfolio(store, src, "dpl")
    store.activate("us-bis-dpl", len(dpl))
    later = run_portfolio(store, "dpl")
    reference = add_portfolio(store, src, "reference")
    assert alert_keys(store, later.portfolio_id) == alert_keys(store, reference.portfolio_id)
    again = add_portfolio(store, src, "dpl", replace=True)
    assert again.portfolio_id == first.portfolio_id and again.open == reference.open
    # rows' state: one packed value per portfolio (rows at the default left out), read back the same
    records = r.row_state_records([(0, "review", 0.8), (1, "clear", 0.0), (2, "clear", 0.75), (5, "error", 0.0)])
    with store.engine.begin() as conn:
        r.write_row_states(conn, again.portfolio_id, records)
    assert row_states(store, again.portfolio_id) == {0: ("review", 0.8), 2: ("clear", 0.75), 5: ("error", 0.0)}
    with store.engine.begin() as conn:
        r.write_row_states(conn, again.portfolio_id, r.row_state_records([]))
    assert row_states(store, again.portfolio_id) == {}


def row_states(store, portfolio_id: int) -> dict[int, tuple[str, float]]:
    """The rows' state ``portfolio_states`` holds: row index -> (status, near miss)."""
    from clearance.store import runs as r

    with store.engine.connect() as conn:
        found = r.read_row_states(conn, portfolio_id)
    return {int(i): (r.ROW_STATUSES[s], float(near)) for i, s, near in found.tolist()}


@pytest.mark.parametrize("how", ["no cache", "older store", "sparse store", "one process", "child loads its index"])
def test_run_without_prepared_rows_or_fork_equals_full_rescreen(portfolio, how, monkeypatch, tmp_path):
    """The prepared rows are a cache: without them (another machine, a cleared cache dir) a run
    rebuilds them from the store; a store an older version made is upgraded when opened (rows'
    state kept in ``portfolio_rows``, or a row per row in ``portfolio_row_state``); without fork
    (or with threads about) it screens in one process; a run in a process that has not loaded
    the index yet (a CLI command) forks its background child first, which reads its own copy."""
    from clearance.screen import workers
    from clearance.screen.monitor import add_portfolio, run_portfolio
    from clearance.store import runs as r
    from clearance.store import schema as t

    store, path = portfolio
    store.activate("us-ofac-sdn", 1)
    first = add_portfolio(store, path, "book")
    if how in ("no cache", "older store", "sparse store"):
        cached = list(store.cache_dir.glob("monitor-*"))
        assert {c.name.split(".", 1)[1] for c in cached} == {"book"}
        for file in cached:
            file.unlink()
        if how != "no cache":  # the store as an older version left it, not yet upgraded
            from clearance.store import Store

            states = row_states(store, first.portfolio_id)
            with store.engine.begin() as conn:
                conn.execute(r.portfolio_states.delete())
                conn.execute(t.meta.delete().where(t.meta.c.key == r.ROW_STATE_LAYOUT))
                if how == "sparse store":
                    conn.execute(t.meta.insert().values(key=r.ROW_STATE_LAYOUT, value="sparse"))
                    conn.execute(r.portfolio_row_state.insert(), [
                        {"portfolio_id": first.portfolio_id, "row_index": i, "status": status, "near": near} for i, (status, near) in states.items()
                    ])
            store = Store(store.engine, store.home)  # opening it upgrades it
            assert row_states(store, first.portfolio_id) == states
    elif how == "one process":
        monkeypatch.setattr(workers.threading, "active_count", lambda: 2)
    else:
        import os

        from clearance.match import index as index_mod
        from clearance.screen import check, monitor

        monkeypatch.setattr(workers.threading, "active_count", lambda: 1)  # idle threads left by other tests
        monkeypatch.setattr(monitor, "BACKGROUND_FROM", 1)
        loads, load = tmp_path / "loads", index_mod.load

        def noted(path):
            with loads.open("a") as out:
                out.write(f"{os.getpid()}\n")
            return load(path)

        monkeypatch.setattr(index_mod, "load", noted)
        check._LOADED.clear()  # as in a new process
    store.activate("us-ofac-sdn", 2)
    result = run_portfolio(store, "book")
    if how == "child loads its index":
        assert len(set(loads.read_text().split())) == 2, "the parent and its child each read the index"
    assert result.new > 0 and result.resolved > 0 and "fallback" not in result.stages
    reference = add_portfolio(store, path, "reference")
    assert alert_keys(store, result.portfolio_id) == alert_keys(store, reference.portfolio_id)
    # the rows' state: each row's status as a full re-screen leaves it, a near miss at least as high
    # (rows the run did not screen keep a bound), and only rows not clear without a near miss held
    monitored, full = row_states(store, result.portfolio_id), row_states(store, reference.portfolio_id)
    assert 0 < len(full) < first.rows and r.DEFAULT_STATE not in [*full.values(), *monitored.values()]
    for i in range(first.rows):
        (status, near), (full_status, full_near) = monitored.get(i, r.DEFAULT_STATE), full.get(i, r.DEFAULT_STATE)
        assert status == full_status and near >= full_near - 1e-9, i


def test_a_bound_violated_screens_every_row(portfolio, monkeypatch):
    """Were a hit on a changed entity ever to score above the bound the filter relied on, the run
    would screen every row in the same transaction (forked child or not), and give the alerts and
    rows' state a full re-screen gives."""
    from clearance.screen import monitor_filter, workers
    from clearance.screen.monitor import add_portfolio, run_portfolio

    store, path = portfolio
    monkeypatch.setattr(workers.threading, "active_count", lambda: 1)  # idle threads left by other tests
    store.activate("us-ofac-sdn", 1)
    add_portfolio(store, path, "book")
    store.activate("us-ofac-sdn", 2)
    check = monitor_filter.ChangeFilter.check_scored

    def violated(self, scored):
        check(self, scored)
        self.violations += 1

    monkeypatch.setattr(monitor_filter.ChangeFilter, "check_scored", violated)
    result = run_portfolio(store, "book")
    reference = add_portfolio(store, path, "reference")
    assert result.stages["fallback"] == "bound violated" and result.rescreened == result.rows
    assert alert_keys(store, result.portfolio_id) == alert_keys(store, reference.portfolio_id)
    assert row_states(store, result.portfolio_id) == row_states(store, reference.portfolio_id)
