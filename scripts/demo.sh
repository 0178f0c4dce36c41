#!/usr/bin/env bash
# The main job, end to end: builds the demo VMware guest (Debian 12, VMDK +
# .vmx, cached) and converts it to KVM with v2v into ./out/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
fixture=$(test/fixtures/build-debian-guest.sh)
out=${V2V_DEMO_OUT:-$PWD/out/demo}
rm -rf "$out"
mkdir -p "$out"
node bin/v2v.js -i vmx "$fixture/guest.vmx" -o local -os "$out" -of qcow2 "$@"
echo
echo "Converted guest in $out:"
ls -l "$out"
echo "Boot it (no network device, serial console): qemu-system-x86_64 -accel tcg -m 1024 -nodefaults -nographic -nic none -serial mon:stdio -drive file=$out/v2v-fixture-debian12-sda,format=qcow2,if=virtio,snapshot=on"
