// Test support: runs tessera-devkafka (a mock Kafka cluster in a process of
// its own) the way a developer would, reads its bootstrap address, and sends
// it commands on its stdin: "down", "up", "fail N ERR".
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace tessera::test_support {

class DevKafkaProcess {
 public:
  // Starts `binary` with `args` and waits (up to 30 s) for its first line,
  // the bootstrap address. Throws std::runtime_error when it does not come.
  // The child dies with the test process (PR_SET_PDEATHSIG).
  explicit DevKafkaProcess(const std::filesystem::path& binary, std::vector<std::string> args = {});
  ~DevKafkaProcess();  // SIGTERM, then SIGKILL after 10 s
  DevKafkaProcess(const DevKafkaProcess&) = delete;
  DevKafkaProcess& operator=(const DevKafkaProcess&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }

  // Sends one command line and returns its answer line ("ok down", "error
  // ..."), waiting up to 10 s; throws std::runtime_error when none comes.
  // Call from one thread at a time.
  std::string command(const std::string& line);

 private:
  std::string read_line(int timeout_ms);
  void end();  // closes the pipes, stops and reaps the child

  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string pending_;  // read from the child, not yet returned as a line
  std::string bootstrap_;
};

}  // namespace tessera::test_support
