"""Local model servers that edtune can start itself (for tests, benchmarks and the demo)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Served:
    """A model being served over the OpenAI-compatible protocol: which kind of server, where, what name."""

    provider: str
    base_url: str
    model: str

    @property
    def spec(self) -> str:
        """The spec string a user would write for it (see `edtune.specs`)."""
        return f"{self.provider}/{self.model}@{self.base_url}"
