#!/usr/bin/env bash
# Installs everything v2v and its tests need on Debian 12, then builds v2v.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: the tools v2v drives, what its tests run against, and
# what the test guest is built with.
PACKAGES=(
  qemu-utils            # qemu-img: overlays, measure, the final copy
  qemu-system-x86       # KVM probe; boot tests
  libguestfs-tools      # guestfish: inspection and conversion
  linux-image-amd64     # libguestfs builds its appliance from the host kernel
  debootstrap           # builds the Debian test guest
  libvirt-clients       # virsh, virt-xml-validate
  libxml2-utils         # xmllint, used by virt-xml-validate
  libvirt-daemon-system # a real libvirtd for -o libvirt tests
  nbdkit                # remote sources (curl/ssh plugins)
  openssh-server        # sshd on loopback for remote-source tests
  nginx-light           # HTTPS server on loopback for remote-source tests
  ca-certificates
  openssl
  ovmf                  # UEFI firmware for -o qemu launchers and libvirt efi guests
  zip unzip             # OVA archives in zip form
  virt-v2v              # bench/compare-virt-v2v.mjs: the reference we measure against
  libnbd-bin            # nbdcopy: virt-v2v's copy (only Recommended, so not pulled in)
  time                  # /usr/bin/time: peak memory in the benchmark
  rpm                   # rpmbuild/rpm: the minimal RHEL-like test guest's package database
  cryptsetup-bin        # the LUKS test guest
  libwin-hivex-perl     # hivexregedit: Windows registry edits; the Windows test guest's hives
  ntfs-3g               # NTFS tools (mkntfs) for the Windows test guest
  genisoimage           # the Windows test's stand-in virtio-win ISO
  # Tests only: VMware's vSphere simulator (govmomi), built offline by
  # test/fixtures/build-vcsim.sh for the -ic vpx:// end-to-end test.
  golang-go
  golang-github-vmware-govmomi-dev
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages ${missing[*]}: run this script as root (it uses apt-get)." >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends keeps this lean; packages run by hand (libvirtd,
  # sshd, nginx) are started by the tests themselves, never by the installer.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# npm ci only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >&2
fi
npm run --silent build >&2
echo "setup: ready" >&2
