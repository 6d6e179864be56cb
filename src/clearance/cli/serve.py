"""``clearance serve``, ``users``, ``audit``, ``alerts`` and ``config``: the
server and case management, a few lines each over :mod:`clearance.api` and
:mod:`clearance.cases`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from . import EXIT_FLAGGED, EXIT_OK, app, console, err_console, fail, get_store

users_app = typer.Typer(help="Users, roles and API keys (viewer, analyst, reviewer, admin).", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail: verify it, export it for an examiner.", no_args_is_help=True)
alerts_app = typer.Typer(help="The review queue: list alerts, show one, decide it.", no_args_is_help=True)
config_app = typer.Typer(help="Case-management settings (four-eyes ...), each change audited.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(alerts_app, name="alerts")
app.add_typer(config_app, name="config")


def _store(lists: bool = False):
    """The store with the case tables; ``lists``: import the bundled lists on first use
    (users, audit, alerts and config need none)."""
    from ..cases import ensure_tables
    from ..store import open_store

    store = get_store() if lists else open_store(initialise=False)
    ensure_tables(store.engine)
    return store


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, help="Port."),
    workers: int = typer.Option(1, min=1, help="Worker processes (use several with PostgreSQL)."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
) -> None:
    """Run the API and web UI (FastAPI on uvicorn) over the store."""
    from ..api import serve as run

    store = _store(lists=True)
    if workers > 1 and store.engine.dialect.name == "sqlite":
        err_console.print("[yellow]note:[/yellow] several workers on SQLite each load the index; PostgreSQL suits them better")
    err_console.print(f"Clearance on http://{host}:{port}/ui/  (API docs: /docs) - store {store.url}", soft_wrap=True, highlight=False)
    run(host, port, workers, log_level)


# -- users -------------------------------------------------------------------------------------


def _read_password(prompt: bool, from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if prompt:
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return None


@users_app.command("add")
def users_add(
    name: str,
    role: str = typer.Option(..., "--role", help="viewer | analyst | reviewer | admin"),
    password: bool = typer.Option(False, "--password", help="Also set a password for the web UI (prompted)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Add a user and print their API key (shown once; only a hash is kept)."""
    from ..cases import users

    store = _store()
    user, key = users.add_user(store, name, role, _read_password(password, password_stdin))
    err_console.print(f"Added {user['name']} ({user['role']}). API key (shown once, store it now):")
    print(key)


@users_app.command("list")
def users_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Users, roles, key ids, and whether they can log in."""
    from ..cases import users

    rows = users.list_users(_store())
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("name", "role", "state", "password", "keys", "created")
    for u in rows:
        keys = ", ".join(k["key_id"] + (" (revoked)" if k["revoked_at"] else "") for k in u["keys"])
        table.add_row(u["name"], u["role"], "disabled" if u["disabled"] else "active", "yes" if u["password"] else "no", keys, u["created_at"][:16])
    console.print(table)


@users_app.command("disable")
def users_disable(name: str) -> None:
    """Disable a user: their keys and sessions stop working at once."""
    from ..cases import users

    users.disable_user(_store(), name)
    err_console.print(f"Disabled {name}.")


@users_app.command("enable")
def users_enable(name: str) -> None:
    """Enable a disabled user again."""
    from ..cases import users

    users.enable_user(_store(), name)
    err_console.print(f"Enabled {name}.")


@users_app.command("role")
def users_role(name: str, role: str) -> None:
    """Change a user's role."""
    from ..cases import users

    users.set_role(_store(), name, role)
    err_console.print(f"{name} is now {role}.")


@users_app.command("key")
def users_key(name: str) -> None:
    """Make another API key for a user (shown once)."""
    from ..cases import users

    print(users.new_key(_store(), name))


@users_app.command("revoke")
def users_revoke(key_id: str) -> None:
    """Revoke an API key by its id (the part after ``clr_``)."""
    from ..cases import users

    users.revoke_key(_store(), key_id)
    err_console.print(f"Revoked key {key_id}.")


