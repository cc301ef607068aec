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

# apt_install PACKAGE...: install with apt-get as root, otherwise say what to install and stop
apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "$@" >&2
  else
    log "missing system packages: $*"
    log "install them with: sudo apt-get install $*"
    exit 1
  fi
}

# 1. uv (from PyPI; a fresh Debian has no pip and marks its Python externally managed, PEP 668)
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
elif python3 -m uv --version >/dev/null 2>&1; then
  UV=(python3 -m uv)
else
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  log "installing uv from PyPI"
  python3 -m pip install --quiet uv >&2 2>/dev/null \
    || python3 -m pip install --quiet --user uv >&2 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages uv >&2 \
    || { log "could not install uv: run 'python3 -m pip install uv' and try again"; exit 1; }
  if command -v uv >/dev/null 2>&1; then UV=(uv); else UV=(python3 -m uv); fi
fi

# present NAME: a command on PATH (or in /usr/lib/podman), py:MODULE that python3 can import,
# or file:GLOB that matches an existing file
present() {
  case "$1" in
    py:*) python3 -c "import ${1#py:}" >/dev/null 2>&1 ;;
    file:*) compgen -G "${1#file:}" >/dev/null ;;
    *) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/lib/podman/$1" ] ;;
  esac
}

# 2. system packages the tests need (command or py:module -> Debian package)
if [ "${1:-}" != "--no-system" ]; then
  missing=()
  while read -r cmd pkg; do
    [ -z "$cmd" ] || [ "${cmd:0:1}" = "#" ] && continue
    present "$cmd" || missing+=("$pkg")
  done < <(cat scripts/system-packages.txt; [ "${1:-}" = "--e2e" ] && cat scripts/e2e-packages.txt)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
fi

# 3. the workspace (every package, plus the dev tools)
"${UV[@]}" sync --all-packages --quiet >&2
echo "${UV[*]}"
