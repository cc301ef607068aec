#!/usr/bin/env python3
"""Assembles a slim root file system for a final image stage ``FROM scratch`` (stdlib only).

Runs in a Dockerfile's build stage, on Debian:

    python3 slim_rootfs.py /rootfs --packages python3-minimal libpython3.11-stdlib ... \
        --copy /opt/podkit --user 65532:nonroot

It copies the files of the named Debian packages and of everything they depend on (Depends and
Pre-Depends, alternatives resolved to what is installed), except the packaging and
build tools and other things a running component never needs (dpkg, apt, perl, debconf, pip, the
docs, man pages and locales; the stdlib's tests, IDLE, tkinter, ensurepip, lib2to3); then the
given trees (the venv), the shared libraries any ELF file there needs, the CA bundle, a
passwd/group with root, nobody and the component's user, /tmp and an ld.so cache. The result has
no shell unless a package asked for one brings it (dash, for git).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
from pathlib import Path

NEVER = re.compile(
    r"^(dpkg|apt|debconf|perl|perl-base|perl-modules-.*|libperl.*|liberror-perl|git-man|"
    r"python3-pip|python3-setuptools|python3-wheel|python3-venv|python3\.\d+-venv|"
    r"python3-distutils|python3-lib2to3|adduser|passwd|login|debianutils|init-system-helpers|"
    r"lsb-base|sysvinit-utils|tzdata-legacy|readline-common|sensible-utils|ucf|"
    r"ca-certificates-java|java-common|libgdbm-compat.*|bash|media-types)$"
)
DROPPED_PREFIXES = (
    "/usr/share/doc/",
    "/usr/share/man/",
    "/usr/share/info/",
    "/usr/share/locale/",
    "/usr/share/lintian/",
    "/usr/share/bash-completion/",
    "/usr/share/bug/",
    "/usr/lib/python3/dist-packages/",
    "/usr/lib/x86_64-linux-gnu/gconv/",  # iconv modules: Python has its own codecs
    "/usr/lib/aarch64-linux-gnu/gconv/",
    "/usr/bin/openssl",
    "/usr/bin/c_rehash",
    "/usr/share/binfmts/",
)
SOURCES = (".c", ".h", ".pyx", ".pxd", ".pyi")  # build inputs wheels sometimes carry
STDLIB_DROPPED = {
    "test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data",
    "distutils", "venv", "turtle.py", "__phello__",
}  # fmt: skip


def installed() -> dict[str, tuple[list[str], list[str]]]:
    """Every installed package -> (its dependency groups, what it provides)."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package}\t${Status}\t${Depends}, ${Pre-Depends}\t${Provides}\n"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = {}
    for line in out.splitlines():
        package, status, depends, provides = line.split("\t")
        if not status.endswith(" installed"):
            continue
        groups = [g.strip() for g in depends.split(",") if g.strip()]
        found[package] = (groups, [p.split()[0] for p in provides.split(",") if p.strip()])
    return found


def bare(name: str) -> str:
    return name.strip().split()[0].split(":")[0]


def closure(roots: list[str]) -> set[str]:
    packages = installed()
    providers: dict[str, str] = {}
    for package, (_, provides) in packages.items():
        for virtual in provides:
            providers.setdefault(bare(virtual), package)
    wanted: set[str] = set()
    todo = list(roots)
    while todo:
        package = todo.pop()
        if package in wanted:
            continue
        if package not in packages:
            raise SystemExit(f"slim_rootfs: {package} is not installed")
        wanted.add(package)
        for group in packages[package][0]:
            choices = [bare(alt) for alt in group.split("|")]
            real = [providers.get(c, c) for c in choices]
            present = [c for c in real if c in packages]
            if not present or any(c in wanted for c in present):
                continue
            if NEVER.match(present[0]) and present[0] not in roots:
                continue
            todo.append(present[0])
    return wanted


def package_files(packages: set[str]) -> list[str]:
    out = subprocess.run(
        ["dpkg-query", "-L", *sorted(packages)], capture_output=True, text=True, check=True
    ).stdout
    return [
        path
        for path in out.splitlines()
        if path.startswith("/") and not path.startswith(DROPPED_PREFIXES)
    ]


def stdlib_dropped(path: str) -> bool:
    match = re.match(r"^/usr/lib/python3\.\d+/([^/]+)", path)
    return bool(match and match.group(1) in STDLIB_DROPPED)


