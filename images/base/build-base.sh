#!/usr/bin/env bash
# Builds the base image the Dockerfiles start FROM (their BASE build argument): a minimal Debian
# bookworm made with debootstrap, with python3 (3.11), venv and pip, under podkit's own name
# localhost/podkit/base-python:bookworm -- never an official image's name, because it is not one.
# No registry is needed. The host's extra CA certificates (an intercepting proxy's) are trusted
# inside, or pip could not reach PyPI during builds.
# Cached: a saved copy in $PODKIT_CACHE (default ~/.cache/podkit) is loaded when present.
# Usage: images/base/build-base.sh [ARCH]   (amd64 by default; arm64 needs qemu-user-static)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/podman-env.sh

NATIVE="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
ARCH="${1:-$NATIVE}"
NAME="localhost/podkit/base-python:bookworm"
[ "$ARCH" = "$NATIVE" ] || NAME="$NAME-$ARCH"
CACHE="${PODKIT_CACHE:-$HOME/.cache/podkit}"
SAVED="$CACHE/base-python-bookworm-$ARCH.tar"
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
log "debootstrap bookworm ($ARCH) from $mirror"
debootstrap --variant=minbase --arch="$ARCH" bookworm "$rootfs" "$mirror" >/dev/null
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
    --change 'CMD ["/usr/bin/python3"]' --arch "$ARCH" - "$NAME" >/dev/null
mkdir -p "$CACHE"
podman save -q -o "$SAVED" "$NAME"
log "built $NAME and cached it in $SAVED"
