"""The command line: builds an argparse parser from setting declarations and reads ``argv``.

Owns flag syntax (``--flag value``, ``--flag=value``, ``--bool``, ``--bool=false``, ``--no-bool``,
repeatable flags, dotted names, positionals), ``--help`` text that lists every setting with its env
var and default, ``--version``, and turning argparse's complaints into one-line
:class:`~podkit.core.declaration.SettingsError` messages.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from podkit.core.declaration import Setting, SettingsError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise SettingsError(f"{message} (see --help)")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        width = min(shutil.get_terminal_size((100, 24)).columns, 120)
        super().__init__(prog, max_help_position=34, width=width)


def help_line(decl: Setting[Any]) -> str:
    """The help of one setting: its text, then its env var and its default."""
    extras = []
    if decl.env_names:
        extras.append("env " + ", ".join(decl.env_names))
    if decl.required and decl.default_text is None:
        extras.append("required")
    else:
        extras.append(f"default {decl.default_shown()}")
    if decl.repeatable:
        extras.append("repeatable")
    return f"{decl.help} [{'; '.join(extras)}]".replace("%", "%%")


def _metavar(decl: Setting[Any]) -> str:
    if decl.metavar:
        return decl.metavar
    if decl.parser is not None and decl.parser.metavar:
        return decl.parser.metavar
    return decl.name.upper()


def build_parser(
    decls: Iterable[Setting[Any]],
    *,
    prog: str | None,
    version: str,
    description: str | None,
) -> argparse.ArgumentParser:
    """An argparse parser whose every argument defaults to SUPPRESS (so only given flags appear)."""
    parser = _Parser(
        prog=prog,
        description=description,
        formatter_class=_Formatter,
        allow_abbrev=False,
        add_help=False,
        argument_default=argparse.SUPPRESS,
    )
    groups: dict[str | None, argparse._ArgumentGroup] = {None: parser.add_argument_group("options")}
    meta = groups[None]
    env_only: list[str] = []
    for decl in decls:
        if not decl.flags and not decl.positional:
            if not decl.hidden:
                env_only.append(f"  {decl.env_names[0]:<30} {help_line(decl).replace('%%', '%')}")
            continue
        group = groups.get(decl.group)
        if group is None:
            group = groups[decl.group] = parser.add_argument_group(decl.group)
        text = argparse.SUPPRESS if decl.hidden else help_line(decl)
        if decl.positional:
            group.add_argument(
                decl.name,
                nargs="?" if not decl.required else None,
                help=text,
                metavar=_metavar(decl),
            )
            continue
        if decl.is_bool and not decl.repeatable:
            # Go's flag syntax: a bare --flag is true, --flag=false sets a value, and the next
            # word is never taken as the value (it stays a positional argument).
            group.add_argument(
                *decl.flags, dest=decl.name, action="store_const", const="true", help=text
            )
            group.add_argument(_explicit(decl.name), dest=decl.name, help=argparse.SUPPRESS)
            if decl.negatable:
                for flag in decl.flags:
                    if flag.startswith("--"):
                        group.add_argument(
                            "--no-" + flag[2:],
                            dest=decl.name,
                            action="store_const",
                            const="false",
                            help=argparse.SUPPRESS,
                        )
            continue
        group.add_argument(
            *decl.flags,
            dest=decl.name,
            action="append" if decl.repeatable else "store",
            metavar=_metavar(decl),
            help=text,
        )
    if env_only:
        parser.epilog = "settings read only from the environment:\n" + "\n".join(env_only)
    meta.add_argument("-h", "--help", action="help", help="show this help and exit")
    if version:
        meta.add_argument(
            "--version", action="version", version=version, help="print the version and exit"
        )
    return parser


def _explicit(name: str) -> str:
    """The hidden option that carries ``--bool-flag=VALUE`` through argparse."""
    return f"--\x00{name}"


def _rewrite_bool_values(decls: Iterable[Setting[Any]], argv: Sequence[str]) -> list[str]:
    """``--flag=VALUE`` of a boolean becomes the hidden option and its value, in place."""
    bools = {
        flag: decl.name
        for decl in decls
        if decl.is_bool and not decl.repeatable
        for flag in decl.flags
    }
    out: list[str] = []
    for index, arg in enumerate(argv):
        if arg == "--":
            out.extend(argv[index:])
            break
        flag, eq, value = arg.partition("=")
        if eq and flag in bools:
            out.extend([_explicit(bools[flag]), value])
        else:
            out.append(arg)
    return out


def parse_flags(
    decls: Iterable[Setting[Any]],
    argv: Sequence[str] | None,
    *,
    prog: str | None,
    version: str,
    description: str | None,
) -> dict[str, Any]:
    """Parse ``argv`` and return the raw text of every setting given on it, by setting name."""
    decls = list(decls)
    parser = build_parser(decls, prog=prog, version=version, description=description)
    args = list(sys.argv[1:] if argv is None else argv)
    namespace = parser.parse_args(_rewrite_bool_values(decls, args))
    return dict(vars(namespace))