def copy(path: str, rootfs: Path) -> None:
    """Copy one file or symlink to the same place under ``rootfs`` (parents resolved, so the
    merged-/usr links are kept as links)."""
    source = Path(path)
    if not source.is_symlink() and not source.is_file():
        return
    parent = Path(os.path.realpath(source.parent))
    target = rootfs / parent.relative_to("/") / source.name
    if target.exists() or target.is_symlink():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_symlink():
        target.symlink_to(os.readlink(source))
    else:
        shutil.copy2(source, target)


def elf_libraries(tree: Path) -> set[str]:
    """The shared libraries that ELF files under ``tree`` load (from ldd)."""
    found: set[str] = set()
    for path in tree.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        with path.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout
        for match in re.finditer(r"(/\S+) \(0x", out):
            found.add(match.group(1))
    return found


def strip(tree: Path) -> None:
    """Strip the symbols of the shared objects under ``tree`` (wheels often ship them unstripped)
    when binutils' strip is installed in the build stage."""
    if shutil.which("strip") is None:
        print("slim_rootfs: no strip here; shared objects keep their symbols")
        return
    for path in tree.rglob("*.so*"):
        if path.is_file() and not path.is_symlink():
            subprocess.run(["strip", "--strip-unneeded", str(path)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("rootfs", type=Path)
    parser.add_argument("--packages", nargs="+", required=True)
    parser.add_argument("--copy", nargs="*", default=[], help="trees copied as they are")
    parser.add_argument("--user", required=True, help="UID:NAME of the component's user")
    parser.add_argument("--dir", nargs="*", default=[], help="empty folders the user owns")
    parser.add_argument("--drop", nargs="*", default=[], help="package files left out")
    args = parser.parse_args()
    rootfs: Path = args.rootfs
    rootfs.mkdir(parents=True, exist_ok=True)
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        if os.path.islink(f"/{name}"):
            (rootfs / name).symlink_to(os.readlink(f"/{name}"))
    packages = closure(args.packages)
    print("slim_rootfs: packages:", " ".join(sorted(packages)))
    dropped = set(args.drop)
    for path in package_files(packages):
        if (
            not stdlib_dropped(path)
            and path not in dropped
            and not path.startswith(tuple(d.rstrip("/") + "/" for d in dropped))
        ):
            copy(path, rootfs)
    # the stdlib's compiled files (made at install, so in no package's list)
    for cache in Path("/usr/lib").glob("python3.*/**/__pycache__"):
        parent = str(cache.parent)
        if (rootfs / parent.lstrip("/")).is_dir() and not stdlib_dropped(parent + "/"):
            for pyc in cache.iterdir():
                copy(str(pyc), rootfs)
    for tree in args.copy:
        shutil.copytree(
            tree,
            rootfs / tree.lstrip("/"),
            symlinks=True,
            dirs_exist_ok=True,
            ignore=lambda _dir, names: [n for n in names if n.endswith(SOURCES)],
        )
        strip(rootfs / tree.lstrip("/"))
        for library in elf_libraries(Path(tree)):
            copy(library, rootfs)
            copy(os.path.realpath(library), rootfs)
    for config in ("/etc/ssl/certs/ca-certificates.crt", "/etc/ld.so.conf"):
        if os.path.exists(config):
            copy(os.path.realpath(config), rootfs)
            copy(config, rootfs)
    for conf in Path("/etc/ld.so.conf.d").glob("*.conf"):
        copy(str(conf), rootfs)
    uid, user = args.user.split(":")
    (rootfs / "etc").mkdir(exist_ok=True)
    (rootfs / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        f"{user}:x:{uid}:{uid}:{user}:/tmp:/usr/sbin/nologin\n"
    )
    (rootfs / "etc/group").write_text(f"root:x:0:\nnogroup:x:65534:\n{user}:x:{uid}:\n")
    (rootfs / "tmp").mkdir(exist_ok=True)
    (rootfs / "tmp").chmod(0o1777)
    for folder in args.dir:
        (rootfs / folder.lstrip("/")).mkdir(parents=True, exist_ok=True)
        os.chown(rootfs / folder.lstrip("/"), int(uid), int(uid))
    subprocess.run(["ldconfig", "-r", str(rootfs)], check=True)


if __name__ == "__main__":
    main()
