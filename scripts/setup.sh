#!/usr/bin/env bash
# Installs what v2v needs to convert on Debian 12, then builds v2v; with
# --test, also what its tests, the test guests and the benchmark need.
# Idempotent and quick when everything is already there.
#   scripts/setup.sh             conversion only
#   scripts/setup.sh --test      conversion + tests (scripts/test.sh, demo.sh and the benchmark use this)
#   scripts/setup.sh --install   conversion, then installs v2v as a command (docs/install.md):
#                                npm pack + npm install -g, which puts v2v on PATH and its man
#                                page where man finds it, and the bash completion linked where
#                                bash-completion loads it
#   scripts/setup.sh --uninstall removes what --install installed (not the Debian packages)
#   scripts/setup.sh --packages  prints the conversion packages, one a line (scripts/build-image.sh)
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
# Where bash-completion looks for v2v's completion when npm's global prefix
# is P: P/share/bash-completion/completions for /usr and /usr/local (its
# XDG_DATA_DIRS), the user's own completions directory for any other prefix.
completion_link() {
  local prefix
  prefix=$(npm prefix -g)
  case "$prefix" in
    /usr | /usr/local) echo "$prefix/share/bash-completion/completions/v2v" ;;
    *) echo "${BASH_COMPLETION_USER_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/bash-completion}/completions/v2v" ;;
  esac
}

uninstall() {
  local link
  link=$(completion_link)
  # Only our link: one into the package, or left dangling by "npm uninstall -g v2v".
  if [ -L "$link" ] && { [ ! -e "$link" ] || [[ $(readlink "$link") == */v2v/share/bash-completion/completions/v2v ]]; }; then
    rm -f "$link"
  fi
  npm uninstall -g --no-audit --no-fund v2v >&2
  echo "setup: v2v uninstalled" >&2
}

install=
case "${1:-}" in
  --test) PACKAGES+=("${TEST_PACKAGES[@]}") ;;
  --install) install=1; PACKAGES+=(bash-completion man-db) ;; # what loads the completion and reads the man page
  --uninstall) uninstall; exit 0 ;;
  --packages) printf '%s\n' "${PACKAGES[@]}"; exit 0 ;;
  '') ;;
  *) echo "setup: unknown argument $1: use no argument (conversion only), --test (and the tests), --install, --uninstall or --packages." >&2; exit 2 ;;
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
if [ -n "$install" ]; then
  # The tarball a user would get: npm pack runs prepack (build + completion script).
  pack=$(mktemp -d)
  trap 'rm -rf "$pack"' EXIT
  tgz=$(npm pack --silent --pack-destination "$pack" | tail -n 1)
  # npm links bin/v2v.js to $(npm prefix -g)/bin/v2v and docs/v2v.1 (package.json "man")
  # to $(npm prefix -g)/share/man/man1/v2v.1.
  npm install -g --no-audit --no-fund "$pack/$tgz" >&2
  link=$(completion_link)
  mkdir -p "$(dirname "$link")"
  ln -sfn "$(npm root -g)/v2v/share/bash-completion/completions/v2v" "$link"
  echo "setup: installed $(command -v v2v) ($(v2v --version)), man page $(man -w v2v 2>/dev/null || echo '(man-db not installed)'), bash completion $link" >&2
fi
echo "setup: ready" >&2
