"""`python -m ingest` is the `intake` command."""

from ingest.cli import main

main()
