#pragma once
// Shell completion (bash, zsh) generated from a program's CLI11 definition,
// so the completion knows exactly the options, subcommands and choices the
// parser accepts and cannot drift from it. Each traceloop binary calls
// add_completion_option() on its App; `PROGRAM --completion bash|zsh` prints
// the script (the build installs the printed scripts).
//
// What is completed where:
//   - option names (long and short) of the command being typed, and the
//     names of its subcommands;
//   - an option's value: the members of its CLI::IsMember check, files for
//     a value whose type name is FILE or PATH, directories for DIR;
//   - positional arguments: files (type name FILE), commands (CMD), or
//     nothing the shell could guess.

#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace traceloop::cli_completion {

enum class ValueKind { none, word, file, directory, command };

struct CompletedOption {
  std::vector<std::string> names;    // "--format", "-f"
  std::string description;           // first sentence of the help text
  ValueKind value = ValueKind::none; // none: a flag
  std::vector<std::string> choices;  // allowed values, when the parser checks them
};

struct CompletedCommand {
  std::string name;
  std::string description;
  std::vector<CompletedOption> options;  // hidden options left out
  ValueKind positional = ValueKind::none;
  std::vector<CompletedCommand> subcommands;
};

// The completion's view of `app` and its subcommands.
CompletedCommand describe(CLI::App& app);

std::string bash_script(const CompletedCommand& command, std::string_view program);
std::string zsh_script(const CompletedCommand& command, std::string_view program);

// Adds the hidden option `--completion bash|zsh`: prints the script for
// `program` on stdout and ends parsing with CLI::Success (exit status 0),
// before required arguments are checked.
void add_completion_option(CLI::App& app, std::string program);

}  // namespace traceloop::cli_completion
