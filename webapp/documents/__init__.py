"""Documents: upload, parsing, passages and full-text search."""
