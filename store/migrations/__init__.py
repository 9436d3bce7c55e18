"""Alembic migrations of the store's schema; `intake db upgrade` runs them."""
