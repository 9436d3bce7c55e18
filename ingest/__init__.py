"""Ingestion: fetch, decode and parse, inspect files, judge by rules, decide once, persist."""
