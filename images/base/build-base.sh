#!/usr/bin/env bash
# Builds the base image the Dockerfiles start FROM when no registry can be reached: a minimal
# Debian bookworm with python3 (3.11), venv and pip, tagged with the name the Dockerfiles use
# (docker.io/library/python:3.11-slim-bookworm). Where a registry is reachable, the official
# image is used instead and this script is not needed. The host's extra CA certificates (an
# intercepting proxy's) are trusted inside, or pip could not reach PyPI during builds.
# Cached: a saved copy in $PODKIT_CACHE (default ~/.cache/podkit) is loaded when present.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/podman-env.sh

NAME="docker.io/library/python:3.11-slim-bookworm"
CACHE="${PODKIT_CACHE:-$HOME/.cache/podkit}"
SAVED="$CACHE/base-python-bookworm.tar"
log() { printf 'base image: %s\n' "$*" >&2; }

if podman image exists "$NAME"; then
  log "$NAME is present"
  exit 0
fi
if [ -f "$SAVED" ]; then
  log "loading the cached copy $SAVED"
  podman load -q -i "$SAVED" >/dev/null
  podman image exists "$NAME" && exit 0
fi

for tool in debootstrap podman; do
  command -v "$tool" >/dev/null || { log "missing $tool: apt-get install podman runc catatonit netavark aardvark-dns iptables debootstrap"; exit 1; }
done
mirror=$(grep -rhoE '^(deb|URIs:) +http[^ ]+debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
  | head -n1 | awk '{print $2}' || true)
mirror="${mirror:-http://deb.debian.org/debian}"
rootfs=$(mktemp -d "${TMPDIR:-/tmp}/podkit-rootfs.XXXXXX")
chmod 755 "$rootfs"  # apt in the chroot downloads as the _apt user
trap 'rm -rf "$rootfs"' EXIT
log "debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$rootfs/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
fi
log "installing python3, venv, pip and CA certificates"
env -u TMPDIR chroot "$rootfs" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends \
    python3 python3-venv python3-pip ca-certificates >/dev/null &&
  update-ca-certificates >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*'
rm -f "$rootfs/etc/resolv.conf"
tar --numeric-owner -C "$rootfs" -c . \
  | podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/usr/bin/python3"]' - "$NAME" >/dev/null
mkdir -p "$CACHE"
podman save -q -o "$SAVED" "$NAME"
log "built $NAME and cached it in $SAVED"
