"""Accounts: registration, log in and out, personal settings."""
