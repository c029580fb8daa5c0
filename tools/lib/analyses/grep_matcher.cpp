#include "tools/lib/analyses/grep_matcher.h"

#include <algorithm>
#include <cctype>

namespace traceloop::tools {

namespace {

bool is_literal(std::string_view pattern) {
  return pattern.find_first_of("\\^$.|?*+()[]{}") == std::string_view::npos;
}

// Bytes the escaping keeps as they are: a literal made of them appears in the
// rendered string exactly where it appears in the raw bytes.
bool is_plain(unsigned char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool contains(std::string_view haystack, std::string_view needle, bool ignore_case) {
  if (!ignore_case) return haystack.find(needle) != std::string_view::npos;
  const auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == static_cast<unsigned char>(b);
  });
  return it != haystack.end();
}

// Literals usable by the whole-line pre-filter, or none.
std::vector<std::string> usable_literals(const MatchSpec& spec) {
  std::vector<std::string> literals;
  for (const auto& pattern : spec.patterns) {
    const bool usable = is_literal(pattern) && pattern.find('/') != std::string::npos &&
                        std::all_of(pattern.begin(), pattern.end(), [](char c) { return is_plain(static_cast<unsigned char>(c)); });
    if (!usable) return {};
    // errno messages are part of the rendered line and one holds a '/' ("Input/output error").
    for (int err = 1; err < 4096; ++err)
      if (contains(errno_message(err), spec.ignore_case ? lower(pattern) : pattern, spec.ignore_case)) return {};
    literals.push_back(spec.ignore_case ? lower(pattern) : pattern);
  }
  return literals;
}

}  // namespace

Result<GrepMatcher> GrepMatcher::create(const MatchSpec& spec) {
  if (spec.patterns.empty()) return Error{"no pattern"};
  std::string combined;
  for (const auto& pattern : spec.patterns) {
    if (!combined.empty()) combined += '|';
    combined += "(?:" + pattern + ")";
  }
  RE2::Options options;
  options.set_case_sensitive(!spec.ignore_case);
  options.set_log_errors(false);
  auto regex = std::make_unique<RE2>(combined, options);
  if (!regex->ok()) return Error{"bad pattern: " + regex->error()};
  GrepMatcher matcher(spec, std::move(regex));
  if (!spec.field) matcher.literals_ = usable_literals(spec);
  // Plain words are found faster by a substring search than by the regex engine.
  matcher.plain_words_ = !spec.ignore_case && std::all_of(spec.patterns.begin(), spec.patterns.end(), [](const std::string& p) {
    return !p.empty() && is_literal(p);
  });
  return matcher;
}

GrepMatcher::GrepMatcher(MatchSpec spec, std::unique_ptr<RE2> regex)
    : spec_(std::move(spec)), regex_(std::move(regex)) {
  if (!spec_.field) return;
  field_kind_ = *spec_.field == "syscall" ? FieldKind::syscall
                : *spec_.field == "comm"  ? FieldKind::comm
                                          : FieldKind::other;
}

void GrepMatcher::begin_file(const Decoder& decoder, bool line_prefilter) {
  decoder_ = &decoder;
  // Parameter indices are per catalogue: a new file, a new resolution.
  if (field_kind_ == FieldKind::other) field_.emplace(*spec_.field);
  line_prefilter_ = line_prefilter;
  by_nr_.clear();
  by_comm_.clear();
}

bool GrepMatcher::field_matches(const format::Event& event) {
  if (field_kind_ == FieldKind::syscall) {
    if (event.nr >= by_nr_.size()) by_nr_.resize(event.nr + 1, -1);
    int8_t& cached = by_nr_[event.nr];
    if (cached < 0) cached = text_matches(decoder_->syscall_name(event)) ? 1 : 0;
    return cached == 1;
  }
  if (field_kind_ == FieldKind::comm) {
    // Looked up by view: a hit costs no allocation, only a new comm does.
    if (const auto it = by_comm_.find(event.comm); it != by_comm_.end()) return it->second;
    const bool result = text_matches(event.comm);
    if (by_comm_.size() < 4096) by_comm_.emplace(std::string(event.comm), result);
    return result;
  }
  scratch_.clear();
  if (!field_ || !decoder_->field(scratch_, event, *field_)) return false;
  return text_matches(scratch_);
}

bool GrepMatcher::line_may_match(const format::Event& event) const {
  if (literals_.empty() || !line_prefilter_) return true;
  // A byte the escaping changes (an embedded NUL too: "\0") may put the
  // literal in the line where it is not in the bytes: such events are rendered.
  for (const auto& capture : event.captures) {
    const std::string_view bytes = capture.bytes;
    for (size_t i = 0; i < bytes.size(); ++i) {
      const auto c = static_cast<unsigned char>(bytes[i]);
      if (!is_plain(c) && !(c == 0 && i + 1 == bytes.size())) return true;
    }
  }
  for (const auto& literal : literals_) {
    if (contains(event.comm, literal, spec_.ignore_case)) return true;
    for (const auto& capture : event.captures)
      if (contains(capture.bytes, literal, spec_.ignore_case)) return true;
  }
  skipped_++;
  return false;
}

bool GrepMatcher::text_matches(std::string_view text) const {
  if (plain_words_) {
    for (const auto& word : spec_.patterns)
      if (text.find(word) != std::string_view::npos) return true;
    return false;
  }
  return RE2::PartialMatch(text, *regex_);
}

std::vector<std::pair<size_t, size_t>> GrepMatcher::match_ranges(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> ranges;
  size_t pos = 0;
  re2::StringPiece match;
  while (pos <= text.size() &&
         regex_->Match(re2::StringPiece(text.data(), text.size()), pos, text.size(), RE2::UNANCHORED, &match, 1)) {
    const auto begin = static_cast<size_t>(match.data() - text.data());
    const size_t end = begin + match.size();
    if (end == begin) {
      pos = end + 1;  // empty match: nothing to highlight, move on
      continue;
    }
    ranges.emplace_back(begin, end);
    pos = end;
  }
  return ranges;
}

}  // namespace traceloop::tools
