#pragma once
// What a cgroup tells about itself without a runtime's help: whether its
// processes run in a mount namespace other than the daemon's (the mark of a
// container), and a name for it made from its path.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace traceloop::daemon {

// The mount namespace (inode) of the first of the cgroup's processes whose
// namespace differs from `own`; 0 when none does (or none could be read).
// At most a few processes are looked at: a container's processes share it.
uint64_t first_foreign_mount_ns(const std::filesystem::path& cgroup_dir, uint64_t own,
                                const std::filesystem::path& proc = "/proc");

// Whether a cgroup may hold a container: systemd's service, socket, mount,
// swap and slice units never do (a service with PrivateTmp= runs in a mount
// namespace of its own all the same), its scopes and plain directories may.
bool may_hold_a_container(std::string_view cgroup_path);

// A container id made from a cgroup path: the 64-hex id an engine put in it
// ("/system.slice/docker-<id>.scope", "/kubepods/.../<id>"), else its last
// component with every byte outside [A-Za-z0-9_.-] as '_'. Never empty,
// at most 128 characters.
std::string id_from_cgroup_path(std::string_view path);

}  // namespace traceloop::daemon
