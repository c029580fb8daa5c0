#include "tools/cli_completion/cli_completion.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <cctype>
#include <string>

namespace traceloop::cli_completion {

namespace {

// The type name the help shows (FILE, DIR, TEXT...), without the checks'
// descriptions CLI11 appends after ':'.
ValueKind kind_of(const CLI::Option& option) {
  std::string type = option.get_type_name();
  type = type.substr(0, type.find(':'));
  if (type == "FILE" || type == "PATH") return ValueKind::file;
  if (type == "DIR") return ValueKind::directory;
  if (type == "CMD") return ValueKind::command;
  return ValueKind::word;
}

// Members of a CLI::IsMember check (the only checks whose description is
// "{a,b,c}"), or the values the help lists in place of the type ("ns|us|ms",
// the option text of a transformed value).
std::vector<std::string> choices_of(CLI::Option& option) {
  std::vector<std::string> choices;
  std::string type = option.get_option_text().empty() ? option.get_type_name() : option.get_option_text();
  type = type.substr(0, type.find(':'));
  if (type.find('|') != std::string::npos && type.find(' ') == std::string::npos) {
    size_t begin = 0;
    for (size_t end; (end = type.find('|', begin)) != std::string::npos; begin = end + 1)
      choices.push_back(type.substr(begin, end - begin));
    choices.push_back(type.substr(begin));
    return choices;
  }
  for (int i = 0;; ++i) {
    CLI::Validator* validator = nullptr;
    try {
      validator = option.get_validator(i);
    } catch (const CLI::OptionNotFound&) {
      break;
    }
    const std::string text = validator->get_description();
    if (text.size() < 2 || text.front() != '{' || text.back() != '}') continue;
    size_t begin = 1;
    while (begin < text.size() - 1) {
      size_t end = text.find(',', begin);
      if (end == std::string::npos || end > text.size() - 1) end = text.size() - 1;
      if (end > begin) choices.push_back(text.substr(begin, end - begin));
      begin = end + 1;
    }
  }
  return choices;
}

// One line, first sentence: what fits beside a candidate in a menu.
std::string short_description(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\t') c = ' ';
  for (const char* stop : {". ", "; ", " ("}) {
    const size_t at = text.find(stop);
    if (at != std::string::npos) text.resize(at);
  }
  if (text.size() > 72) text = text.substr(0, 69) + "...";
  return text;
}

std::string function_name(std::string_view program, const std::vector<std::string>& path) {
  std::string name = "_";
  for (char c : program) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  for (const auto& part : path) {
    name += "_";
    for (char c : part) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return name;
}

// Single-quoted for either shell.
std::string single_quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// ---- bash ----------------------------------------------------------------

struct BashCases {
  std::string subcommand;   // "PATH|WORD") path='PATH WORD' ;;
  std::string takes_value;  // "PATH|OPTION") skip=1 ;;
  std::string value;        // "PATH|OPTION") COMPREPLY=(...) ;;
  std::string options;      // "PATH") COMPREPLY=(options) ;;
  std::string words;        // "PATH") subcommands and positionals
  std::string positional;   // "PATH") kind ;;
};

std::string compgen_for(ValueKind kind) {
  switch (kind) {
    case ValueKind::file:
      return "compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -f -- \"$cur\"))";
    case ValueKind::directory:
      return "compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -d -- \"$cur\"))";
    case ValueKind::command:
      return "COMPREPLY+=($(compgen -c -- \"$cur\"))";
    case ValueKind::word:
    case ValueKind::none:
      return ":";
  }
  return ":";
}

std::string kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::file: return "file";
    case ValueKind::directory: return "directory";
    case ValueKind::command: return "command";
    case ValueKind::word: return "word";
    case ValueKind::none: return "none";
  }
  return "none";
}

void bash_cases(const CompletedCommand& command, const std::string& path, BashCases& cases) {
  const auto key = [&](const std::string& word) { return single_quoted(path + "|" + word); };
  std::vector<std::string> option_names;
  for (const auto& option : command.options) {
    for (const auto& name : option.names) option_names.push_back(name);
    if (option.value == ValueKind::none) continue;
    std::string pattern;
    for (const auto& name : option.names) pattern += (pattern.empty() ? "" : "|") + key(name);
    cases.takes_value += "      " + pattern + ") skip=1 ;;\n";
    std::string action;
    if (!option.choices.empty())
      action = "COMPREPLY=($(compgen -W " + single_quoted(joined(option.choices)) + " -- \"$cur\"))";
    else
      action = compgen_for(option.value);
    cases.value += "    " + pattern + ") " + action + "; return 0 ;;\n";
  }
  cases.options += "    " + single_quoted(path) + ") COMPREPLY=($(compgen -W " + single_quoted(joined(option_names)) +
                   " -- \"$cur\")) ;;\n";
  std::vector<std::string> names;
  for (const auto& sub : command.subcommands) {
    names.push_back(sub.name);
    cases.subcommand += "      " + key(sub.name) + ") path=" + single_quoted(path.empty() ? sub.name : path + " " + sub.name) +
                        " ;;\n";
  }
  std::string words;
  if (!names.empty()) words = "COMPREPLY=($(compgen -W " + single_quoted(joined(names)) + " -- \"$cur\")); ";
  words += compgen_for(command.positional);
  cases.words += "    " + single_quoted(path) + ") " + words + " ;;\n";
  cases.positional += "    " + single_quoted(path) + ") kind=" + kind_name(command.positional) + " ;;\n";
  for (const auto& sub : command.subcommands) bash_cases(sub, path.empty() ? sub.name : path + " " + sub.name, cases);
}

// ---- zsh -----------------------------------------------------------------

// Inside a single-quoted _arguments spec: brackets end the description.
std::string zsh_description(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '[' || c == ']' || c == '\\' || c == ':') out += '\\';
    out += c;
  }
  return out;
}

