"""podkit: every podkit component in one install, and the ``podkit`` command (``podkit inject``).

The package exports the injection entry point lazily (PEP 562), so ``import podkit.kit`` stays
cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podkit.core.exports import lazy_exports

__version__ = "0.1.0"

__all__ = ["Options", "__version__", "inject_stream"]

if TYPE_CHECKING:
    from podkit.kit.inject import Options, inject_stream

__getattr__, __dir__ = lazy_exports(globals(), {"Options": "inject", "inject_stream": "inject"})
