"""podkit-redis-ambassador: one Redis on localhost; reads go to replicas, writes to the master.

Embed it (``async with RedisAmbassador(RedisAmbassadorSettings(master=...)) as amb: ...``) or
run the ``podkit-redis-ambassador`` command. The names below are imported when first used, so
``import podkit.redis_ambassador`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podkit.core.exports import lazy_exports

__version__ = "0.1.0"

__all__ = ["RedisAmbassador", "RedisAmbassadorSettings", "__version__"]

if TYPE_CHECKING:
    from podkit.redis_ambassador.service import RedisAmbassador
    from podkit.redis_ambassador.settings import RedisAmbassadorSettings

__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        "RedisAmbassador": "service",
        "RedisAmbassadorSettings": "settings",
    },
)
