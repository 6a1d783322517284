"""The user's to-do list."""
