"""Typed settings declared once and filled from flags > env > YAML file > defaults.

A component subclasses :class:`Settings` and declares each setting as an annotated attribute with
:func:`setting` (default, help, flag, env var, parser). The class is then constructible in code with
keyword arguments (``StatsdSettings(listen_udp=None)``) and loadable from a command line with
:meth:`Settings.load`, which resolves every setting from, in order of precedence, its command-line
flag, its environment variable (primary name, then aliases), the optional YAML file, and the default.
A bad value raises :class:`SettingsError` with one line naming the flag, the env var, the value and
what was expected; :func:`podkit.core.main` turns that into exit code 2.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar, dataclass_transform

from podkit.core import values as v
from podkit.core.declaration import (
    MISSING,
    Setting,
    SettingsError,
    _infer_parser,
    setting,
    show_value,
)
from podkit.core.flags import parse_flags
from podkit.core.logs import one_line

__all__ = ["MISSING", "Setting", "Settings", "SettingsError", "setting", "show_value"]

S = TypeVar("S", bound="Settings")


@dataclass_transform(kw_only_default=True, field_specifiers=(setting,))
class Settings:
    """Base class of every component's settings; see the module docstring."""

    env_prefix: ClassVar[str] = ""
    env_alias_prefixes: ClassVar[tuple[str, ...]] = ()
    config_setting: ClassVar[str | None] = None
    setting_overrides: ClassVar[dict[str, dict[str, Any]]] = {}
    """Per-class changes to inherited declarations, e.g. ``{"admin_listen": {"default": ...}}``."""
    __settings__: ClassVar[dict[str, Setting[Any]]] = {}
    __declared__: ClassVar[dict[str, Setting[Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hints = typing.get_type_hints(cls)
        raw: dict[str, Setting[Any]] = {}
        for klass in reversed(cls.__mro__[1:]):
            raw.update(vars(klass).get("__declared__", {}))
        own = {name: value for name, value in vars(cls).items() if isinstance(value, Setting)}
        for name in own:
            if hasattr(Settings, name):
                raise TypeError(f"{cls.__name__}: setting {name!r} would hide Settings.{name}")
        raw.update(own)
        for name, changes in vars(cls).get("setting_overrides", {}).items():
            if name not in raw:
                raise TypeError(f"{cls.__name__}.setting_overrides names unknown setting {name!r}")
            raw[name] = dataclasses.replace(raw[name], **changes)
        cls.__declared__ = raw
        for name in own:
            delattr(cls, name)
        completed: dict[str, Setting[Any]] = {}
        for name, decl in raw.items():
            completed[name] = _complete(cls, name, copy.copy(decl), hints.get(name, str))
        cls.__settings__ = completed

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(self.__settings__)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(sorted(unknown))}")
        for name, decl in self.__settings__.items():
            if name in values:
                object.__setattr__(self, name, values[name])
            elif decl.required:
                raise SettingsError(f"{decl.describe()} is required")
            else:
                object.__setattr__(self, name, decl.make_default())
        self.check()

    def check(self) -> None:
        """Cross-setting validation; override and raise :class:`SettingsError`."""

    @classmethod
    def declarations(cls) -> Mapping[str, Setting[Any]]:
        return cls.__settings__

    def replace(self: S, **changes: Any) -> S:
        """A copy with some settings changed."""
        current = {name: getattr(self, name) for name in self.__settings__}
        current.update(changes)
        return type(self)(**current)

    def secrets(self) -> list[str]:
        """The values of every ``secret`` setting that is set, for log redaction."""
        out: list[str] = []
        for name, decl in self.__settings__.items():
            value = getattr(self, name)
            if decl.secret and value:
                out.extend(str(item) for item in (value if isinstance(value, list) else [value]))
        return out

    def __repr__(self) -> str:
        parts = [
            f"{name}={decl.shown(getattr(self, name))!s}"
            for name, decl in self.__settings__.items()
        ]
        return f"{type(self).__name__}({', '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__settings__)

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def load(
        cls: type[S],
        argv: Sequence[str] | None = None,
        environ: Mapping[str, str] | None = None,
        *,
        prog: str | None = None,
        version: str = "",
        description: str | None = None,
    ) -> S:
        """Resolve every setting from ``argv`` > ``environ`` > the YAML file > defaults.

        ``--help`` and ``--version`` print and raise ``SystemExit(0)``; an unknown flag raises
        :class:`SettingsError`.
        """
        environ = os.environ if environ is None else environ
        given = parse_flags(
            cls.__settings__.values(),
            list(argv) if argv is not None else None,
            prog=prog,
            version=version,
            description=description,
        )
        resolved: dict[str, Any] = {}
        notices: list[str] = []
        file_values = cls._file_values(given, environ)
        for name, decl in cls.__settings__.items():
            if name in given:
                resolved[name] = decl.convert(
                    given[name], f"flag {decl.flags[0] if decl.flags else name}"
                )
                continue
            env_hit = next((key for key in decl.env_names if key in environ), None)
            if env_hit is not None:
                resolved[name] = decl.convert(environ[env_hit], f"env {env_hit}")
                if env_hit != decl.env_names[0]:
                    notices.append(f"env {env_hit} is deprecated, use {decl.env_names[0]}")
                continue
            if name in file_values:
                path, raw = file_values[name]
                resolved[name] = decl.convert(raw, f"file {path}")
        instance = cls(**resolved)
        object.__setattr__(instance, "_notices", notices)
        return instance

    @property
    def notices(self) -> list[str]:
        """Warnings found while loading (deprecated env var names), for the service to log."""
        return list(getattr(self, "_notices", []))

    @classmethod
    def _file_values(
        cls, given: Mapping[str, Any], environ: Mapping[str, str]
    ) -> dict[str, tuple[str, Any]]:
        """Read the YAML file named by ``config_setting`` (flag first, then env), if any."""
        if cls.config_setting is None:
            return {}
        decl = cls.__settings__[cls.config_setting]
        raw = given.get(decl.name)
        if raw is None:
            raw = next((environ[key] for key in decl.env_names if key in environ), None)
        if not raw:
            return {}
        path = Path(str(raw))
        import yaml  # only a run with a settings file pays for the YAML parser

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(
                f"cannot read settings file {path} given by {decl.describe()}: {exc.strerror}"
            ) from None
        except yaml.YAMLError as exc:
            raise SettingsError(
                f"settings file {path} is not valid YAML: {one_line(exc)}"
            ) from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise SettingsError(
                f"settings file {path} must hold a mapping of setting names to values"
            )
        by_key: dict[str, str] = {}
        for name, item in cls.__settings__.items():
            by_key[name] = name
            by_key[name.replace("_", "-")] = name
            for flag in item.flags:
                if flag.startswith("--"):
                    by_key[flag[2:]] = name
        out: dict[str, tuple[str, Any]] = {}
        for key, value in data.items():
            target = by_key.get(str(key))
            if target is None or target == cls.config_setting:
                raise SettingsError(f"settings file {path}: unknown setting {key!r}")
            out[target] = (str(path), value)
        return out


def _complete(cls: type[Settings], name: str, decl: Setting[Any], annotation: Any) -> Setting[Any]:
    """Fill in the parts of a declaration that depend on its name, its class and its annotation."""
    decl.name = name
    if decl.parser is None:
        decl.parser, decl.is_bool = _infer_parser(annotation, decl.repeatable)
    else:
        decl.is_bool = decl.parser.convert is v.parse_bool
    if decl.positional or decl.no_flag:
        decl.flags = ()
    else:
        primary = decl.flag or "--" + name.replace("_", "-")
        decl.flags = (primary, *decl.aliases)
    if decl.no_env:
        decl.env_names = ()
    else:
        suffix = name.upper()
        primary_env = decl.env or cls.env_prefix + suffix
        derived = (
            tuple(prefix + suffix for prefix in cls.env_alias_prefixes) if not decl.env else ()
        )
        decl.env_names = tuple(dict.fromkeys((primary_env, *derived, *decl.env_aliases)))
    return decl
