#!/bin/bash
# Builds traceloop's container image from a build tree, with no registry and
# no download: the project's binaries, the Debian shared libraries they link
# (as this machine has them installed), busybox-static for a shell in
# `kubectl exec`, and the copyright files of those packages. Nothing else: no
# package manager, no compiler. The image runs as the DaemonSet in
# deploy/kubernetes/traceloop.yaml runs it.
#
#   deploy/image/build.sh [-t TAG] [-o FILE.tar] BUILD_DIR
#
#   -t TAG   image name (default traceloop:VERSION, VERSION from the binary)
#   -o FILE  write the root filesystem as a tar (for `docker import`,
#            `ctr images import` after conversion, ...) instead of importing
#            it into Docker
#
# Imports with `$DOCKER import` (DOCKER defaults to docker; DOCKER_HOST and
# the usual Docker client settings apply). Prints the image's name.
set -euo pipefail

tag=""
output=""
while getopts "t:o:h" opt; do
  case "$opt" in
    t) tag="$OPTARG" ;;
    o) output="$OPTARG" ;;
    *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "usage: $0 [-t TAG] [-o FILE.tar] BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)

binaries=("$build/recorder/traceloop-record" "$build/tools/tl-show" "$build/tools/tl-grep" "$build/tools/tl-diff"
          "$build/tools/tl-stats")
for b in "${binaries[@]}"; do
  [ -x "$b" ] || { echo "$0: $b is missing: build the project first (scripts/setup.sh build)" >&2; exit 1; }
done
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q "statically linked"; then
  busybox=/bin/busybox
  [ -x "$busybox" ] || { echo "$0: busybox-static is missing (apt-get install busybox-static)" >&2; exit 1; }
fi
# The first line of --version is "traceloop-record VERSION"; the next names the trace formats.
version=$("$build/recorder/traceloop-record" --version 2>/dev/null | awk 'NR == 1 {print $NF}' || true)
[ -n "$version" ] || version=dev
[ -n "$tag" ] || tag="traceloop:$version"

root=$(mktemp -d "${TMPDIR:-/tmp}/traceloop-image.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{usr/bin,bin,etc,tmp,var/lib/traceloop,usr/share/traceloop,usr/share/doc,proc,sys,dev,run}
chmod 1777 "$root/tmp"
chmod 0700 "$root/var/lib/traceloop"

# Without their debug information (most of a RelWithDebInfo binary's size).
for b in "${binaries[@]}"; do
  install -m 0755 "$b" "$root/usr/bin/"
  strip --strip-debug "$root/usr/bin/$(basename "$b")"
done
install -m 0755 "$busybox" "$root/bin/busybox"
for applet in sh ls cat ps df du find grep head tail less mkdir rm mv cp ln stat sleep id env kill; do
  ln -s busybox "$root/bin/$applet"
done

# The shared libraries, at the paths the dynamic loader looks in (their
# directories' symlinks, such as /lib -> usr/lib on Debian, resolved).
libraries=$(for b in "${binaries[@]}"; do ldd "$b"; done |
            awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)
packages=()
for lib in $libraries; do
  real=$(readlink -f "$lib")
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$real" "$root$lib"
  # dpkg knows a file by one of its names (/lib or /usr/lib on merged /usr).
  pkg=$( (dpkg -S "$lib" 2>/dev/null || dpkg -S "$real" 2>/dev/null) | head -1 | cut -d: -f1 || true)
  [ -n "$pkg" ] && packages+=("$pkg")
done
# Provenance and licences of what was copied.
{
  echo "# Debian packages whose files this image holds (binary: package version)"
  for pkg in $(printf '%s\n' "${packages[@]}" busybox-static | sort -u); do
    dpkg-query -W -f='${Package} ${Version}\n' "$pkg" 2>/dev/null || true
    if [ -f "/usr/share/doc/$pkg/copyright" ]; then
      mkdir -p "$root/usr/share/doc/$pkg"
      cp "/usr/share/doc/$pkg/copyright" "$root/usr/share/doc/$pkg/"
    fi
  done
} > "$root/usr/share/traceloop/packages.txt"
echo "traceloop $version" > "$root/usr/share/traceloop/version"

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
ln -s /proc/mounts "$root/etc/mtab"

tarball=${output:-"$root.tar"}
# Owned by root, in a stable order and time: the same binaries give the same layer.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$tarball" .
if [ -n "$output" ]; then
  echo "$output"
  exit 0
fi
trap 'rm -rf "$root" "$root.tar"' EXIT
${DOCKER:-docker} import \
  --change 'ENTRYPOINT ["/usr/bin/traceloop-record"]' \
  --change 'CMD ["daemon", "--dir", "/var/lib/traceloop", "--host-root", "/host"]' \
  --change 'ENV PATH=/usr/bin:/bin' \
  --change "LABEL org.opencontainers.image.title=traceloop org.opencontainers.image.version=$version" \
  "$tarball" "$tag" >/dev/null
echo "$tag"
