#!/bin/bash
# The Debian packages as a user gets them: builds them with cpack from
# BUILD_DIR, installs them with apt into a clean Debian root (which gets
# their dependencies only from the packages' metadata, so missing shared
# library dependencies show), and uses the installed programs there: the
# tools alone first (they must not pull in the recorder's libraries), then
# the recorder records `true` and tl-show reads the trace. Every man page a
# package ships must render with `man` there.
#
#   tests/deploy/package_test.sh BUILD_DIR
#
# Needs root (chroot, mounts, BPF), mmdebstrap and dpkg-dev, and the Debian
# mirror of apt's configuration. The clean root is made once by mmdebstrap
# and kept as a tarball in $TRACELOOP_TEST_CACHE (default
# /var/cache/traceloop-test), named after everything that goes into it; each
# run unpacks a fresh copy. Downloaded .debs are kept there too. The root's
# mounts live in a private mount namespace: they end with it, on every path.
# Exit status 77 (skipped) without root.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
log() { echo "package_test: $*"; }
fail() { echo "package_test: FAIL: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  log "skipped: needs root (chroot, mounts, BPF)"
  exit 77
fi
for tool in mmdebstrap dpkg-shlibdeps unshare chroot cpack; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/setup.sh installs it)"
done

SECONDS=0
work=$(mktemp -d "${TMPDIR:-/var/tmp}/traceloop-package-test.XXXXXX")
# --one-file-system: should a mount of the root have survived after all, the
# host's /dev, /proc or /sys behind it are never descended into.
partial=""
trap 'rm -rf --one-file-system "$work"; [ -z "$partial" ] || rm -f "$partial"' EXIT