@users_app.command("passwd")
def users_passwd(name: str, password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input.")) -> None:
    """Set a user's web-UI password."""
    from ..cases import users

    users.set_password(_store(), name, _read_password(True, password_stdin) or "")
    err_console.print(f"Password set for {name}.")


# -- audit ---------------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(
    anchor: Optional[str] = typer.Option(None, help="SEQ:HASH recorded earlier (from a previous verify or export): it must still be in the chain."),
    file: Optional[Path] = typer.Option(None, "--file", help="Verify an exported JSON lines file instead of the store."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Check every link of the hash chain: exit 0 when intact, 1 naming each problem."""
    from ..cases import audit

    point = audit.parse_anchor(anchor)
    result = audit.verify_file(file, point) if file else audit.verify(_store(), point)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
    elif result.ok:
        console.print(f"audit trail intact: {result.entries} entries; head {result.head_seq}:{result.head_hash}", soft_wrap=True, highlight=False)
    else:
        err_console.print(f"[red]audit trail does not verify[/red] ({result.entries} entries):", highlight=False)
        for problem in result.problems:
            err_console.print(f"  {problem}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_OK if result.ok else EXIT_FLAGGED)


@audit_app.command("export")
def audit_export(
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="File to write (default: standard output)."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl (with a verification trailer) or csv."),
) -> None:
    """Write the whole trail, oldest first, for an examiner (with its verification)."""
    from ..cases import audit

    store = _store()
    if output is None:
        result = audit.export(store, sys.stdout, fmt)
    else:
        from ..tabular.write import text_output

        with text_output(output) as fh:
            result = audit.export(store, fh, fmt)
        err_console.print(f"Wrote {result.entries} entries to {output}; head {result.head_seq}:{result.head_hash}")
    if not result.ok:
        err_console.print("[red]warning:[/red] the trail does not verify: " + "; ".join(result.problems[:3]), highlight=False)
        raise typer.Exit(EXIT_FLAGGED)


@audit_app.command("log")
def audit_log(limit: int = typer.Option(20, min=1, max=1_000_000, help="How many entries (newest first)."), as_json: bool = typer.Option(False, "--json")) -> None:
    """The latest audit entries."""
    from ..cases import audit

    rows = audit.entries(_store(), limit, newest_first=True)
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table("#", "at", "actor", "action", "subject", "details")
    for e in rows:
        table.add_row(str(e["seq"]), e["at"][:19], e["actor"], e["action"], e["subject"] or "", json.dumps(e["details"], ensure_ascii=False)[:80])
    console.print(table)


# -- alerts ---------------------------------------------------------------------------------------


@alerts_app.command("list")
def alerts_list(
    state: Optional[str] = typer.Option(None, help="open, pending, escalated, confirmed, dismissed, suppressed, all (default: those to review)."),
    source: Optional[str] = typer.Option(None),
    run: Optional[int] = typer.Option(None, help="Only alerts of this run."),
    limit: int = typer.Option(50, min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The review queue."""
    from ..cases import review

    items, total = review.queue(_store(), state, source, run, limit=limit)
    if as_json:
        print(json.dumps({"total": total, "alerts": items}, ensure_ascii=False, default=str))
        return
    table = Table("alert", "record", "list entry", "list", "score", "review", title=f"{total} alerts")
    for a in items:
        table.add_row(str(a["id"]), a["query_name"] or "", a["name"] or "", a["source"], f"{a['score']:.2f}", a["review_state"])
    console.print(table)


@alerts_app.command("decide")
def alerts_decide(
    alert_id: int,
    decision: str = typer.Argument(..., help="confirmed | dismissed | escalated | approved | rejected"),
    reason: str = typer.Option(..., "--reason", help="Why (required; kept in the audit trail)."),
    user: str = typer.Option(..., "--user", help="The reviewer deciding (an existing user)."),
) -> None:
    """Decide an alert as USER (whose role must allow it)."""
    from ..cases import review, users
    from ..cases.users import Principal

    store = _store()
    who = users.get_user(store, user)
    if who["disabled"]:
        fail(f"user {user} is disabled")
    from sqlalchemy import select

    from ..cases.tables import users as users_table

    with store.engine.connect() as conn:
        user_id = conn.execute(select(users_table.c.id).where(users_table.c.name == user)).scalar()
    result = review.decide(store, alert_id, decision, reason, Principal(user_id, who["name"], who["role"], "cli"))
    console.print(f"alert #{alert_id}: {result['state']} (decision #{result['decision_id']})")


# -- config ---------------------------------------------------------------------------------------


@config_app.command("show")
def config_show() -> None:
    """Current settings."""
    from ..cases import settings

    for key, value in settings.get_all(_store()).items():
        console.print(f"{key} = {json.dumps(value)}  [dim]# {settings.DESCRIPTIONS.get(key, '')}[/dim]")


@config_app.command("set")
def config_set(key: str, value: str) -> None:
    """Change a setting (audited), e.g. ``clearance config set four_eyes true``."""
    from ..cases import settings

    new = settings.set_value(_store(), key, value)
    console.print(f"{key} = {json.dumps(new)}")
