#!/bin/sh
# Runs a real OCI container with runc from a busybox-static rootfs, with the
# Kubernetes annotations a CRI runtime would add, so the daemon's tests and the
# README demo need no image registry and no container engine.
#
#   demo_container.sh [OPTIONS] ID -- CMD ARGS...
#
#   --work DIR        where rootfs/ and bundles/ live (default: /tmp/traceloop-demo)
#   --pod NAME        io.kubernetes.pod.name          (default: demo-pod)
#   --namespace NS    io.kubernetes.pod.namespace     (default: default)
#   --container NAME  io.kubernetes.container.name    (default: demo)
#   --detach          start it in the background (runc run --detach) and return;
#                     `runc delete -f ID` ends it
#   --bundle-only     write the bundle, do not run
#   --root DIR        runc --root (state directory; default runc's /run/runc)
#
# Each container gets its own cgroup v2 leaf (linux.cgroupsPath), which is what
# the daemon identifies it by. /tmp is a writable tmpfs; the rootfs is shared
# read-only by all bundles. Exit status: the container's (without --detach).
set -eu

work=/tmp/traceloop-demo
pod=demo-pod
namespace=default
container=demo
detach=no
bundle_only=no
root=
while [ $# -gt 0 ]; do
  case "$1" in
    --work) work=$2; shift 2 ;;
    --pod) pod=$2; shift 2 ;;
    --namespace) namespace=$2; shift 2 ;;
    --container) container=$2; shift 2 ;;
    --detach) detach=yes; shift ;;
    --bundle-only) bundle_only=yes; shift ;;
    --root) root=$2; shift 2 ;;
    --) shift; break ;;
    -*) echo "demo_container.sh: unknown option $1" >&2; exit 2 ;;
    *) id=$1; shift ;;
  esac
done
: "${id:?usage: demo_container.sh [OPTIONS] ID -- CMD ARGS...}"
[ $# -gt 0 ] || { echo "demo_container.sh: no command" >&2; exit 2; }
case "$id" in *[!A-Za-z0-9_.-]*) echo "demo_container.sh: bad id $id" >&2; exit 2 ;; esac

busybox=$(command -v busybox) || { echo "demo_container.sh: busybox-static is not installed" >&2; exit 2; }
rootfs=$work/rootfs
if [ ! -x "$rootfs/bin/busybox" ]; then
  # Built under a temporary name and renamed: concurrent callers never see half a rootfs.
  tmp=$(mktemp -d "$work.rootfs.XXXXXX" 2>/dev/null || { mkdir -p "$work"; mktemp -d "$work/rootfs.XXXXXX"; })
  mkdir -p "$tmp/bin" "$tmp/tmp" "$tmp/proc" "$tmp/dev" "$tmp/sys" "$tmp/etc"
  cp "$busybox" "$tmp/bin/busybox"
  # Relative links: `busybox --install -s` would point at the host path.
  for applet in $("$tmp/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$tmp/bin/$applet"
  done
  echo "root:x:0:0:root:/:/bin/sh" > "$tmp/etc/passwd"
  mkdir -p "$work"
  mv -T "$tmp" "$rootfs" 2>/dev/null || rm -rf "$tmp"
fi

bundle=$work/bundles/$id
rm -rf "$bundle"
mkdir -p "$bundle"
# The container's cgroup v2 leaf: a v2-only host uses the mount itself, a
# hybrid host the unified mount; runc creates /traceloop-demo/<id> in both.
python3 - "$bundle/config.json" "$rootfs" "$id" "$pod" "$namespace" "$container" "$@" <<'EOF'
import json, sys
out, rootfs, cid, pod, ns, cname, *args = sys.argv[1:]
config = {
  "ociVersion": "1.0.2",
  "process": {
    "terminal": False, "user": {"uid": 0, "gid": 0}, "args": args,
    "env": ["PATH=/bin", "HOME=/"], "cwd": "/",
    "capabilities": {k: ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"]
                     for k in ("bounding", "effective", "permitted")},
    "noNewPrivileges": True,
  },
  "root": {"path": rootfs, "readonly": True},
  "hostname": cname,
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777", "size=16m"]},
  ],
  "annotations": {
    "io.kubernetes.pod.name": pod,
    "io.kubernetes.pod.namespace": ns,
    "io.kubernetes.container.name": cname,
    "io.kubernetes.pod.uid": "00000000-0000-4000-8000-" + ("%012x" % (hash(cid) & 0xffffffffffff)),
  },
  "linux": {
    "cgroupsPath": "/traceloop-demo/" + cid,
    "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")],
    "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
    "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"],
  },
}
with open(out, "w") as f:
  json.dump(config, f, indent=2)
EOF

[ "$bundle_only" = yes ] && { echo "$bundle"; exit 0; }
set -- runc ${root:+--root "$root"} run --bundle "$bundle"
if [ "$detach" = yes ]; then
  exec "$@" --detach "$id" </dev/null >/dev/null 2>&1
fi
exec "$@" "$id" </dev/null
