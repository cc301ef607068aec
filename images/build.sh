#!/usr/bin/env bash
# Builds podkit's images with podman from this checkout. Usage:
#   images/build.sh [--standins] [--native-only] [component ...]   (default: every images/*/Dockerfile)
# Each image is named by images/image.py (images/images.env: REPOSITORY/<component>:<version>) and
# labelled io.podkit.inputs with a hash of its inputs (Dockerfile folder, package and core sources,
# uv.lock, the base image): an image whose label matches is not rebuilt. The context holds the
# workspace's wheels, requirements.txt pinned with hashes from uv.lock, and slim_rootfs.py.
# arm64 is built too (tag suffix -arm64) where the machine can emulate it; it says when it cannot.
# --native-only skips it (`make e2e` runs only native images).
# --standins also builds tests/e2e/standins/* (localhost/podkit-e2e/<name>:dev), so that no e2e
# test spends its own time budget building one.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/podman-env.sh
export UV="${UV:-uv}"

log() { printf 'images: %s\n' "$*" >&2; }
standins=0
native_only=0
components=()
for arg in "$@"; do
  case "$arg" in
    --standins) standins=1 ;;
    --native-only) native_only=1 ;;
    *) components+=("$arg") ;;
  esac
done
[ ${#components[@]} -gt 0 ] || mapfile -t components < <(images/image.py components)

native=$(dpkg --print-architecture 2>/dev/null || echo amd64)
arm64=0
if [ "$native" = arm64 ] || [ $native_only = 1 ]; then
  :
elif [ -r /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
  arm64=1
else
  log "arm64: NOT built: this machine cannot emulate arm64 (no enabled qemu-aarch64 handler in"
  log "       /proc/sys/fs/binfmt_misc; on Debian: apt-get install qemu-user-static binfmt-support)"
fi

images/base/build-base.sh
BASE=$(images/image.py base)
[ $arm64 = 0 ] || images/base/build-base.sh arm64

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
wheels_built=0
ensure_wheels() {
  if [ $wheels_built = 0 ]; then
    log "building the workspace's wheels and sdists"
    $UV build --quiet --all-packages --out-dir "$context/dist" >&2
    wheels_built=1
  fi
}
# build_context COMPONENT ARCH: the wheels (native ones as sdists for another arch), the pinned
# requirements and slim_rootfs.py, beside the component's Dockerfile folder
build_context() {
  local component=$1 arch=$2 dir="$context/$1-$2"
  mkdir -p "$dir/wheels"
  cp -r "images/$component/." "$dir/"
  cp images/slim_rootfs.py "$dir/"
  images/image.py requirements "$component" > "$dir/requirements.txt"
  local core package stem
  core=podkit_core
  package=$(images/image.py package "$component")
  for stem in "$core" "${package//-/_}"; do
    if [ "$arch" = "$native" ] || ls "$context/dist/$stem"-*-none-any.whl >/dev/null 2>&1; then
      cp "$context/dist/$stem"-*.whl "$dir/wheels/"
    else
      cp "$context/dist/$stem"-*.tar.gz "$dir/wheels/"
    fi
  done
  echo "$dir"
}

# build_one NAME KEY DIR [podman build args...]: build unless NAME's label matches KEY
build_one() {
  local name=$1 key=$2 dir=$3
  shift 3
  local current
  current=$(podman image inspect --format '{{index .Labels "io.podkit.inputs"}}' "$name" 2>/dev/null || true)
  if [ "$current" = "$key" ]; then
    log "$name is up to date (inputs $key)"
    return
  fi
  log "building $name (inputs $key)"
  local started=$SECONDS
  podman build --pull=never --quiet --network=host --label "io.podkit.inputs=$key" \
    -t "$name" "$@" "$dir" >/dev/null
  log "built $name in $((SECONDS - started)) s"
}

base_id=$(podman image inspect --format '{{.Id}}' "$BASE")
sizes=()
for component in "${components[@]}"; do
  name=$(images/image.py name "$component")
  version=$(images/image.py version "$component")
  key="$(images/image.py inputs "$component")-${base_id:0:12}"
  current=$(podman image inspect --format '{{index .Labels "io.podkit.inputs"}}' "$name" 2>/dev/null || true)
  if [ "$current" = "$key" ]; then
    log "$name is up to date (inputs $key)"
  else
    ensure_wheels
    dir=$(build_context "$component" "$native")
    build_one "$name" "$key" "$dir" --build-arg "BASE=$BASE" --build-arg "VERSION=$version" \
      -f "$dir/Dockerfile"
  fi
  if [ $arm64 = 1 ]; then
    arm_base_id=$(podman image inspect --format '{{.Id}}' "$BASE-arm64")
    arm_key="$(images/image.py inputs "$component")-${arm_base_id:0:12}"
    current=$(podman image inspect --format '{{index .Labels "io.podkit.inputs"}}' "$name-arm64" 2>/dev/null || true)
    if [ "$current" != "$arm_key" ]; then
      ensure_wheels
      dir=$(build_context "$component" arm64)
      build_one "$name-arm64" "$arm_key" "$dir" --platform linux/arm64 \
        --build-arg "BASE=$BASE-arm64" --build-arg "VERSION=$version" -f "$dir/Dockerfile"
    else
      log "$name-arm64 is up to date (inputs $arm_key)"
    fi
  fi
  size=$(podman image inspect --format '{{.Size}}' "$name")
  target=$(sed -n "s/^SIZE_TARGET_MB_$component=//p" images/images.env)
  sizes+=("$(printf '%-45s %4d MB  (target %s MB)' "$name" $((size / 1000000)) "${target:-none}")")
  if [ $arm64 = 1 ]; then
    size=$(podman image inspect --format '{{.Size}}' "$name-arm64")
    sizes+=("$(printf '%-45s %4d MB  (target %s MB)' "$name-arm64" $((size / 1000000)) "${target:-none}")")
  fi
done

if [ $standins = 1 ]; then
  for dir in tests/e2e/standins/*/; do
    standin=$(basename "$dir")
    key="$(cat "$dir"* | sha256sum | cut -c1-16)-${base_id:0:12}"
    build_one "localhost/podkit-e2e/$standin:dev" "$key" "$dir" --build-arg "BASE=$BASE"
  done
fi

log "sizes ($native$([ $arm64 = 1 ] && echo ', arm64 too')):"
printf '  %s\n' "${sizes[@]}" >&2
