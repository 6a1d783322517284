"""Chat threads: the lists, search and export (routes.py) and the conversation (conversation.py)."""
