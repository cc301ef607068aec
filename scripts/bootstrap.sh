#!/usr/bin/env bash
# Prepares a fresh machine for podkit's make targets: uv, the system packages the tests need, and
# the workspace's virtual environment. Idempotent and quick when everything is already there.
# Usage: scripts/bootstrap.sh [--no-system | --e2e]   (prints the uv command on its last line)
#   --no-system  skip the system packages; --e2e  also install what `make e2e` needs (podman...)
set -euo pipefail
cd "$(dirname "$0")/.."

export UV_PYTHON_DOWNLOADS=never
if [ -z "${SSL_CERT_FILE:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
fi

log() { printf 'bootstrap: %s\n' "$*" >&2; }

# 1. uv
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
elif python3 -m uv --version >/dev/null 2>&1; then
  UV=(python3 -m uv)
else
  log "installing uv from PyPI"
  python3 -m pip install --quiet uv >&2 2>/dev/null \
    || python3 -m pip install --quiet --user uv >&2 \
    || { log "could not install uv: run 'python3 -m pip install uv' and try again"; exit 1; }
  if command -v uv >/dev/null 2>&1; then UV=(uv); else UV=(python3 -m uv); fi
fi

# 2. system packages the tests need (command -> Debian package)
if [ "${1:-}" != "--no-system" ]; then
  missing=()
  while read -r cmd pkg; do
    [ -z "$cmd" ] || [ "${cmd:0:1}" = "#" ] && continue
    command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/lib/podman/$cmd" ] || missing+=("$pkg")
  done < <(cat scripts/system-packages.txt; [ "${1:-}" = "--e2e" ] && cat scripts/e2e-packages.txt)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      log "installing ${missing[*]} with apt-get"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    else
      log "missing system packages: ${missing[*]}"
      log "install them with: sudo apt-get install ${missing[*]}"
      exit 1
    fi
  fi
fi

# 3. the workspace (every package, plus the dev tools)
"${UV[@]}" sync --all-packages --quiet >&2
echo "${UV[*]}"
