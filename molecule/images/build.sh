#!/usr/bin/env bash
# Build a local podman image of plain Debian with systemd, for Molecule and the
# sandbox. Nothing can be pulled from a registry here, so the image comes from
# Debian's own packages via debootstrap. Skips the build when the image exists
# and was built by this version of the script (its label holds the script's
# hash, so a change here rebuilds the image).
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

build=$(sha256sum "$0" | cut -c1-16)
if podman image exists "$image" &&
  [ "$(podman image inspect --format '{{ index .Labels "cloud-django.build" }}' "$image" 2>/dev/null)" = "$build" ]; then
  echo "build.sh: $image exists"
  exit 0
fi

root=$(mktemp -d /var/tmp/cloud-django-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT

echo "build.sh: debootstrap $release into $root"
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,sudo,python3,python3-apt,ca-certificates,iproute2,procps,curl,openssh-server \
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
# Reached over SSH like any host: each container makes its own host keys when
# sshd first starts (the image has none), and the controller records them.
rm -f "$root"/etc/ssh/ssh_host_*
mkdir -p "$root/etc/systemd/system/ssh.service.d"
cat >"$root/etc/systemd/system/ssh.service.d/host-keys.conf" <<'UNIT'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
UNIT
# Package lists stay: Ansible's apt refreshes them once they are an hour old.
chroot "$root" apt-get clean

tar -C "$root" -c . | podman import \
  --change 'CMD ["/sbin/init"]' \
  --change 'ENV container=podman' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  --change "LABEL cloud-django.build=$build" \
  - "$image" >/dev/null 2>&1
echo "build.sh: built $image"
