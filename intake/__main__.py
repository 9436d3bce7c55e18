"""`python -m ingest` is the `intake` command."""

from intake.cli import main

main()
