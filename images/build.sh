#!/usr/bin/env bash
# Builds podkit's images with podman from this checkout: the wheels of each component (uv build),
# then images/<component>/Dockerfile with a context holding them. Usage:
#   images/build.sh [component ...]     (default: every images/*/Dockerfile)
# Images are tagged localhost/podkit/<component>:<version> and :dev.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/podman-env.sh
images/base/build-base.sh

UV="${UV:-uv}"
declare -A PACKAGE=(
  [statsd-adapter]=podkit-statsd-adapter
  [git-sync]=podkit-git-sync
  [redis-ambassador]=podkit-redis-ambassador
  [jmx-adapter]=podkit-jmx-adapter
  [log-streamer]=podkit-log-streamer
)
components=("$@")
if [ ${#components[@]} -eq 0 ]; then
  for dockerfile in images/*/Dockerfile; do components+=("$(basename "$(dirname "$dockerfile")")"); done
fi
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
mkdir -p "$context/wheels"
$UV build --quiet --wheel --package podkit-core --out-dir "$context/wheels"
for component in "${components[@]}"; do
  package="${PACKAGE[$component]:?unknown component $component}"
  $UV build --quiet --wheel --package "$package" --out-dir "$context/wheels"
  wheel=$(ls "$context/wheels/${package//-/_}"-*.whl)
  version=$(basename "$wheel" | cut -d- -f2)
  cp -r "images/$component/." "$context/"
  echo "images: building localhost/podkit/$component:$version" >&2
  podman build --pull=never --quiet --network=host --build-arg "VERSION=$version" \
    -f "images/$component/Dockerfile" -t "localhost/podkit/$component:$version" \
    -t "localhost/podkit/$component:dev" "$context" >/dev/null
  size=$(podman image inspect --format '{{.Size}}' "localhost/podkit/$component:dev")
  echo "images: localhost/podkit/$component:dev is $((size / 1000000)) MB" >&2
done
