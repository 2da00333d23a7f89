#!/usr/bin/env bash
# Build a local podman image of plain Debian with systemd, for Molecule and the
# sandbox. Nothing can be pulled from a registry here, so the image comes from
# Debian's own packages via debootstrap. Skips the build when the image exists.
#
# usage: build.sh bookworm|trixie   -> localhost/cloud-django/debian:<release>
set -euo pipefail

release=${1:?usage: build.sh bookworm|trixie}
image="localhost/cloud-django/debian:${release}"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

case "$release" in
  bookworm | trixie) ;;
  *) echo "build.sh: unknown release '$release' (bookworm or trixie)" >&2; exit 2 ;;
esac

if podman image exists "$image"; then
  echo "build.sh: $image exists"
  exit 0
fi

root=$(mktemp -d /var/tmp/cloud-django-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT

echo "build.sh: debootstrap $release into $root"
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,sudo,python3,python3-apt,ca-certificates,iproute2,procps,curl \
  "$release" "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -20 "$root.log" >&2
  exit 1
}
rm -f "$root.log"

# A container needs no getty, no udev trigger and no machine-id of its own yet.
chroot "$root" systemctl mask \
  getty.target console-getty.service systemd-udevd.service \
  systemd-udev-trigger.service systemd-firstboot.service >/dev/null 2>&1 || true
: >"$root/etc/machine-id"
# Package lists stay: Ansible's apt refreshes them once they are an hour old.
chroot "$root" apt-get clean

tar -C "$root" -c . | podman import \
  --change 'CMD ["/sbin/init"]' \
  --change 'ENV container=podman' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  - "$image" >/dev/null 2>&1
echo "build.sh: built $image"
