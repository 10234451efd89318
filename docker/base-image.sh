#!/bin/sh
# A minimal Debian base image with Python from Debian's own packages, for builds where the
# public image registry is unreachable: every byte comes from a Debian mirror (yours, or a
# proxy of deb.debian.org), none from Docker Hub. Used by `make base-image`; docs/deploy.md.
#
#   docker/base-image.sh TAG [MIRROR] [SUITE]
#
# Needs root, debootstrap and a Docker daemon. The image has python (3.11 on bookworm),
# venv and pip's bundled wheel (python3-venv), the CA certificates, and useradd (passwd).
set -eu

tag=${1:?usage: docker/base-image.sh TAG [MIRROR] [SUITE]}
mirror=${2:-http://deb.debian.org/debian}
suite=${3:-bookworm}
packages=python3,python3-venv,python-is-python3,ca-certificates,passwd

command -v debootstrap >/dev/null || { echo "debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "debootstrap needs root" >&2; exit 1; }

rootfs=$(mktemp -d "${TMPDIR:-/tmp}/tune-or-prompt-base.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT INT TERM

debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror"
# What a base image does not need: package lists, caches, documentation, logs.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
# Point apt at the same mirror, so a derived image can still install packages.
echo "deb $mirror $suite main" > "$rootfs/etc/apt/sources.list"

tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python"]' \
    - "$tag"
docker run --rm --network none "$tag" python -c "import sys, ssl, venv; print('base image', sys.version.split()[0])"
