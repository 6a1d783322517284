"""Model providers behind one neutral streaming interface."""

from webapp.llm.base import (
    Event,
    Finished,
    Message,
    Provider,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
)

__all__ = [
    "Event",
    "Finished",
    "Message",
    "Provider",
    "ProviderError",
    "TextDelta",
    "ToolCall",
    "ToolResult",
    "ToolSpec",
    "Usage",
]
