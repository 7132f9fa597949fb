"""A small registry by name for the things that swap (students, judges, retrievers, selectors, providers).

Entries are registered as factories so that heavy imports (torch, faiss, vllm) happen only when an
entry is built, never when edtune is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from edtune.errors import UserError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps a short name to a factory returning a `T`."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator: register `factory` under `name`; a second registration of a name is an error."""

        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise UserError(f"{self.kind} '{name}' is already registered")
            self._factories[name] = factory
            return factory

        return deco

    def create(self, name: str, /, **kwargs: object) -> T:
        """Build the entry `name`; an unknown name lists the known ones."""
        try:
            factory = self._factories[name]
        except KeyError:
            known = ", ".join(sorted(self._factories)) or "none"
            raise UserError(f"unknown {self.kind} '{name}' (known: {known})") from None
        return factory(**kwargs)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories
