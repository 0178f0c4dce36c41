#!/usr/bin/env bash
# Builds the v2v container image (podman) offline from Debian packages only:
#   1. a Debian 13 (trixie) root filesystem made with debootstrap --variant=minbase,
#      with Node.js (20.19 in trixie) and the conversion packages of
#      scripts/setup.sh --packages, trimmed (no docs, apt lists or caches);
#      cached as a tarball keyed by the package list and this recipe, and
#      imported as localhost/v2v-base:KEY;
#   2. v2v itself: the npm pack tarball of this clone, unpacked as npm -g would
#      (/usr/lib/node_modules/v2v, /usr/bin/v2v) with its production
#      dependencies from package-lock.json (npm ci --omit=dev), added by
#      scripts/Containerfile on top of the base: localhost/v2v:VERSION and :latest.
# How to run it: docs/container.md.
#
# Usage: scripts/build-image.sh            (as root; installs debootstrap and podman if missing)
# Output: progress on stderr; the image name (localhost/v2v:VERSION) on stdout.
# Env:   V2V_IMAGE_CACHE   cache root (default /var/cache/v2v-image)
#        V2V_DEBIAN_MIRROR, V2V_DEBIAN_SECURITY_MIRROR   Debian and Debian security
#                          archive URIs (default: those of this host's apt sources)
#        V2V_IMAGE_NO_SECURITY=1   no trixie-security/trixie-updates (debootstrap's suite only)
set -euo pipefail
exec 3>&1 1>&2
cd "$(dirname "$0")/.."
REPO=$PWD