std::string zsh_action(ValueKind kind, const std::vector<std::string>& choices) {
  if (!choices.empty()) {
    std::string out = "(";
    for (size_t i = 0; i < choices.size(); ++i) {
      if (i > 0) out += ' ';
      for (char c : choices[i]) {
        if (c == ' ' || c == '(' || c == ')' || c == '\\' || c == ':') out += '\\';
        out += c;
      }
    }
    return out + ")";
  }
  switch (kind) {
    case ValueKind::file: return "_files";
    case ValueKind::directory: return "_files -/";
    case ValueKind::command: return "_command_names -e";
    case ValueKind::word:
    case ValueKind::none: return " ";
  }
  return " ";
}

std::string zsh_option_specs(const CompletedCommand& command) {
  std::string out;
  for (const auto& option : command.options) {
    // Repeatable ('*'): counted flags (-tt) and lists given twice are valid.
    std::string names;
    if (option.names.size() == 1) {
      names = single_quoted("*" + option.names.front());
    } else {
      names = "'*'{";
      for (size_t i = 0; i < option.names.size(); ++i) names += (i ? "," : "") + option.names[i];
      names += "}";
    }
    std::string spec = "[" + zsh_description(option.description) + "]";
    if (option.value != ValueKind::none) {
      std::string message = option.choices.empty() ? kind_name(option.value) : "value";
      if (option.value == ValueKind::word && option.choices.empty()) message = "value";
      spec += ":" + message + ":" + zsh_action(option.value, option.choices);
    }
    out += "    " + names + single_quoted(spec) + " \\\n";
  }
  return out;
}

void zsh_functions(const CompletedCommand& command, std::string_view program, const std::vector<std::string>& path,
                   std::string& out) {
  const std::string name = function_name(program, path);
  out += name + "() {\n";
  if (command.subcommands.empty()) {
    out += "  _arguments -s -S \\\n" + zsh_option_specs(command);
    switch (command.positional) {
      case ValueKind::command: out += "    '*::command:_normal'\n"; break;
      case ValueKind::none: out += "    \n"; break;
      default: out += "    " + single_quoted("*:" + kind_name(command.positional) + ":" + zsh_action(command.positional, {})) + "\n";
    }
    out += "}\n\n";
  } else {
    out += "  local curcontext=\"$curcontext\" state state_descr line ret=1\n";
    out += "  typeset -A opt_args\n";
    out += "  _arguments -C -s -S \\\n" + zsh_option_specs(command);
    out += "    '1: :->command' \\\n    '*:: :->argument' && return 0\n";
    out += "  case $state in\n    command)\n      local -a commands=(\n";
    for (const auto& sub : command.subcommands)
      out += "        " + single_quoted(sub.name + ":" + short_description(sub.description)) + "\n";
    out += "      )\n      _describe -t commands command commands && ret=0 ;;\n    argument)\n";
    out += "      curcontext=\"${curcontext%:*:*}:" + std::string(program) + "-$words[1]:\"\n";
    out += "      case $words[1] in\n";
    for (const auto& sub : command.subcommands) {
      std::vector<std::string> sub_path = path;
      sub_path.push_back(sub.name);
      out += "        " + single_quoted(sub.name) + ") " + function_name(program, sub_path) + " && ret=0 ;;\n";
    }
    out += "      esac ;;\n  esac\n  return ret\n}\n\n";
  }
  for (const auto& sub : command.subcommands) {
    std::vector<std::string> sub_path = path;
    sub_path.push_back(sub.name);
    zsh_functions(sub, program, sub_path, out);
  }
}

}  // namespace

