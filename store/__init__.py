"""Persistence of the intake: SQL metadata and content-addressed blob files.

This package imports nothing else of the project.
"""
