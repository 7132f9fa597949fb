"""The registry of selection methods: the one list the config's `method` field and the loop read.

Built-in methods are the packages of `edtune/methods/`: each has a `method` module that registers its
factories with `@methods.register(name)` when imported. Third-party methods are entry points of the group
`edtune.methods` (the entry point's name is the method's name, its object a factory returning a `Method`).
Nothing is imported until a method is looked up: the first lookup imports every built-in `method` module
and lists the entry points; an entry point's own module is imported only when its method is built.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Annotated

from pydantic import AfterValidator

from edtune.errors import UserError
from edtune.methods.base import Method
from edtune.registry import Registry

GROUP = "edtune.methods"
"""Entry-point group of third-party selection methods."""


class MethodRegistry(Registry[Method]):
    """`Registry` of methods that finds the built-in ones and the entry points on first lookup."""

    def __init__(self) -> None:
        super().__init__("selection method")
        self._found = False

    def create(self, name: str, /, **kwargs: object) -> Method:
        self._find()
        return super().create(name, **kwargs)

    def names(self) -> list[str]:
        self._find()
        return super().names()

    def __contains__(self, name: object) -> bool:
        self._find()
        return super().__contains__(name)

    def discover(self) -> None:
        """Look for entry points again (a plugin installed, or put on sys.path, since the first lookup)."""
        self._find()
        self._add_entry_points()

    def _find(self) -> None:
        if self._found:
            return
        self._found = True  # set first: a method module may look methods up while it is imported
        try:
            import edtune.methods as package

            for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
                if info.ispkg:
                    importlib.import_module(f"{package.__name__}.{info.name}.method")
            self._add_entry_points()
        except BaseException:
            self._found = False
            raise

    def _add_entry_points(self) -> None:
        for point in entry_points(group=GROUP):
            if point.name in self._factories:
                if getattr(self._factories[point.name], "entry_point", None) != point.value:
                    warnings.warn(f"selection method '{point.name}' of entry point {point.value} is ignored: "
                                  "a method of that name is already registered", stacklevel=3)
                continue
            self._factories[point.name] = _deferred(point)


def _deferred(point: EntryPoint) -> Callable[..., Method]:
    """A factory that imports the entry point's object on first use and calls it."""

    def build(**kwargs: object) -> Method:
        try:
            factory = point.load()
        except Exception as exc:
            raise UserError(f"selection method '{point.name}' (entry point {point.value}) cannot be "
                            f"imported: {type(exc).__name__}: {exc}") from exc
        method: Method = factory(**kwargs)
        return method

    build.entry_point = point.value  # type: ignore[attr-defined]
    return build


methods = MethodRegistry()
"""Every selection method by name."""


def needs_teacher(name: str) -> bool:
    """Whether method `name` asks the teacher; UserError for an unknown name."""
    return methods.create(name).needs_teacher


def known_method(name: str) -> str:
    """`name` when a method of that name is registered; ValueError listing the known ones otherwise."""
    if name not in methods:
        raise ValueError(f"unknown selection method '{name}'; known: {', '.join(methods.names())}")
    return name


MethodName = Annotated[str, AfterValidator(known_method)]
"""A registered method's name, checked when a config is validated."""
