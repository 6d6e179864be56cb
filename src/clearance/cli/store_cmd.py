"""``clearance store ...``: initialise and verify."""

from __future__ import annotations

import typer

from . import EXIT_FLAGGED, console, err_console, get_store, store_app


@store_app.command("init")
def init() -> None:
    """Create the store and import the bundled lists (done automatically on first use)."""
    store = get_store()
    snaps = store.active_snapshots()
    total = sum(s.entity_count for s in snaps)
    console.print(f"Store at {store.url}: {len(snaps)} lists active, {total:,} entities.")


@store_app.command("verify")
def verify_cmd() -> None:
    """Check the whole store; exit 0 when consistent, 1 naming each problem otherwise."""
    from ..store import open_store, verify

    store = open_store(initialise=False)
    problems = verify(store)
    if problems:
        for problem in problems:
            err_console.print(f"[red]problem:[/red] {problem}", highlight=False)
        raise typer.Exit(EXIT_FLAGGED)
    snaps = store.active_snapshots()
    console.print(f"Store at {store.url} is consistent: {len(snaps)} active lists.")