log() { printf '[build-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap and chroot)"

SUITE=trixie
# The conversion packages (not the test ones), plus what runs v2v.
# v2v runs guestfish only: the guestfish package, not libguestfs-tools (which
# adds guestfs-tools' virt-* programs, ~40 MB).
mapfile -t PACKAGES < <(scripts/setup.sh --packages | sed 's/^libguestfs-tools$/guestfish/')
PACKAGES+=(nodejs)
# Kernel module trees the libguestfs appliance never needs (supermin copies
# every module of the image's kernel into each appliance it builds).
PRUNE_MODULES=(
  drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/bluetooth
  drivers/staging drivers/iio drivers/isdn drivers/comedi drivers/usb/gadget
  drivers/net/ethernet drivers/net/can drivers/mtd drivers/thunderbolt
  sound net/wireless net/mac80211 net/bluetooth
)

# ------------------------------------------------------------ host tools ----
missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v podman >/dev/null || missing+=(podman)
command -v npm >/dev/null || die "npm not found: install Node.js >= 20.19 and npm (what builds v2v)"
if [[ ${#missing[@]} -gt 0 ]]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# ---------------------------------------------------------------- mirror ----
# The first URI of this host's apt sources serving SUITE_RE (deb822 or one-line).
source_uri() {
  local re=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk -v re="$re" '
      function flush() { if (types ~ /(^|[ \t])deb([ \t]|$)/ && suites ~ re && uris != "") { split(uris, u, /[ \t]+/); print u[1]; exit } types = suites = uris = "" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      { line = $0; key = tolower(line); sub(/:.*/, "", key); sub(/^[^:]*:[ \t]*/, "", line)
        if (key == "types") types = line; else if (key == "suites") suites = line; else if (key == "uris") uris = line }
      END { flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    awk -v re="$re" '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ } if ($(i + 1) ~ re) { print $i } }' "$f"
  done
}
MIRROR=${V2V_DEBIAN_MIRROR:-$(source_uri '(^|[ \t])(bookworm|trixie)([ \t]|$)' | head -n 1)}
SECURITY_MIRROR=${V2V_DEBIAN_SECURITY_MIRROR:-$(source_uri '(bookworm|trixie)-security' | head -n 1)}
[[ -n $MIRROR ]] || die "no Debian mirror in /etc/apt/sources.list{,.d}: set V2V_DEBIAN_MIRROR"
[[ -n $SECURITY_MIRROR || -n ${V2V_IMAGE_NO_SECURITY:-} ]] || die "no Debian security mirror in /etc/apt/sources.list{,.d}: set V2V_DEBIAN_SECURITY_MIRROR (or V2V_IMAGE_NO_SECURITY=1)"

# ------------------------------------------------------- the base recipe ----
# build_rootfs ROOT: debootstrap + the packages + the trim. Its text is part
# of the cache key, so changing it rebuilds the base.
build_rootfs() {
  local root=$1
  DEBIAN_FRONTEND=noninteractive LC_ALL=C debootstrap --variant=minbase --arch=amd64 \
    --cache-dir="$CACHE/debs" "$SUITE" "$root" "$MIRROR" >&2
  # No docs, man pages or translations from here on (copyright files stay).
  cat >"$root/etc/dpkg/dpkg.cfg.d/01-v2v-image" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
path-exclude /usr/bin/qemu-system-i386
path-exclude /usr/bin/qemu-system-x86_64-microvm
path-exclude /usr/lib/x86_64-linux-gnu/perl/*/CORE/*.h
EOF
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/01-v2v-image"
  {
    echo "deb $MIRROR $SUITE main"
    if [[ -z ${V2V_IMAGE_NO_SECURITY:-} ]]; then
      echo "deb $MIRROR $SUITE-updates main"
      echo "deb $SECURITY_MIRROR $SUITE-security main"
    fi
  } >"$root/etc/apt/sources.list"
  # Nothing starts in the chroot; no initramfs for the kernel (libguestfs's
  # appliance has its own, built by supermin from the kernel and its modules).
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  mkdir -p "$root/etc/initramfs-tools"
  mount -t proc proc "$root/proc"
  MOUNTED=$root/proc
  chroot "$root" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs
  ln -s /bin/true "$root/usr/sbin/update-initramfs"
  chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C sh -c \
    'apt-get update -qq && apt-get -y -qq dist-upgrade && apt-get install -y -qq "$@"' sh "${PACKAGES[@]}" >&2
  rm "$root/usr/sbin/update-initramfs"
  chroot "$root" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
  umount "$root/proc"
  MOUNTED=
  rm -f "$root/usr/sbin/policy-rc.d"
  # The kernel's modules the appliance never loads.
  local kmod
  for kmod in "$root"/usr/lib/modules/*/kernel; do
    (cd "$kmod" && rm -rf "${PRUNE_MODULES[@]}")
    chroot "$root" depmod "$(basename "$(dirname "$kmod")")"
  done
  # Trim: what debootstrap installed before the dpkg excludes, apt's lists and caches, logs.
  find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{man,info,lintian}/* "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* \
    "$root"/var/cache/debconf/*-old "$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  : >"$root/etc/resolv.conf" # debootstrap's copy of the host's; podman provides its own
  echo "$SUITE ${PACKAGES[*]}" >"$root/etc/v2v-image-base"
}

KEY=$( (
  echo "$SUITE"
  printf '%s\n' "${PACKAGES[@]}" | sort
  printf '%s\n' "${PRUNE_MODULES[@]}"
  echo "security=${V2V_IMAGE_NO_SECURITY:-yes}"
  declare -f build_rootfs
) | sha256sum | cut -c1-16)
CACHE=${V2V_IMAGE_CACHE:-/var/cache/v2v-image}
BASE_TAR=$CACHE/base-$SUITE-$KEY.tar
BASE_IMAGE=localhost/v2v-base:$KEY

ROOT= MOUNTED= STAGE=
cleanup() {
  local rc=$?
  set +e
  [[ -n $MOUNTED ]] && umount -l "$MOUNTED"
  [[ -n $ROOT ]] && rm -rf --one-file-system "$ROOT"
  [[ -n $STAGE ]] && rm -rf "$STAGE"
  rm -f "$BASE_TAR.tmp"
  [[ $rc -ne 0 ]] && log "FAILED (rc=$rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

START=$(date +%s)
mkdir -p "$CACHE/debs"
exec 9>"$CACHE/.build.lock"
flock -n 9 || { log "another build holds $CACHE/.build.lock; waiting"; flock 9; }

# ----------------------------------------------------------------- base ----
if podman image exists "$BASE_IMAGE"; then
  log "base image $BASE_IMAGE: present"
else
  if [[ ! -s $BASE_TAR ]]; then
    ROOT=$(mktemp -d "$CACHE/.rootfs.XXXXXX")
    log "debootstrap $SUITE (minbase) + ${PACKAGES[*]} from $MIRROR"
    build_rootfs "$ROOT"
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$ROOT" -cf "$BASE_TAR.tmp" .
    mv "$BASE_TAR.tmp" "$BASE_TAR"
    find "$CACHE" -maxdepth 1 -name "base-*.tar" ! -path "$BASE_TAR" -delete # older recipes
    rm -rf --one-file-system "$ROOT"
    ROOT=
    log "base root filesystem cached: $BASE_TAR ($(du -h "$BASE_TAR" | cut -f1))"
  else
    log "base root filesystem: cached $BASE_TAR"
  fi
  podman import --quiet --change 'CMD ["/bin/bash"]' "$BASE_TAR" "$BASE_IMAGE" >/dev/null
  log "imported $BASE_IMAGE"
fi

# ------------------------------------------------------------------ v2v ----
# npm pack's tarball (prepack builds dist/ and the completion script), as npm -g lays it out.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund >&2
fi
STAGE=$(mktemp -d)
tgz=$(npm pack --silent --pack-destination "$STAGE" | tail -n 1)
VERSION=$(node -p 'require("./package.json").version')
pkg=$STAGE/root/usr/lib/node_modules/v2v
mkdir -p "$pkg" "$STAGE/root/usr/bin"
tar -xzf "$STAGE/$tgz" -C "$pkg" --strip-components=1 --no-same-owner
cp package-lock.json "$pkg/"
(cd "$pkg" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
rm "$pkg/package-lock.json"
ln -s ../lib/node_modules/v2v/bin/v2v.js "$STAGE/root/usr/bin/v2v"
# Same modes and times whatever the checkout: podman's layer cache keys on them.
find "$STAGE/root" -exec touch -h -d @0 {} +
chmod -R u+rwX,go+rX,go-w "$STAGE/root"

IMAGE=localhost/v2v:$VERSION
podman build --quiet --pull=never --build-arg BASE="$BASE_IMAGE" \
  --label "org.opencontainers.image.version=$VERSION" \
  --label "org.opencontainers.image.revision=$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)" \
  -f "$REPO/scripts/Containerfile" -t "$IMAGE" -t localhost/v2v:latest "$STAGE/root" >/dev/null
SIZE=$(podman image inspect --format '{{.Size}}' "$IMAGE")
log "built $IMAGE: $((SIZE / 1000000)) MB (base $((($(podman image inspect --format '{{.Size}}' "$BASE_IMAGE")) / 1000000)) MB) in $(($(date +%s) - START)) s"
echo "$IMAGE" >&3
