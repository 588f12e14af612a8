"""govbot: community API-governance and blueprint review bot for Gerrit."""

__version__ = "0.1.0"
