#pragma once
// Checks for text that comes from the container side of the fence (runtime
// state, bundles, engine configs): bounded, without control characters, and
// paths that are plain enough to be used at all.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace traceloop::daemon {

inline constexpr size_t kMaxUntrustedText = 4096;

// Cut to `max` bytes, control characters replaced by '?', so a value cannot
// bloat a trace header or drive a terminal.
inline std::string bounded_text(std::string_view text, size_t max = kMaxUntrustedText) {
  std::string out;
  for (char c : text.substr(0, max)) out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  return out;
}

// The components of an absolute path of at most 4096 bytes with no NUL, "."
// or ".." component; empty when the path is not that plain.
inline std::vector<std::string> plain_path_parts(std::string_view p) {
  if (p.empty() || p.front() != '/' || p.size() > 4096 || p.find('\0') != std::string_view::npos) return {};
  std::vector<std::string> parts;
  for (const auto& part : std::filesystem::path(p).relative_path()) {
    if (part == ".." || part == ".") return {};
    if (!part.empty()) parts.push_back(part.string());
  }
  if (parts.empty()) parts.emplace_back();  // "/" itself: plain, no components
  return parts;
}

inline bool plain_absolute_path(std::string_view p) { return !plain_path_parts(p).empty(); }

// The absolute path made of parts[0, count).
inline std::filesystem::path path_of(const std::vector<std::string>& parts, size_t count) {
  std::filesystem::path out = "/";
  for (size_t i = 0; i < count && i < parts.size(); ++i) out /= parts[i];
  return out;
}

// `p` is plain and ends with the components `tail`; its remaining prefix
// (the directory holding them) is returned, or nothing.
inline std::optional<std::filesystem::path> plain_path_before(std::string_view p,
                                                              const std::vector<std::string_view>& tail) {
  auto parts = plain_path_parts(p);
  if (parts.size() < tail.size() || (parts.size() == 1 && parts[0].empty())) return std::nullopt;
  const size_t keep = parts.size() - tail.size();
  for (size_t i = 0; i < tail.size(); ++i)
    if (parts[keep + i] != tail[i]) return std::nullopt;
  return path_of(parts, keep);
}

}  // namespace traceloop::daemon
