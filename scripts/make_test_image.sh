#!/bin/sh
# Makes the container image the engine tests run, from busybox-static alone
# (no registry): a rootfs laid out as scripts/demo_container.sh lays it out.
#
#   make_test_image.sh OUT_DIR [NAME:TAG]     (default name: bb:local)
#
# Writes
#   OUT_DIR/rootfs.tar  the root file system, for `docker import rootfs.tar NAME:TAG`
#   OUT_DIR/image.tar   the same as a one-layer Docker archive tagged NAME:TAG,
#                       for `ctr images import` (or `docker load`)
# Both are byte-for-byte reproducible (sorted, owner 0, mtime 0).
set -eu

out=${1:?usage: make_test_image.sh OUT_DIR [NAME:TAG]}
tag=${2:-bb:local}
busybox=$(command -v busybox) || { echo "make_test_image.sh: busybox-static is not installed" >&2; exit 2; }
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac

mkdir -p "$out"
work=$(mktemp -d "$out/image.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/proc" "$rootfs/dev" "$rootfs/sys" "$rootfs/etc"
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
# Relative links: `busybox --install -s` would point at the host path. One
# process for the ~400 links rather than one `ln` each.
"$rootfs/bin/busybox" --list | python3 -c '
import os, sys
for applet in sys.stdin.read().split():
    if applet != "busybox":
        os.symlink("busybox", os.path.join(sys.argv[1], applet))
' "$rootfs/bin"
echo "root:x:0:0:root:/:/bin/sh" > "$rootfs/etc/passwd"

reproducible_tar() {  # DIR OUT FILES...
  dir=$1 tar_out=$2
  shift 2
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$dir" -cf "$tar_out" "$@"
}
reproducible_tar "$rootfs" "$work/rootfs.tar" .

# Docker archive: manifest.json names the config (by its digest) and the
# layer; the config's diff_ids are the digests of the uncompressed layers.
archive=$work/archive
mkdir -p "$archive"
cp "$work/rootfs.tar" "$archive/layer.tar"
layer_digest=$(sha256sum "$archive/layer.tar" | cut -d' ' -f1)
printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$arch" "$layer_digest" > "$archive/config.json"
config_digest=$(sha256sum "$archive/config.json" | cut -d' ' -f1)
mv "$archive/config.json" "$archive/$config_digest.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$config_digest" "$tag" > "$archive/manifest.json"
reproducible_tar "$archive" "$work/image.tar" manifest.json "$config_digest.json" layer.tar

mv "$work/rootfs.tar" "$out/rootfs.tar"
mv "$work/image.tar" "$out/image.tar"
