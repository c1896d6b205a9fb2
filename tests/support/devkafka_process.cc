#include "devkafka_process.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "spawn.h"

namespace tessera::test_support {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

DevKafkaProcess::DevKafkaProcess(const std::filesystem::path& binary, std::vector<std::string> args) {
  int in[2];
  int out[2];
  if (pipe(in) != 0) throw std::runtime_error("pipe failed");
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  args.insert(args.begin(), binary.string());
  pid_ = spawn_child(args, {{STDIN_FILENO, in[0]}, {STDOUT_FILENO, out[1]}}, {in[0], in[1], out[0], out[1]});
  close(in[0]);
  close(out[1]);
  to_child_ = in[1];
  from_child_ = out[0];
  // A write to a child that died must fail, not kill the test.
  signal(SIGPIPE, SIG_IGN);
  try {
    bootstrap_ = read_line(30'000);
  } catch (const std::exception&) {
    end();
    throw std::runtime_error("tessera-devkafka did not print its bootstrap address");
  }
}

DevKafkaProcess::~DevKafkaProcess() { end(); }

void DevKafkaProcess::end() {
  if (to_child_ >= 0) close(to_child_);
  if (from_child_ >= 0) close(from_child_);
  to_child_ = from_child_ = -1;
  if (pid_ <= 0) return;
  stop_child(pid_, SIGTERM);
  pid_ = -1;
}

std::string DevKafkaProcess::command(const std::string& line) {
  const std::string text = line + "\n";
  if (write(to_child_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    throw std::runtime_error("cannot write to tessera-devkafka");
  }
  return read_line(10'000);
}

std::string DevKafkaProcess::read_line(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (const auto newline = pending_.find('\n'); newline != std::string::npos) {
      std::string line = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) throw std::runtime_error("tessera-devkafka did not answer in time");
    pollfd ready{from_child_, POLLIN, 0};
    if (poll(&ready, 1, static_cast<int>(left)) <= 0) continue;
    char buffer[1024];
    const ssize_t n = read(from_child_, buffer, sizeof buffer);
    if (n <= 0) throw std::runtime_error("tessera-devkafka closed its output");
    pending_.append(buffer, static_cast<std::size_t>(n));
  }
}

}  // namespace tessera::test_support
