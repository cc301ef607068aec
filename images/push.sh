#!/usr/bin/env bash
# Pushes podkit's images to a registry the user names: REGISTRY/<component>:<version>, the same
# tag as the manifests' (images/image.py). Usage: images/push.sh REGISTRY [component ...]
# (`make push REGISTRY=registry.example.com/team`). Log in first: podman login <registry host>.
# Where images/build.sh also built arm64 (<name>-arm64), a manifest list with both is pushed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/podman-env.sh
registry="${1:?usage: images/push.sh REGISTRY [component ...] (e.g. registry.example.com/team)}"
shift
components=("$@")
[ ${#components[@]} -gt 0 ] || mapfile -t components < <(images/image.py components)
for component in "${components[@]}"; do
  local_name=$(images/image.py name "$component")
  target=$(images/image.py name "$component" "$registry")
  podman image exists "$local_name" || { echo "push: $local_name is not built (make images)" >&2; exit 1; }
  if podman image exists "$local_name-arm64"; then
    podman manifest rm "$target" >/dev/null 2>&1 || true
    podman manifest create "$target" >/dev/null
    podman manifest add "$target" "containers-storage:$local_name" >/dev/null
    podman manifest add "$target" "containers-storage:$local_name-arm64" >/dev/null
    podman manifest push --all "$target" "docker://$target"
  else
    podman tag "$local_name" "$target"
    podman push "$target"
  fi
  echo "push: $target" >&2
done
