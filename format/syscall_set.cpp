#include "format/syscall_set.h"

#include <regex.h>

#include <array>
#include <charconv>
#include <utility>

namespace traceloop::format {
namespace {

struct ClassName {
  std::string_view name;
  uint32_t mask;
};

// strace's spellings; the names without % are its older ones, still accepted.
constexpr std::array kClassNames{
    ClassName{"%desc", kClassDesc},         ClassName{"%file", kClassFile},
    ClassName{"%ipc", kClassIpc},           ClassName{"%network", kClassNetwork},
    ClassName{"%net", kClassNetwork},       ClassName{"%process", kClassProcess},
    ClassName{"%signal", kClassSignal},     ClassName{"%memory", kClassMemory},
    ClassName{"%creds", kClassCreds},       ClassName{"%clock", kClassClock},
    ClassName{"%stat", kClassStat},         ClassName{"%lstat", kClassLstat},
    ClassName{"%fstat", kClassFstat},       ClassName{"%%stat", kClassStatLike},
    ClassName{"%statfs", kClassStatfs},     ClassName{"%fstatfs", kClassFstatfs},
    ClassName{"%%statfs", kClassStatfsLike}, ClassName{"%pure", kClassPure},
    ClassName{"desc", kClassDesc},          ClassName{"file", kClassFile},
    ClassName{"ipc", kClassIpc},            ClassName{"network", kClassNetwork},
    ClassName{"process", kClassProcess},    ClassName{"signal", kClassSignal},
    ClassName{"memory", kClassMemory},
};

// A compiled POSIX regex, freed with its owner.
class Regex {
 public:
  Regex() = default;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  ~Regex() {
    if (compiled_) regfree(&re_);
  }
  // strace compiles with REG_EXTENDED | REG_NOSUB: the same engine and flags
  // give the same matches.
  Result<void> compile(const std::string& pattern) {
    const int rc = regcomp(&re_, pattern.c_str(), REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
      std::array<char, 256> message{};
      regerror(rc, &re_, message.data(), message.size());
      return Error{std::string(message.data())};
    }
    compiled_ = true;
    return {};
  }
  bool matches(const std::string& text) const { return regexec(&re_, text.c_str(), 0, nullptr, 0) == 0; }

 private:
  regex_t re_{};
  bool compiled_ = false;
};

constexpr uint32_t kMaxNumber = 1u << 20;

}  // namespace

uint32_t syscall_class_from_name(std::string_view name) {
  for (const ClassName& c : kClassNames)
    if (c.name == name) return c.mask;
  return 0;
}

void SyscallSet::add(uint32_t nr) {
  if (nr >= kMaxNumber) return;
  if (listed_.size() <= nr) listed_.resize(nr + 1, false);
  listed_[nr] = true;
}

std::vector<uint32_t> SyscallSet::numbers_below(uint32_t limit) const {
  std::vector<uint32_t> out;
  for (uint32_t nr = 0; nr < limit; ++nr)
    if (contains(nr)) out.push_back(nr);
  return out;
}

SetPrefix parse_set_prefix(std::string_view expression) {
  SetPrefix prefix;
  std::string_view rest = expression;
  while (rest.starts_with('!')) {
    prefix.negated = !prefix.negated;
    rest.remove_prefix(1);
  }
  if (rest == "all")
    prefix.negated = !prefix.negated;
  else if (rest != "none")
    prefix.list = rest;
  return prefix;
}

Result<SyscallSet> SyscallSet::parse(std::string_view expression, const Catalogue& catalogue) {
  const Catalogue& builtin = builtin_catalogue(catalogue.arch());
  SyscallSet set;
  const SetPrefix prefix = parse_set_prefix(expression);
  set.negated_ = prefix.negated;
  if (!prefix.list) return set;
  std::string_view rest = *prefix.list;
  if (rest.empty()) return Error{std::string("invalid syscall set '") + std::string(expression) + "': it is empty"};
  auto both = [&](auto&& each) {
    for (const SyscallSpec& spec : builtin.syscalls()) each(spec);
    for (const SyscallSpec& spec : catalogue.syscalls()) each(spec);
  };
  while (true) {
    const auto comma = rest.find(',');
    std::string_view token = rest.substr(0, comma);
    const std::string quoted = "'" + std::string(token) + "'";
    // strtok in strace: empty tokens between commas are skipped.
    if (!token.empty()) {
      const bool optional = token.starts_with('?');
      if (optional) token.remove_prefix(1);
      bool found = false;
      uint32_t nr = 0;
      if (token.starts_with('/')) {
        Regex re;
        if (auto ok = re.compile(std::string(token.substr(1))); !ok.ok())
          return Error{"invalid regular expression " + quoted + ": " + ok.error().message};
        both([&](const SyscallSpec& spec) {
          if (re.matches(spec.name)) {
            set.add(spec.nr);
            found = true;
          }
        });
      } else if (const uint32_t mask = syscall_class_from_name(token); mask != 0) {
        for (const SyscallSpec& spec : builtin.syscalls()) {
          if (builtin_syscall_classes(builtin.arch(), spec.nr) & mask) set.add(spec.nr);
        }
        found = true;  // strace accepts a class even where none of it exists
      } else if (token.starts_with('%')) {
        if (!optional) return Error{"unknown syscall class " + quoted};
      } else if (std::from_chars(token.data(), token.data() + token.size(), nr).ptr == token.data() + token.size()) {
        set.add(nr);
        found = true;
      } else if (token.starts_with("syscall_") &&
                 std::from_chars(token.data() + 8, token.data() + token.size(), nr).ptr ==
                     token.data() + token.size() && token.size() > 8) {
        // unknown numbers are named syscall_N in the output; accepted back
        set.add(nr);
        found = true;
      } else if (const SyscallSpec* spec = catalogue.find(token)) {
        set.add(spec->nr);
        found = true;
      } else if (const SyscallSpec* known = builtin.find(token)) {
        // A trace's catalogue may list only the syscalls it recorded: a
        // name the architecture knows is valid, and matches nothing there.
        set.add(known->nr);
        found = true;
      }
      if (!found && !optional) {
        if (token.starts_with('/')) return Error{"regular expression " + quoted + " matches no syscall"};
        return Error{"unknown syscall " + quoted};
      }
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return set;
}

}  // namespace traceloop::format
