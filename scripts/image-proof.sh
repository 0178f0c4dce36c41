#!/usr/bin/env bash
# Proof of the container image (docs/container.md): builds it from a clean
# clone of this repository's HEAD with the documented command, converts the
# Debian test guest inside it with podman run (the guest's files mounted
# read-only, the output in a mounted directory), boots the result with the
# project's boot check (v2v verify, on the host), and with --compare also
# converts the same guest on the host (node bin/v2v.js) to compare the times.
# Every step that starts qemu (the guest fixture, both conversions, the boot
# check) runs under flock /tmp/v2v-heavy.lock.
#
# Usage: scripts/image-proof.sh [--cold] [--compare] [--keep]
#   --cold     a cold build: a new cache dir and no base image (debootstrap and
#              the package downloads again; ~3.5 min more)
#   --compare  also convert on the host and print both times
#   --keep     keep the clone and the outputs (printed at the end)
# Output: one line per step with its time, then "N passed, N failed".
# Duration (2 cores, TCG), not counting waits for the lock: ~4 min warm, 2-6 min
# more with --cold, ~1-1.5 min more with --compare (docs/container.md).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
LOCK=/tmp/v2v-heavy.lock
cold= compare= keep=
for arg; do
  case "$arg" in
    --cold) cold=1 ;;
    --compare) compare=1 ;;
    --keep) keep=1 ;;
    *) echo "image-proof: unknown argument $arg (--cold, --compare, --keep)" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "image-proof: run as root (debootstrap, podman)" >&2; exit 1; }

WORK=$(mktemp -d /var/tmp/image-proof.XXXXXX) # not "v2v-": the names v2v's reaper looks at
cleanup() { [[ -n $keep ]] || rm -rf "$WORK"; }
trap cleanup EXIT
passed=0 failed=0
step() { # step NAME COMMAND...: runs it, prints its time and result
  local name=$1 t0 rc=0
  shift
  t0=$(date +%s.%N)
  "$@" >"$WORK/$name.log" 2>&1 || rc=$?
  local secs
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1)); printf 'ok   %-18s %7.1f s\n' "$name" "$secs"
  else
    failed=$((failed + 1)); printf 'FAIL %-18s %7.1f s (rc %s; log %s)\n' "$name" "$secs" "$rc" "$WORK/$name.log"
    tail -n 20 "$WORK/$name.log" | sed 's/^/     /'
  fi
  return "$rc"
}

git clone --quiet --no-local "$REPO" "$WORK/clone"
git -C "$WORK/clone" checkout --quiet "$(git -C "$REPO" rev-parse HEAD)"
if [[ -n $cold ]]; then
  # No cached root filesystem and no base image: debootstrap and every download again.
  export V2V_IMAGE_CACHE=$WORK/image-cache
  for image in $(podman images --format '{{.Repository}}:{{.Tag}}' | grep -E '^localhost/v2v-base:' || true); do
    podman rmi "$image" >/dev/null # untags it; a v2v image built on it keeps its layers
  done
fi

summary() { echo "$passed passed, $failed failed"; [[ $failed -eq 0 ]]; }
trap 'summary; cleanup' EXIT

step build-image "$WORK/clone/scripts/build-image.sh" || exit 1
IMAGE=$(tail -n 1 "$WORK/build-image.log")
SIZE=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "     image $IMAGE: $((SIZE / 1000000)) MB"

step fixture flock "$LOCK" "$REPO/test/fixtures/build-debian-guest.sh" || exit 1
FIXTURE=$(tail -n 1 "$WORK/fixture.log")
NAME=$(awk -F'"' '/^displayName/ { print $2 }' "$FIXTURE/guest.vmx")

# podman as docs/container.md says: plain podman run, or, on a host where
# crun cannot start a container (hybrid cgroup v1/v2, no CAP_SYS_RESOURCE to
# set podman's default limits, as on the project's machines), runc and
# limits within the host's.
PODMAN=(podman) LIMITS=()
if ! podman run --rm --network=none "$IMAGE" --version >/dev/null 2>&1; then
  command -v runc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc >/dev/null
  nproc_max=$(ulimit -Hu); [[ $nproc_max == unlimited || $nproc_max -gt 32768 ]] && nproc_max=32768
  PODMAN=(podman --runtime runc)
  LIMITS=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=$nproc_max:$nproc_max")
  echo "     this host needs: ${PODMAN[*]:1} ${LIMITS[*]}"
fi

# The documented run: no capabilities, no network, the source read-only and
# the output a mounted directory, both at their host paths (so the domain XML
# names the disk where the host has it).
OUT=$WORK/out-container
mkdir -p "$OUT"
step convert-container flock "$LOCK" "${PODMAN[@]}" run --rm "${LIMITS[@]}" \
  --network=none --cap-drop=all --security-opt=no-new-privileges \
  -v "$FIXTURE:$FIXTURE:ro" -v "$OUT:$OUT" \
  "$IMAGE" -i vmx "$FIXTURE/guest.vmx" -o local -os "$OUT" -of qcow2 || exit 1
grep -h '^Finished' "$WORK/convert-container.log" | sed 's/^/     /'
step boot-check flock "$LOCK" node "$WORK/clone/bin/v2v.js" verify "$OUT/$NAME.xml" || true
grep -h '^Booted' "$WORK/boot-check.log" | sed 's/^/     /' || true

if [[ -n $compare ]]; then
  mkdir -p "$WORK/out-host"
  step convert-host flock "$LOCK" node "$WORK/clone/bin/v2v.js" -i vmx "$FIXTURE/guest.vmx" \
    -o local -os "$WORK/out-host" -of qcow2 || true
  grep -h '^Finished' "$WORK/convert-host.log" | sed 's/^/     /' || true
fi
[[ -z $keep ]] || echo "kept: $WORK"
exit $((failed > 0))
