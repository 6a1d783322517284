"""Threads: the chat lists, the thread page, posting a message, and the reply stream."""
