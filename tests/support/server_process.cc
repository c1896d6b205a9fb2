#include "server_process.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <regex>
#include <stdexcept>
#include <thread>

#include "spawn.h"

namespace tessera::test_support {

ServerProcess::ServerProcess(const std::filesystem::path& binary, const std::filesystem::path& data_dir,
                             std::vector<std::string> extra_args) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = {binary.string(), "--listen", "127.0.0.1:0", "--data-dir", data_dir.string()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = spawn_child(args, {{STDOUT_FILENO, out[1]}}, {out[0], out[1]});
  close(out[1]);
  // Read the child's output until its "listening" line names the port; the
  // rest of its output goes on to our stdout so that ctest shows it.
  FILE* child_out = fdopen(out[0], "r");
  const std::regex listening(R"(listening on http://[^:]+:(\d+))");
  char line[4096];
  while (std::fgets(line, sizeof line, child_out) != nullptr) {
    std::fputs(line, stdout);
    std::cmatch match;
    if (std::regex_search(line, match, listening)) {
      port_ = static_cast<std::uint16_t>(std::stoi(match[1].str()));
      break;
    }
  }
  if (port_ == 0) {
    std::fclose(child_out);
    stop(SIGKILL);
    throw std::runtime_error("tesserad did not start");
  }
  // Keep draining the pipe so the child never blocks on a full pipe.
  std::thread([child_out] {
    char rest[4096];
    while (std::fgets(rest, sizeof rest, child_out) != nullptr) std::fputs(rest, stdout);
    std::fclose(child_out);
  }).detach();
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) stop(SIGTERM);
}

int ServerProcess::stop(int signal) {
  if (pid_ <= 0) return 0;
  const int status = stop_child(pid_, signal);
  pid_ = -1;
  return status;
}

}  // namespace tessera::test_support
