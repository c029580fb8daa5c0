#pragma once
// The matching half of tl-grep: the patterns (RE2, several -e combined into
// one alternation), --field, and the pre-filters that decide without
// rendering that an event cannot match:
//   --field syscall   decided once per syscall number;
//   --field comm      decided once per distinct comm;
//   other fields      only that field is decoded, never the whole line;
//   whole line        when every pattern is a literal containing '/', the
//                     line can only contain it inside a captured string or
//                     the comm (numbers, flags and errno names never hold a
//                     '/'; errno messages are checked at start-up), so an
//                     event none of whose captures or comm contain it is
//                     skipped unrendered.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <re2/re2.h>

#include "format/event.h"
#include "format/result.h"
#include "tools/lib/decoder/decode.h"

namespace traceloop::tools {

struct MatchSpec {
  std::vector<std::string> patterns;
  std::optional<std::string> field;
  bool ignore_case = false;
};

class GrepMatcher {
 public:
  static Result<GrepMatcher> create(const MatchSpec& spec);
  GrepMatcher(GrepMatcher&&) noexcept = default;
  GrepMatcher& operator=(GrepMatcher&&) noexcept = default;

  // Call when starting a file (caches are per catalogue). `line_prefilter`:
  // whether the rendered line is plain text the literal rule holds for
  // (table/strace, not JSON).
  void begin_file(const Decoder& decoder, bool line_prefilter);

  bool matches_field() const { return spec_.field.has_value(); }
  // --field: does the event's field match? (false when it has no such field)
  bool field_matches(const format::Event& event);
  // Whole line: false when the event certainly cannot match; true: render and call text_matches.
  bool line_may_match(const format::Event& event) const;
  bool text_matches(std::string_view text) const;
  // Byte ranges [begin, end) of matches in `text`, for highlighting.
  std::vector<std::pair<size_t, size_t>> match_ranges(std::string_view text) const;

  // The literals of the whole-line pre-filter (empty when it is off), for tests.
  const std::vector<std::string>& prefilter_literals() const { return literals_; }
  // True when the pre-filters leave every event to render (what grep_parallel.h splits).
  bool renders_every_event() const { return !spec_.field && literals_.empty(); }
  uint64_t skipped() const { return skipped_; }

 private:
  explicit GrepMatcher(MatchSpec spec, std::unique_ptr<RE2> regex);

  MatchSpec spec_;
  std::unique_ptr<RE2> regex_;
  std::vector<std::string> literals_;  // lower-cased when ignore_case
  bool plain_words_ = false;  // every pattern a literal, case sensitive: substring search, no regex
  const Decoder* decoder_ = nullptr;
  // --field, resolved once: syscall and comm are decided by cached answers.
  enum class FieldKind : uint8_t { none, syscall, comm, other } field_kind_ = FieldKind::none;
  std::optional<Decoder::Field> field_;
  bool line_prefilter_ = false;
  std::vector<int8_t> by_nr_;  // --field syscall: -1 unknown, 0 no, 1 yes
  struct CommHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, bool, CommHash, std::equal_to<>> by_comm_;
  std::string scratch_;
  mutable uint64_t skipped_ = 0;
};

}  // namespace traceloop::tools