# ---- the packages ------------------------------------------------------------
(cd "$build" && cpack -G DEB -B "$work/packages" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack"; }
shopt -s nullglob
tools_deb=("$work"/packages/traceloop-tools_*.deb)
recorder_deb=("$work"/packages/traceloop-recorder_*.deb)
shopt -u nullglob
[ ${#tools_deb[@]} -eq 1 ] || fail "cpack made no single traceloop-tools package: $(ls "$work/packages")"
[ ${#recorder_deb[@]} -eq 1 ] || fail "cpack made no single traceloop-recorder package: $(ls "$work/packages")"
log "packages built in ${SECONDS} s: $(cd "$work/packages" && echo *.deb)"

contents() { dpkg-deb --fsys-tarfile "$1" | tar -t | sed 's|^\./|/|'; }
contents "${tools_deb[0]}" >"$work/tools.files"
contents "${recorder_deb[0]}" >"$work/recorder.files"
for f in /usr/bin/tl-show /usr/bin/tl-grep /usr/bin/tl-diff /usr/bin/tl-stats /usr/bin/kubectl-traceloop; do
  grep -qx "$f" "$work/tools.files" || fail "traceloop-tools lacks $f"
  ! grep -qx "$f" "$work/recorder.files" || fail "traceloop-recorder holds $f too"
done
grep -qx /usr/bin/traceloop-record "$work/recorder.files" || fail "traceloop-recorder lacks /usr/bin/traceloop-record"
grep -qx /usr/lib/systemd/system/traceloop.service "$work/recorder.files" \
  || fail "traceloop-recorder lacks /usr/lib/systemd/system/traceloop.service"
! grep -q traceloop-record "$work/tools.files" || fail "traceloop-tools holds the recorder"
for deb in "${tools_deb[0]}" "${recorder_deb[0]}"; do
  depends=$(dpkg-deb -f "$deb" Depends)
  [[ "$depends" == *libc6* ]] || fail "$(basename "$deb"): no library dependencies computed (Depends: $depends)"
done
[[ "$(dpkg-deb -f "${tools_deb[0]}" Depends)" != *libbpf* ]] || fail "traceloop-tools depends on libbpf"

# ---- a plain install under another prefix: the unit names that prefix's binary
cmake --install "$build" --prefix "$work/prefix" --component recorder >/dev/null
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$work/prefix/lib/systemd/system/traceloop.service")
[ "$exec_start" = "$work/prefix/bin/traceloop-record" ] \
  || fail "cmake --install --prefix $work/prefix: the unit starts '$exec_start'"
[ -x "$exec_start" ] || fail "$exec_start is not installed"

# ---- the clean root, from the cache or made now ----------------------------
cache=${TRACELOOP_TEST_CACHE:-/var/cache/traceloop-test}
mkdir -p "$cache/archives/partial"
. /etc/os-release
suite=${TRACELOOP_TEST_SUITE:-$VERSION_CODENAME}
# The mirror as apt here knows it (its Debian sources, not third-party ones).
sources=${TRACELOOP_TEST_SOURCES:-/etc/apt/sources.list.d/debian.sources}
[ -f "$sources" ] || sources=/etc/apt/sources.list
# man-db: the man pages are read the way users read them. Release files of a
# mirror snapshot are old on purpose: apt takes them. A throwaway root needs
# no fsync from dpkg.
mmdebstrap_args=(--variant=apt --include=man-db --skip=cleanup/apt/lists --dpkgopt=force-unsafe-io
                 --aptopt='Acquire::Check-Valid-Until "false"' --aptopt='Acquire::Check-Date "false"'
                 --aptopt='APT::Sandbox::User "root"')
key=$( (echo "$suite $(dpkg --print-architecture)"; printf '%s\n' "${mmdebstrap_args[@]}"; cat "$sources") \
       | sha256sum | cut -c1-16)
root_tar=$cache/root-$suite-$key.tar
if [ ! -s "$root_tar" ]; then
  log "making the clean $suite root ($root_tar)"
  started=$SECONDS
  # mmdebstrap writes a tarball when the name ends in .tar; renamed when whole.
  # Its own mounts (in its chroot) end with the namespace, even if it is killed.
  partial=$cache/partial-$$-$(basename "$root_tar")
  unshare --mount --propagation private mmdebstrap "${mmdebstrap_args[@]}" "$suite" "$partial" "$sources" >"$work/mmdebstrap.log" 2>&1 \
    || { rm -f "$partial"; cat "$work/mmdebstrap.log"; fail "mmdebstrap"; }
  mv "$partial" "$root_tar"
  log "root made in $((SECONDS - started)) s"
fi
# Roots of other package lists or mirrors, unused for a month, go.
touch "$root_tar"
find "$cache" -maxdepth 1 -name 'root-*.tar' -mtime +30 -delete
root=$work/root
mkdir "$root"
tar -x -C "$root" --numeric-owner -f "$root_tar"
for lib in libcapnp-0.9.2 libre2-9 libfmt9 libbpf1; do
  ! chroot "$root" dpkg -s "$lib" >/dev/null 2>&1 || fail "the clean root already holds $lib: it proves nothing"
done
mkdir "$root/debs"
cp "${tools_deb[0]}" "${recorder_deb[0]}" "$root/debs/"
cp "$source_dir/testdata/real/listing.tl" "$work/tools.files" "$work/recorder.files" "$root/debs/"

# ---- inside the root ---------------------------------------------------------
# Runs in a mount namespace of its own: /dev, /proc, /sys (with cgroups, BTF,
# bpffs, tracefs) and the download cache are mounted there and gone when it ends.
cat >"$work/inside.sh" <<'EOF'
set -euo pipefail
root=$1 cache=$2
fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mountpoint -q "$root/sys/fs/bpf" || mount -t bpf bpf "$root/sys/fs/bpf"
mountpoint -q "$root/sys/kernel/tracing" || mount -t tracefs nodev "$root/sys/kernel/tracing"
mount --bind "$cache/archives" "$root/var/cache/apt/archives"
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
install_debs() {
  # The lists kept in the root may be older than the mirror: read them again
  # when apt cannot get what they name.
  in_root apt-get install -y -q --no-install-recommends "$@" >>"$root/apt.log" 2>&1 && return
  in_root apt-get update -q >>"$root/apt.log" 2>&1
  in_root apt-get install -y -q --no-install-recommends "$@" >>"$root/apt.log" 2>&1
}
export DEBIAN_FRONTEND=noninteractive

# The tools alone: they read a trace, and need none of the recorder's libraries.
tools_deb=$(cd "$root/debs" && echo traceloop-tools_*.deb)
recorder_deb=$(cd "$root/debs" && echo traceloop-recorder_*.deb)
install_debs "/debs/$tools_deb" || { cat "$root/apt.log"; fail "apt-get install $tools_deb"; }
! in_root dpkg -s libbpf1 >/dev/null 2>&1 || fail "installing traceloop-tools brought libbpf1"
in_root tl-show /debs/listing.tl >"$root/listing.txt" || fail "installed tl-show cannot read a trace"
grep -q ' statx \| newfstatat \| lgetxattr ' "$root/listing.txt" || fail "installed tl-show: $(head -5 "$root/listing.txt")"
in_root tl-stats /debs/listing.tl >/dev/null || fail "installed tl-stats"

install_debs "/debs/$recorder_deb" || { cat "$root/apt.log"; fail "apt-get install $recorder_deb"; }
echo "package_test: apt installed $(sed -n 's/^Setting up \([^:( ]*\).*/\1/p' "$root/apt.log" | sort -u | tr '\n' ' ')"
for b in traceloop-record tl-show tl-grep tl-diff tl-stats; do
  missing=$(in_root ldd "/usr/bin/$b" | grep 'not found' || true)
  [ -z "$missing" ] || fail "installed $b lacks libraries: $missing"
done
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$root/usr/lib/systemd/system/traceloop.service")
[ "$exec_start" = /usr/bin/traceloop-record ] || fail "the installed unit starts '$exec_start'"

in_root sh -c 'cd /tmp && traceloop-record run -o /tmp/true.tl -- true' || fail "installed traceloop-record run -- true"
in_root tl-show /tmp/true.tl >"$root/true.txt" || fail "installed tl-show /tmp/true.tl"
grep -Eq ' execve +filename="[^"]*/true"' "$root/true.txt" || fail "no execve of true: $(head -5 "$root/true.txt")"
grep -Eq ' true +exit_group +error_code=0 ' "$root/true.txt" || fail "no exit_group of true: $(tail -3 "$root/true.txt")"

# Every man page of the packages renders.
for page in $(cat "$root/debs/tools.files" "$root/debs/recorder.files" | grep '^/usr/share/man/man[1-8]/.' || true); do
  name=$(basename "$page"); name=${name%.gz}; section=${name##*.}; name=${name%.*}
  in_root env MANPAGER=cat MANWIDTH=80 man "$section" "$name" >"$root/man.txt" 2>&1 || fail "man $section $name: $(cat "$root/man.txt")"
  grep -q "$name" "$root/man.txt" || fail "man $section $name shows: $(head -5 "$root/man.txt")"
  echo "package_test: man $section $name renders"
done
EOF
unshare --mount --propagation private bash "$work/inside.sh" "$root" "$cache"
if grep -qF " $root/" /proc/self/mountinfo; then fail "a mount of the root outlived its namespace"; fi

# The man page of tl-show is checked once the tools package holds one.
if grep -q '^/usr/share/man/man1/tl-show\.1' "$work/tools.files"; then
  log "man tl-show checked"
else
  log "no man page for tl-show in traceloop-tools yet: man check inactive"
fi
log "ok in ${SECONDS} s"
