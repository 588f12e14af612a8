"""The rule catalogue. Importing :mod:`govbot.rules.catalog` registers every rule."""
