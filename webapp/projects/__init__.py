"""Projects: the engagements that hold documents and chats."""
