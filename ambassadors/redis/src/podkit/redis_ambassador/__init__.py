"""podkit-redis-ambassador: one Redis on localhost; reads go to replicas, writes to the master.

Embed it (``async with RedisAmbassador(RedisAmbassadorSettings(master=...)) as amb: ...``) or
run the ``podkit-redis-ambassador`` command. The names below are imported when first used, so
``import podkit.redis_ambassador`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "RedisAmbassador": "service",
    "RedisAmbassadorSettings": "settings",
}

__all__ = ["RedisAmbassador", "RedisAmbassadorSettings", "__version__"]

if TYPE_CHECKING:
    from podkit.redis_ambassador.service import RedisAmbassador
    from podkit.redis_ambassador.settings import RedisAmbassadorSettings


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'podkit.redis_ambassador' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"podkit.redis_ambassador.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
