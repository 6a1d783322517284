"""The formats a document may have: their content types and the names users know them by.

Kept apart from the readers, so that pages can name formats without loading any of them.
"""

from __future__ import annotations

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "txt": "text/plain",
    "md": "text/markdown",
}
KIND_LABELS = {"pdf": "PDF", "docx": "Word", "xlsx": "Excel", "csv": "CSV", "txt": "Text", "md": "Markdown"}
ACCEPTED_EXTENSIONS = (".pdf", ".docx", ".xlsx", ".csv", ".txt", ".md")
TABULAR_KINDS = ("xlsx", "csv")
# Until a file is read, its type is only what its name suggests.
UNKNOWN_CONTENT_TYPE = "application/octet-stream"
KINDS_BY_CONTENT_TYPE = {content_type: kind for kind, content_type in CONTENT_TYPES.items()}


def content_type_from_name(filename: str) -> str:
    """The content type a file's extension suggests, before its content is read."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return CONTENT_TYPES.get({"markdown": "md", "tsv": "csv"}.get(extension, extension), UNKNOWN_CONTENT_TYPE)
