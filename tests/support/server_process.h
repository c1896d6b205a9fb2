// Test support: runs tesserad as a child process on a free port and a fresh
// data directory, the way an operator would, and stops it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tessera::test_support {

class ServerProcess {
 public:
  // Starts `binary` with `--listen 127.0.0.1:0 --data-dir data_dir` and the
  // extra arguments, and waits (up to 30 s) until it prints its port.
  // Throws std::runtime_error when it does not come up.
  ServerProcess(const std::filesystem::path& binary, const std::filesystem::path& data_dir,
                std::vector<std::string> extra_args = {});
  ~ServerProcess();  // SIGTERM, then SIGKILL after 10 s
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  // Sends `signal` and reaps the child; returns its wait status.
  int stop(int signal);

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace tessera::test_support
