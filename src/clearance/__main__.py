"""``python -m clearance`` runs the CLI."""

from .cli import main

main()
