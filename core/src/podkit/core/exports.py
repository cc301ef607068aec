"""Lazy package exports (PEP 562), the one way every podkit package's ``__init__`` exports names.

A package lists what it exports and the module each name lives in; a name is imported the first
time it is used, so ``import podkit.<pkg>`` (and a command's ``--version``) loads nothing else::

    __getattr__, __dir__ = lazy_exports(globals(), {"GitSync": "service"})
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    namespace: dict[str, Any], exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` for a package exporting ``exports``.

    ``exports`` maps each name to the submodule (relative to the package) that defines it; a
    resolved name is cached in the package's ``namespace`` so later lookups are plain attributes.
    """
    package = namespace["__name__"]

    def getattr_(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:  # the public surface only: no submodules, no import helpers
        eager = {name for name in namespace.get("__all__", ()) if name in namespace}
        return sorted({*exports, *eager, *(name for name in namespace if name.startswith("__"))})

    return getattr_, dir_
