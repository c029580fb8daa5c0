#include "tools/lib/decoder/filter.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <ctime>
#include <algorithm>
#include <cctype>
#include <limits>
#include <utility>

#include "tools/lib/decoder/flag_sets.h"

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

namespace {

// The part of a strace -e value before '=' ("trace", "status", ...), and
// the rest; a value without '=' is a trace= set, as strace reads `-e SET`.
std::pair<std::string_view, std::string_view> split_qualifier(std::string_view value) {
  const auto eq = value.find('=');
  if (eq == std::string_view::npos) return {"trace", value};
  return {value.substr(0, eq), value.substr(eq + 1)};
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace

Result<uint8_t> parse_status_set(std::string_view expression) {
  uint8_t listed = 0;
  bool negated = false;
  std::string_view rest = expression;
  while (rest.starts_with('!')) {
    negated = !negated;
    rest.remove_prefix(1);
  }
  if (rest == "all") return static_cast<uint8_t>(negated ? 0 : kStatusAll);
  if (rest == "none") return static_cast<uint8_t>(negated ? kStatusAll : 0);
  if (rest.empty()) return Error{fmt::format("invalid status set '{}': it is empty", expression)};
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view token = rest.substr(0, comma);
    if (!token.empty()) {
      static constexpr std::pair<std::string_view, uint8_t> kNames[] = {
          {"successful", kStatusSuccessful}, {"failed", kStatusFailed},       {"unfinished", kStatusUnfinished},
          {"unavailable", kStatusUnavailable}, {"detached", kStatusDetached},
      };
      uint8_t bit = 0;
      for (const auto& [name, value] : kNames)
        if (name == token) bit = value;
      if (bit == 0)
        return Error{fmt::format("invalid status '{}': use successful, failed, unfinished, unavailable or detached",
                                 token)};
      listed |= bit;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return static_cast<uint8_t>(negated ? (kStatusAll & ~listed) : listed);
}

Result<SignalSet> SignalSet::parse(std::string_view expression) {
  SignalSet set;
  const format::SetPrefix prefix = format::parse_set_prefix(expression);
  set.negated_ = prefix.negated;
  if (!prefix.list) return set;
  std::string_view rest = *prefix.list;
  if (rest.empty()) return Error{fmt::format("invalid signal set '{}': it is empty", expression)};
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view token = rest.substr(0, comma);
    if (!token.empty()) {
      int signo = -1;
      if (token[0] >= '0' && token[0] <= '9') {
        int n = 0;
        auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), n);
        if (ec == std::errc{} && end == token.data() + token.size() && n <= 255) signo = n;
      } else {
        std::string_view name = token;
        if (name.size() > 3 && iequals(name.substr(0, 3), "SIG")) name.remove_prefix(3);
        std::string known;
        for (int n = 1; n <= 64 && signo < 0; ++n) {
          known.clear();
          append_signal(known, n);
          if (known.starts_with("SIG") && iequals(std::string_view(known).substr(3), name)) signo = n;
        }
      }
      if (signo < 0) return Error{fmt::format("invalid signal '{}'", token)};
      set.listed_[static_cast<size_t>(signo)] = true;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return set;
}

Result<uint64_t> parse_duration(std::string_view text) {
  std::string_view s = text;
  int64_t unit = 1'000'000;  // perf trace: milliseconds
  if (s.ends_with("ms")) {
    s.remove_suffix(2);
  } else if (s.ends_with("us")) {
    unit = 1'000;
    s.remove_suffix(2);
  } else if (s.ends_with("ns")) {
    unit = 1;
    s.remove_suffix(2);
  } else if (s.ends_with("s")) {
    unit = 1'000'000'000;
    s.remove_suffix(1);
  }
  auto ns = parse_seconds(s, unit);
  if (!ns) return Error{fmt::format("invalid duration '{}': use 10ms, 1.5s, 250us or 100ns", text)};
  return static_cast<uint64_t>(*ns);
}

namespace {

// -P PATH as strace takes it: the path given and, when it resolves on this
// machine to another one (a symbolic link, `..`), that one too (strace
// resolves it with realpath(3) at its start). A trace read where it was
// recorded then finds calls made through either name; a path that does not
// resolve here (another machine's, a container's) is matched as given.
std::vector<std::string> with_resolved_paths(const std::vector<std::string>& given) {
  std::vector<std::string> out = given;
  for (const auto& path : given) {
    const std::unique_ptr<char, decltype(&std::free)> resolved(realpath(path.c_str(), nullptr), &std::free);
    if (resolved && std::find(out.begin(), out.end(), resolved.get()) == out.end()) out.emplace_back(resolved.get());
  }
  return out;
}

}  // namespace

Result<EventFilter> EventFilter::create(const FilterOptions& options, const format::TraceMetadata& metadata,
                                        const FdPathLookup* fds) {
  EventFilter f;
  // --syscall lists first: an -e trace= after them replaces them.
  std::vector<std::string> qualifiers;
  if (!options.syscalls.empty()) {
    std::string names;
    for (const auto& item : options.syscalls) names += (names.empty() ? "" : ",") + item;
    qualifiers.push_back("trace=" + names);
  }
  if (options.successful || options.failed) {
    std::string set = options.successful ? "successful" : "";
    if (options.failed) set += set.empty() ? "failed" : ",failed";
    qualifiers.push_back("status=" + set);
  }
  qualifiers.insert(qualifiers.end(), options.qualifiers.begin(), options.qualifiers.end());
  for (const auto& value : qualifiers) {
    const auto [kind, set] = split_qualifier(value);
    if (kind == "trace" || kind == "t") {
      auto parsed = format::SyscallSet::parse(set, metadata.catalogue);
      if (!parsed) return Error{"-e trace: " + parsed.error().message};
      f.syscall_set_ = std::move(parsed.value());
      f.syscalls_filtered_ = !f.syscall_set_.is_all();
    } else if (kind == "status") {
      auto parsed = parse_status_set(set);
      if (!parsed) return Error{"-e status: " + parsed.error().message};
      f.status_ = *parsed;
    } else if (kind == "signal" || kind == "signals" || kind == "s") {
      auto parsed = SignalSet::parse(set);
      if (!parsed) return Error{"-e signal: " + parsed.error().message};
      f.signals_ = std::move(parsed.value());
    } else {
      return Error{fmt::format("-e {}=: not a filter traceloop knows (trace=, status=, signal=)", kind)};
    }
  }
  if (f.syscalls_filtered_ || f.status_ != kStatusAll) f.accepts_all_ = false;
  if (!options.paths.empty()) {
    f.paths_ = with_resolved_paths(options.paths);
    f.fds_ = fds;
    const auto arch = metadata.catalogue.arch();
    for (const auto& spec : metadata.catalogue.syscalls()) {
      // strace looks for paths in its %file, %desc and %network calls only.
      if (!(format::builtin_syscall_classes(arch, spec.nr) &
            (format::kClassFile | format::kClassDesc | format::kClassNetwork)))
        continue;
      if (spec.nr >= (1u << 20)) continue;
      PathArgs args;
      for (size_t i = 0; i < spec.params.size() && i < 6; ++i) {
        const auto kind = spec.params[i].kind;
        if (kind == format::ArgKind::path) args.paths |= static_cast<uint8_t>(1u << i);
        if (kind == format::ArgKind::fd || kind == format::ArgKind::dirfd)
          args.fds |= static_cast<uint8_t>(1u << i);
      }
      if (f.path_args_.size() <= spec.nr) f.path_args_.resize(spec.nr + 1);
      f.path_args_[spec.nr] = args;
    }
    f.accepts_all_ = false;
  }
  if (!options.duration.empty()) {
    auto ns = parse_duration(options.duration);
    if (!ns) return Error{"--duration: " + ns.error().message};
    f.min_duration_ns_ = *ns;
    f.accepts_all_ = false;
  }
  f.pids_ = options.pids;
  f.tids_ = options.tids;
  f.comms_ = options.comms;
  if (!f.pids_.empty() || !f.tids_.empty() || !f.comms_.empty()) f.accepts_all_ = false;
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
  if (syscalls_filtered_ && !syscall_set_.contains(e.nr)) return false;
  if (status_ != kStatusAll) {
    const uint8_t status = e.state != format::CallState::returned ? kStatusUnfinished
                           : e.failed()                          ? kStatusFailed
                                                                 : kStatusSuccessful;
    if (!(status_ & status)) return false;
  }
  if (min_duration_ns_ > 0 && (e.state != format::CallState::returned || e.duration_ns() < min_duration_ns_))
    return false;
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
  if (!paths_.empty() && !matches_paths(e)) return false;
  return true;
}

bool EventFilter::matches_paths(const format::Event& e) const {
  if (e.nr >= path_args_.size()) return false;
  const PathArgs& args = path_args_[e.nr];
  auto wanted = [&](std::string_view path) {
    return std::find(paths_.begin(), paths_.end(), path) != paths_.end();
  };
  for (unsigned i = 0; i < 6; ++i) {
    if (args.paths & (1u << i)) {
      if (const auto* capture = e.capture_for(i)) {
        const std::string_view path = capture->bytes.substr(0, capture->bytes.find('\0'));
        if (!capture->truncated() && wanted(path)) return true;
      }
    }
    if ((args.fds & (1u << i)) && fds_) {
      // An int in the kernel: AT_FDCWD and other negative values are no fd.
      const auto fd = static_cast<int32_t>(e.args[i]);
      if (fd < 0) continue;
      if (const auto path = fds_->path_of(e.pid, fd, false); path && wanted(*path)) return true;
    }
  }
  return false;
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
