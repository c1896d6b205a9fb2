// Test support: starts a program as a child process bound to the test's life.
#pragma once

#include <sys/types.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace tessera::test_support {

// Starts argv[0] with the arguments after it. Each {child_fd, parent_fd} of
// `redirects` becomes the child's descriptor child_fd (STDIN_FILENO, ...);
// then every descriptor of `close_in_child` is closed in the child (the pipe
// ends it must not hold). The child is sent SIGKILL when the test process
// dies, so a crashed test leaves no server running (nor ctest's output pipe
// held open). An exec that fails ends the child with status 127. Throws
// std::runtime_error when fork fails.
pid_t spawn_child(const std::vector<std::string>& argv, std::initializer_list<std::pair<int, int>> redirects,
                  std::initializer_list<int> close_in_child);

// Sends `signal` to the child and reaps it; a child that has not ended after
// 10 s is sent SIGKILL. Returns its wait status.
int stop_child(pid_t pid, int signal);

}  // namespace tessera::test_support
