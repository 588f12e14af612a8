"""Alembic migration scripts, shipped in the package (script_location "govbot:migrations")."""
