#!/usr/bin/env bash
# Installs what building and testing traceloop needs (Debian 12 packages,
# idempotent: nothing is installed twice), then configures and builds.
#   scripts/setup.sh [BUILD_DIR]      default: build
# Environment: TRACELOOP_SKIP_INSTALL=1 skips apt-get (e.g. in a prepared image).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-$top/build}

packages=(
  # toolchain
  build-essential cmake pkg-config clang llvm ccache
  # aarch64's uapi and libc headers: scripts/gen_syscall_catalogue.py takes the
  # aarch64 flag/enum values from them, and its --check runs among the tests
  linux-libc-dev-arm64-cross libc6-dev-arm64-cross
  # BPF: libbpf headers + library, bpftool for skeletons
  libbpf-dev bpftool libelf-dev zlib1g-dev
  # libraries
  libcapnp-dev capnproto libzstd-dev zstd liblzma-dev libcli11-dev librange-v3-dev
  libgtest-dev libre2-dev libfmt-dev
  # tests and benchmarks run real programs and real containers
  strace runc busybox-static bc python3
  # the container engines users run, driven for real by the integration tests
  docker.io containerd
  # the deployment's tests: the image (busybox-static above), the manifest
  # read by a Python tool, list -o json read by jq, the systemd unit checked
  jq python3-yaml systemd
  # tl-show --format html is tested in a real browser, headless; --format
  # json against its JSON Schema
  chromium python3-jsonschema
  # the Debian packages: cpack computes their dependencies with dpkg-shlibdeps,
  # and their test installs them into a clean Debian root made by mmdebstrap
  dpkg-dev mmdebstrap
  # manual pages (pandoc makes them from Markdown); the zsh completions are
  # loaded by a real zsh in a test
  pandoc zsh
)
# kubectl validates the manifests offline: a kubectl already on PATH does.
command -v kubectl >/dev/null || packages+=(kubernetes-client)

missing_packages() {
  local p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

if [[ "${TRACELOOP_SKIP_INSTALL:-0}" != 1 ]]; then
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S "$top" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
echo "setup: built in $build_dir"
