"""The hosts' workbench: a web application on the shell floor beside the command line.

Pages read through `report/` (the digest's figures, the works, the files) and change state through
modules of `ingest/` (verdicts, selections), the same ones the command line calls; who may do what
is decided in `intake.web.permissions` alone.
"""
