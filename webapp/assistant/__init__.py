"""What the assistant is told and what it can do: prompts, skills and tools."""
