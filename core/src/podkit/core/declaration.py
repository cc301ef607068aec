"""Declaring one setting: :func:`setting`, the :class:`Setting` it builds, and :class:`SettingsError`.

A declaration says how a setting is named on the command line and in the environment, how its text
is parsed, what its default is and how it is shown in ``--help``; :mod:`podkit.core.settings`
resolves declared settings into values and :mod:`podkit.core.flags` builds the command line from
them. :func:`setting` is typed so that mypy checks a default against the parser and the annotation
it is assigned to.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypedDict, TypeVar, Unpack, overload

from podkit.core import values as v

T = TypeVar("T")


class _Missing:
    def __repr__(self) -> str:
        return "<required>"


MISSING: Any = _Missing()


class SettingsError(Exception):
    """A setting could not be resolved; the message is one line meant for the user."""


@dataclass
class Setting(Generic[T]):
    """The declaration of one setting; built by :func:`setting`, completed by the owning class."""

    default: Any
    help: str
    parser: v.Parser[Any] | None = None
    flag: str | None = None
    aliases: tuple[str, ...] = ()
    env: str | None = None
    no_env: bool = False
    no_flag: bool = False
    env_aliases: tuple[str, ...] = ()
    repeatable: bool = False
    separator: str = ","
    secret: bool = False
    negatable: bool = False
    positional: bool = False
    metavar: str | None = None
    group: str | None = None
    hidden: bool = False
    default_text: str | None = None
    default_factory: Callable[[], Any] | None = None
    # filled in by Settings.__init_subclass__
    name: str = ""
    env_names: tuple[str, ...] = ()
    is_bool: bool = False
    flags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def required(self) -> bool:
        return self.default is MISSING and self.default_factory is None

    def make_default(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        if isinstance(self.default, list):
            return list(self.default)
        return self.default

    def default_shown(self) -> str:
        """The default as ``--help`` and the generated docs print it."""
        if self.default_text is not None:
            return self.default_text
        if self.required:
            return "required"
        return self.shown(self.make_default())

    def describe(self) -> str:
        """How a user names this setting: its flag and its env var."""
        if not self.flags and self.env_names and not self.positional:
            return f"env {self.env_names[0]}"
        who = self.flags[0] if self.flags else self.name.upper()
        if self.env_names:
            who += f" (env {self.env_names[0]})"
        return who

    def shown(self, value: Any) -> str:
        """``value`` as text for help and errors; secrets are never shown."""
        if self.secret and value not in (None, "", MISSING):
            return "<redacted>"
        return show_value(value, self.parser)

    def convert(self, raw: Any, origin: str) -> Any:
        """Parse ``raw`` (text or a YAML value) into this setting's type, or raise SettingsError."""
        assert self.parser is not None
        try:
            if self.repeatable:
                items = raw if isinstance(raw, list | tuple) else _split(raw, self.separator)
                return [self.parser(item) for item in items]
            return self.parser(raw)
        except (ValueError, TypeError) as exc:
            value = "<redacted>" if self.secret else repr(raw)
            detail = "" if self.secret else f" ({exc})"
            raise SettingsError(
                f"invalid value {value} for {self.describe()} from {origin}: "
                f"expected {self.parser.expected}{detail}"
            ) from None


def _split(raw: Any, separator: str) -> list[Any]:
    text = v.parse_str(raw)
    return [part.strip() for part in text.split(separator) if part.strip()]


def show_value(value: Any, parser: v.Parser[Any] | None = None) -> str:
    """Render a setting value for people (Go-style durations, comma lists, ``unset``)."""
    if value is None or value is MISSING:
        return "unset" if value is None else "required"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        if not value:
            return "none"
        return ",".join(show_value(item, parser) for item in value)
    if value == "":
        return '""'
    return parser.text(value) if parser is not None else str(value)


class SettingOptions(TypedDict, total=False):
    """The keyword arguments of :func:`setting` that do not decide its type."""

    flag: str | None
    aliases: Sequence[str]
    env: str | None
    no_env: bool
    no_flag: bool
    env_aliases: Sequence[str]
    separator: str
    secret: bool
    negatable: bool
    positional: bool
    metavar: str | None
    group: str | None
    hidden: bool
    default_text: str | None


