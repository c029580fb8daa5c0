#include "tools/lib/decoder/filter.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <limits>

namespace traceloop::tools {
namespace {

// "12.345" -> nanoseconds (exact decimal arithmetic, no floating point).
std::optional<int64_t> parse_seconds(std::string_view s, int64_t unit_ns) {
  if (s.empty()) return std::nullopt;
  const auto dot = s.find('.');
  const auto whole = s.substr(0, dot);
  int64_t value = 0;
  if (!whole.empty()) {
    auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), value);
    // Bounded so value * unit_ns cannot overflow.
    if (ec != std::errc{} || p != whole.data() + whole.size() || value < 0 ||
        value > std::numeric_limits<int64_t>::max() / unit_ns)
      return std::nullopt;
  }
  int64_t ns = value * unit_ns;
  if (dot != std::string_view::npos) {
    auto frac = s.substr(dot + 1);
    if (frac.empty() && whole.empty()) return std::nullopt;
    int64_t scale = unit_ns;
    for (char c : frac) {
      if (c < '0' || c > '9') return std::nullopt;
      scale /= 10;
      ns += (c - '0') * scale;
    }
  }
  return ns;
}

}  // namespace

Result<ParsedTime> parse_time_bound(const std::string& text, const format::TraceMetadata& metadata) {
  std::string_view s = text;
  auto bad = [&] {
    return Error{fmt::format(
        "invalid time '{}': use +SECONDS, 1.5s, 250ms, @EPOCH or [YYYY-MM-DDT]HH:MM:SS[.frac][Z|+HH:MM]", text)};
  };
  if (s.empty()) return bad();
  if (s[0] == '@') {
    auto ns = parse_seconds(s.substr(1), 1'000'000'000);
    if (!ns) return bad();
    return ParsedTime{false, *ns - metadata.boot_to_wall_ns};
  }
  if (s.find(':') != std::string_view::npos) {
    // A wall clock time is local, as -t and -tt print it, unless it names
    // its zone: Z (UTC) or an offset east of UTC (+02:00, -0500, +01).
    std::string_view clock = s;
    int y = 0, mo = 0, d = 0;
    const auto sep = s.find_first_of("T ");
    const bool dated = sep != std::string_view::npos;
    if (dated) {
      if (std::sscanf(std::string(s.substr(0, sep)).c_str(), "%4d-%2d-%2d", &y, &mo, &d) != 3) return bad();
      clock = s.substr(sep + 1);
    }
    const auto c1 = clock.find(':');
    const auto c2 = clock.find(':', c1 + 1);
    if (c2 == std::string_view::npos) return bad();
    std::optional<int64_t> offset_s;
    if (clock.ends_with('Z') || clock.ends_with('z')) {
      offset_s = 0;
      clock.remove_suffix(1);
    } else if (const auto z = clock.find_first_of("+-", c2); z != std::string_view::npos) {
      std::string digits;
      for (char c : clock.substr(z + 1))
        if (c != ':') digits.push_back(c);
      int oh = 0, om = 0;
      if ((digits.size() != 2 && digits.size() != 4) ||
          std::from_chars(digits.data(), digits.data() + 2, oh).ec != std::errc{} ||
          (digits.size() == 4 && std::from_chars(digits.data() + 2, digits.data() + 4, om).ec != std::errc{}) ||
          oh > 14 || om > 59)
        return bad();
      offset_s = (clock[z] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
      clock = clock.substr(0, z);
    }
    int h = 0, m = 0;
    auto hs = clock.substr(0, c1);
    auto ms = clock.substr(c1 + 1, c2 - c1 - 1);
    if (std::from_chars(hs.data(), hs.data() + hs.size(), h).ec != std::errc{} ||
        std::from_chars(ms.data(), ms.data() + ms.size(), m).ec != std::errc{} || h > 23 || m > 59)
      return bad();
    auto sec = parse_seconds(clock.substr(c2 + 1), 1'000'000'000);
    if (!sec) return bad();
    struct tm tm {};
    if (!dated) {
      // The day the trace was created, in the same zone.
      const time_t created_s = static_cast<time_t>(metadata.created_wall_ns / 1'000'000'000);
      if (offset_s) {
        const time_t shifted = created_s + static_cast<time_t>(*offset_s);
        gmtime_r(&shifted, &tm);
      } else {
        localtime_r(&created_s, &tm);
      }
    } else {
      tm.tm_year = y - 1900;
      tm.tm_mon = mo - 1;
      tm.tm_mday = d;
    }
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = 0;
    int64_t minute_s = 0;
    if (offset_s) {
      minute_s = static_cast<int64_t>(timegm(&tm)) - *offset_s;
    } else {
      tm.tm_isdst = -1;  // whichever the date had
      minute_s = static_cast<int64_t>(mktime(&tm));
    }
    const int64_t wall_ns = minute_s * 1'000'000'000 + *sec;
    return ParsedTime{false, wall_ns - metadata.boot_to_wall_ns};
  }
  if (s[0] == '+') s.remove_prefix(1);
  int64_t unit = 1'000'000'000;
  if (s.ends_with("ms")) {
    unit = 1'000'000;
    s.remove_suffix(2);
  } else if (s.ends_with("us")) {
    unit = 1'000;
    s.remove_suffix(2);
  } else if (s.ends_with("ns")) {
    unit = 1;
    s.remove_suffix(2);
  } else if (s.ends_with("s")) {
    s.remove_suffix(1);
  }
  auto ns = parse_seconds(s, unit);
  if (!ns) return bad();
  return ParsedTime{true, *ns};
}

Result<EventFilter> EventFilter::create(const FilterOptions& options, const format::TraceMetadata& metadata) {
  EventFilter f;
  if (!options.syscalls.empty()) {
    std::vector<std::string> names;
    for (const auto& item : options.syscalls) {
      size_t start = 0;
      while (start <= item.size()) {
        const auto comma = item.find(',', start);
        auto name = item.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!name.empty()) names.push_back(name);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    std::vector<std::string> unknown;
    for (const auto& name : names) {
      // A trace's catalogue may list only the syscalls it recorded: a name
      // the architecture knows is valid, and matches nothing there.
      const auto* spec = metadata.catalogue.find(name);
      if (!spec) spec = format::builtin_catalogue(metadata.catalogue.arch()).find(name);
      uint32_t nr = 0;
      if (spec) {
        nr = spec->nr;
      } else if (name.starts_with("syscall_") &&
                 std::from_chars(name.data() + 8, name.data() + name.size(), nr).ec == std::errc{}) {
        // unknown numbers are named syscall_N in the output; accept them back
      } else {
        unknown.push_back(name);
        continue;
      }
      if (nr >= (1u << 20)) continue;
      if (f.syscall_set_.size() <= nr) f.syscall_set_.resize(nr + 1, false);
      f.syscall_set_[nr] = true;
    }
    if (!unknown.empty()) {
      std::string list;
      for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
      return Error{fmt::format("unknown syscall name{}: {}", unknown.size() > 1 ? "s" : "", list)};
    }
    if (f.syscall_set_.empty()) f.syscall_set_.push_back(false);
    f.accepts_all_ = false;
  }
  f.pids_ = options.pids;
  f.tids_ = options.tids;
  f.comms_ = options.comms;
  f.failed_ = options.failed;
  if (!f.pids_.empty() || !f.tids_.empty() || !f.comms_.empty() || f.failed_) f.accepts_all_ = false;
  if (!options.containers.empty()) {
    f.container_set_.assign(std::max<size_t>(metadata.containers.size(), 1), false);
    for (const auto& want : options.containers) {
      std::vector<size_t> hits;
      for (size_t i = 0; i < metadata.containers.size(); ++i) {
        const auto& c = metadata.containers[i];
        if (c.id == want || c.name == want || c.container_name == want) {
          hits = {i};
          break;
        }
        if (!want.empty() && c.id.starts_with(want)) hits.push_back(i);
      }
      if (hits.empty()) return Error{fmt::format("no container '{}' in this trace", want)};
      if (hits.size() > 1) return Error{fmt::format("container id prefix '{}' is ambiguous", want)};
      f.container_set_[hits[0]] = true;
    }
    f.accepts_all_ = false;
  }
  for (auto [text, bound] : {std::pair{&options.since, &f.since_}, std::pair{&options.until, &f.until_}}) {
    if (text->empty()) continue;
    auto parsed = parse_time_bound(*text, metadata);
    if (!parsed) return parsed.error();
    bound->kind = parsed->relative ? TimeBound::Kind::relative : TimeBound::Kind::absolute;
    bound->ns = parsed->ns;
    f.accepts_all_ = false;
  }
  return f;
}

void EventFilter::set_origin(uint64_t first_enter_ns) { origin_ = first_enter_ns; }

bool EventFilter::matches(const format::Event& e) {
  if (!origin_) origin_ = e.enter_ns;
  if (accepts_all_) return true;
  if (!syscall_set_.empty() && (e.nr >= syscall_set_.size() || !syscall_set_[e.nr])) return false;
  if (failed_ && !e.failed()) return false;
  if (!pids_.empty() && std::find(pids_.begin(), pids_.end(), e.pid) == pids_.end()) return false;
  if (!tids_.empty() && std::find(tids_.begin(), tids_.end(), e.tid) == tids_.end()) return false;
  if (!comms_.empty() && std::find(comms_.begin(), comms_.end(), e.comm) == comms_.end()) return false;
  if (!container_set_.empty() && (e.container >= container_set_.size() || !container_set_[e.container]))
    return false;
  const auto at = static_cast<int64_t>(e.enter_ns);
  auto resolve = [&](const TimeBound& b) {
    return b.kind == TimeBound::Kind::relative ? static_cast<int64_t>(*origin_) + b.ns : b.ns;
  };
  if (since_.kind != TimeBound::Kind::none && at < resolve(since_)) return false;
  if (until_.kind != TimeBound::Kind::none && at > resolve(until_)) return false;
  return true;
}

bool EventFilter::matches_loss(const format::LossMarker& loss) const {
  if (!container_set_.empty() && (loss.container >= container_set_.size() || !container_set_[loss.container]))
    return false;
  return true;
}

bool EventFilter::past_end(uint64_t enter_ns) const {
  if (until_.kind == TimeBound::Kind::none || !origin_) return false;
  const int64_t end = until_.kind == TimeBound::Kind::relative ? static_cast<int64_t>(*origin_) + until_.ns : until_.ns;
  // Events are in enter order per CPU buffer, not globally: leave a margin
  // of one second before declaring the rest out of range.
  return static_cast<int64_t>(enter_ns) > end + 1'000'000'000;
}

}  // namespace traceloop::tools