CompletedCommand describe(CLI::App& app) {
  CompletedCommand command;
  command.name = app.get_name();
  command.description = app.get_description();
  bool positional_seen = false;
  for (CLI::Option* option : app.get_options()) {
    if (option->get_positional()) {
      if (!positional_seen) command.positional = kind_of(*option);
      positional_seen = true;
      continue;
    }
    if (option->get_group().empty()) continue;  // hidden
    CompletedOption completed;
    for (const auto& name : option->get_lnames()) completed.names.push_back("--" + name);
    for (const auto& name : option->get_snames()) completed.names.push_back("-" + name);
    completed.description = short_description(option->get_description());
    if (option->get_expected_max() > 0) {  // flags expect no value
      completed.value = kind_of(*option);
      completed.choices = choices_of(*option);
    }
    command.options.push_back(std::move(completed));
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App* s) { return !s->get_name().empty() && !s->get_group().empty(); }))
    command.subcommands.push_back(describe(*sub));
  return command;
}

std::string bash_script(const CompletedCommand& command, std::string_view program) {
  BashCases cases;
  bash_cases(command, "", cases);
  const std::string name = function_name(program, {});
  std::string out = "# bash completion for " + std::string(program) + ", generated by `" + std::string(program) +
                    " --completion bash` from its command line definition.\n";
  out += name + "() {\n";
  out += R"(  local cur="${COMP_WORDS[COMP_CWORD]}" prev="" opt="" path="" kind="" w i skip=0
  COMPREPLY=()
  ((COMP_CWORD > 0)) && prev="${COMP_WORDS[COMP_CWORD-1]}"
  # Which (sub)command is being typed: subcommand names outside option values.
  # After "--", or once a command's CMD began, the words are that command's.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    if [[ $w == = ]]; then skip=1; continue; fi
    if ((skip)); then skip=0; continue; fi
    if [[ $w == -- ]]; then break; fi
    case "$path|$w" in
)";
  out += cases.subcommand + cases.takes_value;
  out += R"(      *)
        if [[ $w != -* ]]; then
          case "$path" in
)";
  out += cases.positional;
  out += R"(          esac
          [[ $kind == command ]] && break
        fi ;;
    esac
  done
  if ((i < COMP_CWORD)); then
    # After "--", or inside a command line run by this one (run -- CMD ARGS...):
    # no more options of ours.
    case "$path" in
)";
  out += cases.positional;
  out += R"(    esac
    if [[ ${COMP_WORDS[i]} == -- ]]; then ((i++)); fi
    if [[ $kind == command ]] && ((i == COMP_CWORD)); then COMPREPLY=($(compgen -c -- "$cur")); return 0; fi
    if [[ $kind == command || $kind == file ]]; then compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); fi
    return 0
  fi
  # An option's value: after "--opt", "--opt=" or "--opt VALUE-so-far".
  opt="$prev"
  if [[ $cur == = ]]; then cur=""
  elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then opt="${COMP_WORDS[COMP_CWORD-2]}"
  fi
  case "$path|$opt" in
)";
  out += cases.value;
  out += R"(  esac
  if [[ $cur == -* ]]; then
    case "$path" in
)";
  out += cases.options;
  out += R"(    esac
    return 0
  fi
  case "$path" in
)";
  out += cases.words;
  out += "  esac\n  return 0\n}\ncomplete -F " + name + " " + std::string(program) + "\n";
  return out;
}

std::string zsh_script(const CompletedCommand& command, std::string_view program) {
  const std::string name = function_name(program, {});
  std::string out = "#compdef " + std::string(program) + "\n# zsh completion for " + std::string(program) +
                    ", generated by `" + std::string(program) + " --completion zsh` from its command line definition.\n\n";
  zsh_functions(command, program, {}, out);
  out += name + " \"$@\"\n";
  return out;
}

void add_completion_option(CLI::App& app, std::string program) {
  CLI::App* root = &app;
  app.add_option_function<std::string>(
         "--completion",
         [root, program](const std::string& shell) {
           const CompletedCommand command = describe(*root);
           std::cout << (shell == "zsh" ? zsh_script(command, program) : bash_script(command, program));
           std::cout.flush();
           throw CLI::Success();
         },
         "Print the shell completion script (bash or zsh)")
      ->check(CLI::IsMember({"bash", "zsh"}))
      ->group("")
      ->trigger_on_parse();
}

}  // namespace traceloop::cli_completion
