// Test support: runs a program as a child process to its end, the way an
// operator runs a command line tool, and collects what it printed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace tessera::test_support {

struct CommandResult {
  // The exit status; -1 when the child was killed by a signal (or by the timeout).
  int exit_code = -1;
  std::string out;  // its standard output
  std::string err;  // its standard error
  bool timed_out = false;
};

// Runs argv[0] with the arguments after it, and waits for its end, killing it
// with SIGKILL after `timeout`. Throws std::runtime_error when it cannot start.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace tessera::test_support
