"""podkit.kit's __all__ is exactly what resolves."""

from __future__ import annotations

import podkit.kit


def test_all_resolves() -> None:
    assert sorted(podkit.kit.__all__) == ["__version__", "inject_stream"]
    for name in podkit.kit.__all__:
        assert getattr(podkit.kit, name) is not None
