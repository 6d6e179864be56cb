"""The ``clearance`` command: a thin face over the library.

Exit codes: 0 success / all clear, 1 something flagged (screening commands) or
a check failed, 2 an error (one line on stderr naming what and where).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..errors import ClearanceError

app = typer.Typer(
    name="clearance",
    help="Restricted-party and covered-equipment screening on the real published lists.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
lists_app = typer.Typer(help="Import, inspect, diff and export list snapshots.", no_args_is_help=True)
store_app = typer.Typer(help="Initialise and check the snapshot store.", no_args_is_help=True)
app.add_typer(lists_app, name="lists")
app.add_typer(store_app, name="store")

console = Console()
err_console = Console(stderr=True)

EXIT_OK, EXIT_FLAGGED, EXIT_ERROR = 0, 1, 2


def error_line(error: object) -> None:
    """The one red ``error:`` line every failure prints on stderr."""
    err_console.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)


def fail(error: object) -> NoReturn:
    """:func:`error_line`, then exit 2 (a library error or a message)."""
    error_line(error)
    raise typer.Exit(EXIT_ERROR)


@contextmanager
def progress_bar(description: str, enabled: bool = True) -> Iterator[Progress | None]:
    """A Rich progress bar on a terminal; nothing when output is piped."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        yield progress


def get_store():
    """Open the store, initialising it from the bundled lists on first use (with progress)."""
    from ..store import open_store

    store = open_store(initialise=False)
    if store.is_empty():
        from ..store import initialise_bundled

        err_console.print("[dim]First use: importing the bundled lists into the store...[/dim]")
        with progress_bar("Importing") as progress:
            task = progress.add_task("Importing bundled lists", total=None) if progress else None

            def on_import(index: int, total: int, source: str, captured: str) -> None:
                if progress is not None:
                    progress.update(task, total=total, completed=index, description=f"{source} {captured}")

            initialise_bundled(store, on_import)
    return store


def main() -> None:
    """Console-script entry point: turns library errors into one line and exit 2."""
    from . import assess, assets, demo, exposure, lists, screen, serve, store_cmd  # noqa: F401  (register commands)

    import importlib.util
    import logging

    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)

    if importlib.util.find_spec("clearance.cli.check") is not None:  # the matching engine's command
        from . import check  # noqa: F401
    try:  # typer 0.2x carries its own copy of click
        from typer._click.exceptions import ClickException
    except ImportError:  # pragma: no cover - older typer on click
        from click.exceptions import ClickException

    try:
        code = app(standalone_mode=False)
    except ClearanceError as exc:
        error_line(exc)
        sys.exit(EXIT_ERROR)
    except ClickException as exc:  # a bad option or argument: one line too, not a usage box
        message = exc.format_message()
        if message:  # (a group run without a command has printed its help: nothing to add)
            where = f"{exc.ctx.command_path}: " if getattr(exc, "ctx", None) is not None else ""
            error_line(f"{where}{message} (see --help)")
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
