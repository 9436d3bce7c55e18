"""Benchmarks of the intake against the project's own Dovecot and SMTP sink: `python -m bench --help`.

Run on demand from a clone (never in the test suite; nothing here is installed with the wheel).
"""
