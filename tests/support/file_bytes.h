#pragma once
// Whole files as bytes, for tests that write traces and then cut or corrupt them.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace traceloop::testing {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace traceloop::testing
