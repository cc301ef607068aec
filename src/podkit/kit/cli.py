"""The ``podkit`` command: ``podkit inject COMPONENT [flags] < workload.yaml > injected.yaml``."""

from __future__ import annotations

import sys

from podkit.kit import __version__
from podkit.kit.inject import InjectError, Options, check_flags, inject_stream, warn
from podkit.kit.recipes import RECIPES

USAGE = f"""usage: podkit inject COMPONENT [--inject-configmap=NAME[:PATH]]
                     [--inject-secret-env=ENV=SECRET:KEY ...] [component flags...]
       < workload.yaml > injected.yaml
       podkit --version

Adds a podkit component to every Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job and
CronJob of the YAML stream on stdin (other documents pass through) and writes the result.
COMPONENT is one of: {", ".join(sorted(RECIPES))}. The component flags become the container's
arguments (after the component's defaults, unless they set the same flag).
  --inject-configmap=NAME[:PATH]   mount ConfigMap NAME read-only at PATH (default /etc/podkit)
  --inject-secret-env=ENV=SECRET:KEY  set ENV in the component from a Secret's key
"""


def parse(argv: list[str]) -> Options:
    if len(argv) < 2 or argv[0] != "inject":
        raise InjectError("expected: podkit inject COMPONENT [flags]")
    options = Options(component=argv[1])
    for arg in argv[2:]:
        if arg.startswith("--inject-configmap="):
            value = arg.split("=", 1)[1]
            name, _, path = value.partition(":")
            options.configmap = name
            options.config_path = path or options.config_path
        elif arg.startswith("--inject-secret-env="):
            env, _, ref = arg.split("=", 1)[1].partition("=")
            secret, _, key = ref.partition(":")
            if not (env and secret and key):
                raise InjectError(f"{arg}: expected --inject-secret-env=ENV=SECRET:KEY")
            options.secret_env.append((env, secret, key))
        elif arg.startswith("--inject-"):
            raise InjectError(f"unknown option {arg.split('=', 1)[0]}")
        else:
            options.args.append(arg)
    return options


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"podkit {__version__}")
        return 0
    try:
        options = parse(argv)
        check_flags(options)
        out = inject_stream(sys.stdin.read(), options)
    except InjectError as exc:
        print(f"podkit inject: {exc}", file=sys.stderr)
        return 2
    warn(options)
    sys.stdout.write(out)
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
