"""Talking to teachers and judges: the LLMClient protocol and its providers."""

from edtune.llm.base import (
    ChatRequest,
    ChatResponse,
    ContentPart,
    LLMClient,
    Message,
    Structured,
    TokenLogprob,
    Usage,
)

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "ContentPart",
    "LLMClient",
    "Message",
    "Structured",
    "TokenLogprob",
    "Usage",
]
