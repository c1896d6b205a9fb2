// The HTTP/1.1 server: accepts connections, reads requests, hands each to a
// Handler on a worker pool (commands block until durable, so many requests
// wait at once and group commit can batch them), writes the responses.
//
// Lifetime: borrows the handler, which must outlive the server. run() serves
// until stop() is called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/api/handler.h"

namespace tessera::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see Server::port())
  int io_threads = 2;
  int worker_threads = 64;  // requests handled at once
  std::size_t body_limit = 8 << 20;
};

// An address to listen on, parsed from "HOST:PORT" (a command line's
// --listen); PORT 0 asks for any free port. nullopt when malformed.
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};
std::optional<ListenAddress> parse_listen_address(std::string_view text);

class Server;

// Stops `server` when SIGINT or SIGTERM arrives, from construction to
// destruction (a thread of its own waits for them). Construct it before
// announcing the server, so that a signal sent at once finds it in place.
// The server must outlive it.
class StopOnSignals {
 public:
  explicit StopOnSignals(Server& server);
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

class Server {
 public:
  // Binds and listens; throws boost::system::system_error when it cannot.
  Server(const Handler& handler, ServerOptions options);
  ~Server();

  std::uint16_t port() const;
  void run();  // blocks until stop()
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::api
