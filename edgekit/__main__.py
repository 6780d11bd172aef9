"""`python -m edgekit` runs the CLI, as the `edgekit` command does."""

from edgekit.cli.main import main

main()
