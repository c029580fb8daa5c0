# Shell functions the daemon benchmarks share (sourced, not run).

# wait_socket PATH: waits for the daemon ($DAEMON) to listen on PATH; ends the
# benchmark when the daemon died instead.
wait_socket() {
  while [ ! -S "$1" ]; do
    kill -0 "$DAEMON" 2>/dev/null || { echo "the daemon did not start" >&2; DAEMON=""; exit 2; }
    sleep 0.05
  done
}

# container_rootfs_with WORK PROGRAM: the busybox rootfs of demo_container.sh
# under WORK/c, made once by a first bundle and shared read-only by every
# container, with PROGRAM in its /bin before any container runs.
container_rootfs_with() {
  "$SRC/scripts/demo_container.sh" --work "$1/c" --bundle-only "tlbench-rootfs-$$" -- true
  cp "$2" "$1/c/rootfs/bin/"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
