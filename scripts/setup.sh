#!/usr/bin/env bash
# Installs what v2v needs to convert on Debian 12, then builds v2v; with
# --test, also what its tests, the test guests and the benchmark need.
# Idempotent and quick when everything is already there.
#   scripts/setup.sh          conversion only
#   scripts/setup.sh --test   conversion + tests (scripts/test.sh, demo.sh and the benchmark use this)
set -euo pipefail
cd "$(dirname "$0")/.."

# What a conversion runs.
PACKAGES=(
  qemu-utils            # qemu-img: overlays, measure, the final copy
  qemu-system-x86       # KVM probe; --verify boot check and v2v verify; -o qemu launchers
  libguestfs-tools      # guestfish: inspection and conversion
  linux-image-amd64     # libguestfs builds its appliance from the host kernel
  libvirt-clients       # virsh: -o libvirt
  nbdkit                # remote sources (curl/ssh plugins)
  openssh-client        # ssh, ssh-keyscan: -it ssh sources
  ca-certificates       # https:// sources
  ovmf                  # UEFI firmware for -o qemu launchers and libvirt efi guests
  unzip                 # OVAs in zip form
  libwin-hivex-perl     # hivexregedit: Windows registry edits
)

# What the tests, the test guests and the benchmark add (--test).
TEST_PACKAGES=(
  debootstrap           # builds the Debian test guest
  libxml2-utils         # xmllint, used by virt-xml-validate
  libvirt-daemon-system # a real libvirtd for -o libvirt tests
  openssh-server        # sshd on loopback for remote-source tests
  nginx-light           # HTTPS server on loopback for remote-source tests
  openssl               # test certificates
  zip                   # OVA archives in zip form
  virt-v2v              # bench/compare-virt-v2v.ts and the virt-v2v option table test
  libnbd-bin            # nbdcopy: virt-v2v's copy (only Recommended, so not pulled in)
  time                  # /usr/bin/time: peak memory in the benchmark
  rpm                   # rpmbuild/rpm: the minimal RHEL-like test guest's package database
  cryptsetup-bin        # the LUKS test guest
  ntfs-3g               # NTFS tools (mkntfs) for the Windows test guest
  genisoimage           # the Windows test's stand-in virtio-win ISO
  # Tests only: VMware's vSphere simulator (govmomi), built offline by
  # test/fixtures/build-vcsim.sh for the -ic vpx:// end-to-end test.
  golang-go
  golang-github-vmware-govmomi-dev
)
case "${1:-}" in
  --test) PACKAGES+=("${TEST_PACKAGES[@]}") ;;
  '') ;;
  *) echo "setup: unknown argument $1: use no argument (conversion only) or --test (and the tests)." >&2; exit 2 ;;
esac

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