@overload
def setting(
    *,
    default: T,
    help: str,
    parse: v.Parser[T] | None = None,
    repeatable: Literal[False] = False,
    **options: Unpack[SettingOptions],
) -> T: ...
@overload
def setting(
    *,
    default: list[T],
    help: str,
    parse: v.Parser[T] | None = None,
    repeatable: Literal[True],
    **options: Unpack[SettingOptions],
) -> list[T]: ...
@overload
def setting(
    *,
    default_factory: Callable[[], T],
    help: str,
    parse: v.Parser[T] | None = None,
    repeatable: Literal[False] = False,
    **options: Unpack[SettingOptions],
) -> T: ...
@overload
def setting(
    *,
    default_factory: Callable[[], list[T]],
    help: str,
    parse: v.Parser[T] | None = None,
    repeatable: Literal[True],
    **options: Unpack[SettingOptions],
) -> list[T]: ...
@overload
def setting(
    *,
    help: str,
    parse: v.Parser[T],
    repeatable: Literal[False] = False,
    **options: Unpack[SettingOptions],
) -> T: ...
@overload
def setting(
    *,
    help: str,
    parse: v.Parser[T],
    repeatable: Literal[True],
    **options: Unpack[SettingOptions],
) -> list[T]: ...
@overload
def setting(
    *,
    help: str,
    repeatable: bool = False,
    **options: Unpack[SettingOptions],
) -> Any: ...  # required, parsed as its annotation says
def setting(
    *,
    default: Any = MISSING,
    help: str,
    parse: v.Parser[Any] | None = None,
    repeatable: bool = False,
    default_factory: Callable[[], Any] | None = None,
    **options: Unpack[SettingOptions],
) -> Any:
    """Declare a setting on a :class:`~podkit.core.settings.Settings` subclass.

    ``flag`` defaults to ``--name-with-dashes`` and may contain dots (``--statsd.listen-udp``);
    ``aliases`` are more flags (``-v``). ``env`` defaults to the class's ``env_prefix`` plus the
    upper-cased name; every prefix in ``env_alias_prefixes`` gives an older spelling, and
    ``env_aliases`` lists more. ``parse`` defaults to one inferred from the annotation. A
    ``repeatable`` setting is a list: each flag adds an item, the env var is split on
    ``separator``. ``negatable`` adds ``--no-FLAG`` to a boolean. ``secret`` values are never
    printed and are registered for log redaction.

    The overloads type the result as the default's (or the parser's) type, so mypy checks the
    default against the parser and against the annotation the setting is assigned to.
    """
    return Setting(
        default=default,
        help=help,
        parser=parse,
        repeatable=repeatable,
        default_factory=default_factory,
        flag=options.get("flag"),
        aliases=tuple(options.get("aliases", ())),
        env=options.get("env"),
        no_env=options.get("no_env", False),
        no_flag=options.get("no_flag", False),
        env_aliases=tuple(options.get("env_aliases", ())),
        separator=options.get("separator", ","),
        secret=options.get("secret", False),
        negatable=options.get("negatable", False),
        positional=options.get("positional", False),
        metavar=options.get("metavar"),
        group=options.get("group"),
        hidden=options.get("hidden", False),
        default_text=options.get("default_text"),
    )


_INFERRED: dict[Any, v.Parser[Any]] = {
    str: v.STR,
    int: v.INT,
    float: v.FLOAT,
    bool: v.BOOL,
    v.HostPort: v.HOST_PORT,
    Path: v.Parser(lambda raw: Path(v.parse_str(raw)), "a path"),
}


def _infer_parser(annotation: Any, repeatable: bool) -> tuple[v.Parser[Any], bool]:
    """Return (parser, is_bool) for a type annotation such as ``int``, ``str | None``, ``list[str]``."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in args if arg is not type(None)]
        if len(inner) == 1:
            parser, is_bool = _infer_parser(inner[0], repeatable)
            return v.optional(parser), is_bool
    if origin is list and args:
        item, _ = _infer_parser(args[0], False)
        return (item, False) if repeatable else (v.list_of(item), False)
    if annotation in _INFERRED:
        return _INFERRED[annotation], annotation is bool
    raise TypeError(f"cannot infer a parser for {annotation!r}: pass parse=")
