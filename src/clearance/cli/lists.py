"""``clearance lists ...``: import, status, history, diff, export, activate."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from . import console, err_console, get_store, lists_app, progress_bar


def _short_time(iso: str) -> str:
    """'2026-11-30T07:05:12+00:00' -> '2026-11-30 07:05' for tables."""
    return iso[:16].replace("T", " ")


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@lists_app.command("import")
def import_(
    path: Path = typer.Argument(..., help="Folder or file of one capture of the list."),
    source: str = typer.Option(..., "--source", "-s", help="Source id, e.g. us-ofac-sdn, or a name for your own list."),
    captured: Optional[str] = typer.Option(None, "--captured", help="When the files were captured, YYYY-MM."),
) -> None:
    """Import a capture as a new snapshot and make it active (same files twice: no new version)."""
    store = get_store()
    with progress_bar(f"Importing {source}") as progress:
        task = progress.add_task(f"Writing {source}", total=None) if progress else None

        def on_progress(done: int, total: int) -> None:
            if progress is not None:
                progress.update(task, completed=done, total=total)

        result = store.import_files(path, source, captured=captured, progress=on_progress)
    snap = result.snapshot
    if result.created:
        console.print(
            f"Imported {source} version {snap.version}: {snap.entity_count} entities, "
            f"{snap.name_count} names (now active)."
        )
    else:
        console.print(f"{source}: these files are already version {snap.version}; no new version created.")


@lists_app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """One row per source: active version, captured, entities, names, last import."""
    store = get_store()
    rows = []
    for snap in store.active_snapshots():
        versions = store.history(snap.source)
        rows.append(
            {
                "source": snap.source,
                "active_version": snap.version,
                "versions": len(versions),
                "captured": snap.captured,
                "published": snap.published,
                "entities": snap.entity_count,
                "names": snap.name_count,
                "last_import": max(v.imported_at for v in versions),
            }
        )
    if as_json:
        _print_json(rows)
        return
    table = Table(title=f"Lists in {store.url}")
    for column in ("source", "active", "captured", "entities", "names", "last import"):
        table.add_column(column, justify="right" if column in ("active", "entities", "names") else "left")
    for r in rows:
        table.add_row(
            r["source"],
            f"v{r['active_version']} of {r['versions']}",
            r["captured"] or r["published"] or "-",
            f"{r['entities']:,}",
            f"{r['names']:,}",
            _short_time(r["last_import"]),
        )
    console.print(table)


@lists_app.command("history")
def history(source: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every version of a source, oldest first."""
    store = get_store()
    snaps = store.history(source)
    active_id = store.active_snapshot(source).id
    if as_json:
        _print_json([dict(s.to_dict(), active=s.id == active_id) for s in snaps])
        return
    table = Table(title=f"History of {source}")
    for column in ("version", "captured", "published", "imported", "entities", "content hash", "active"):
        table.add_column(column)
    for s in snaps:
        table.add_row(
            str(s.version),
            s.captured or "-",
            s.published or "-",
            _short_time(s.imported_at),
            f"{s.entity_count:,}",
            s.content_hash[:12],
            "yes" if s.id == active_id else "",
        )
    console.print(table)


@lists_app.command("diff")
def diff_cmd(
    source: str,
    old: Optional[int] = typer.Argument(None, help="Old version (default: the one before the latest)."),
    new: Optional[int] = typer.Argument(None, help="New version (default: the latest)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    limit: int = typer.Option(20, "--limit", min=0, max=1_000_000, help="How many ids of each kind to list in the table view."),
) -> None:
    """Entities added, removed and changed (with field-level changes) between two versions."""
    from ..store import diff

    store = get_store()
    result = diff(store, source, old, new)
    if as_json:
        _print_json(result.to_dict())
        return
    console.print(
        f"[bold]{source}[/bold] v{result.old.version} ({result.old.captured or result.old.imported_at}) -> "
        f"v{result.new.version} ({result.new.captured or result.new.imported_at}): "
        f"[green]{len(result.added)} added[/green], [red]{len(result.removed)} removed[/red], "
        f"[yellow]{len(result.changed)} changed[/yellow]"
    )
    names = {}
    for snap, ids in ((result.new, result.added[:limit]), (result.old, result.removed[:limit])):
        wanted = set(ids)
        for entity in store.entities(snap):
            if entity.id in wanted:
                names[entity.id] = entity.caption
    for label, ids in (("added", result.added), ("removed", result.removed)):
        for entity_id in ids[:limit]:
            console.print(f"  {label:8} {entity_id:28} {names.get(entity_id, '')}", highlight=False)
        if len(ids) > limit:
            console.print(f"  ... and {len(ids) - limit} more {label}")
    for change in result.changed[:limit]:
        fields = ", ".join(change["fields"])
        console.print(f"  changed  {change['id']:28} {fields}", highlight=False)
    if len(result.changed) > limit:
        console.print(f"  ... and {len(result.changed) - limit} more changed")


@lists_app.command("export")
def export(
    source: str,
    fmt: str = typer.Option("ftm", "--format", "-f", help="Output format (ftm: FollowTheMoney JSON lines)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
    version: Optional[int] = typer.Option(None, "--version", help="Version to export (default: the active one)."),
) -> None:
    """Export a snapshot as FollowTheMoney JSON lines."""
    from ..errors import InputError
    from ..sources.ftm import export_lines
    from ..tabular.write import text_output

    if fmt != "ftm":
        raise InputError(f"--format {fmt!r} is not supported; expected 'ftm'")
    store = get_store()
    snap = store.snapshot(source, version) if version else store.active_snapshot(source)
    lines = export_lines(store.entities(snap), dataset=source)
    if output is None:
        for line in lines:
            sys.stdout.write(line + "\n")
        return
    count = 0
    with text_output(output) as fh:
        for line in lines:
            fh.write(line + "\n")
            count += 1
    err_console.print(f"Wrote {count} FtM entities of {source} v{snap.version} to {output}")


@lists_app.command("activate")
def activate(source: str, version: int = typer.Argument(..., min=1, max=2**31 - 1)) -> None:
    """Serve another version of a source (e.g. roll back a bad capture)."""
    snap = get_store().activate(source, version)
    console.print(f"{source}: version {snap.version} is now active.")
