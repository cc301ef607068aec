#!/usr/bin/env bash
# Sourced by the e2e and image scripts: a private podman root that works on these machines
# (runc, cgroupfs, file events, ulimits within the hard limits) and persists between runs, so the
# base image and built layers are cached. Override the place with PODKIT_PODMAN_ROOT.
PODKIT_PODMAN_ROOT="${PODKIT_PODMAN_ROOT:-/var/tmp/podkit-podman}"
mkdir -p "$PODKIT_PODMAN_ROOT/graph" "$PODKIT_PODMAN_ROOT/run" "$PODKIT_PODMAN_ROOT/tmp"
cat > "$PODKIT_PODMAN_ROOT/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$PODKIT_PODMAN_ROOT/graph"
runroot = "$PODKIT_PODMAN_ROOT/run"
CONF
cat > "$PODKIT_PODMAN_ROOT/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
image_default_transport = "docker://"
[network]
network_backend = "netavark"
CONF
export CONTAINERS_STORAGE_CONF="$PODKIT_PODMAN_ROOT/storage.conf"
export CONTAINERS_CONF="$PODKIT_PODMAN_ROOT/containers.conf"
export TMPDIR="$PODKIT_PODMAN_ROOT/tmp"
