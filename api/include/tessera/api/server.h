// The HTTP/1.1 server: accepts connections, reads requests, hands each to the
// Handler, and writes each answer when it comes. A few I/O threads serve every
// connection: a request waiting for its command to be durable holds none, so
// many wait at once and group commit batches them. DESIGN.md's "HTTP edge"
// limits hold here: exact framing (RFC 9112), a header size limit and
// deadline, a connection limit, and an acceptor that backs off when the
// process runs out of file descriptors.
//
// Lifetime: borrows the handler, which must outlive the server. run() serves
// until stop() is called from any thread.
#pragma once

#include <chrono>
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
  // Request line and headers: larger is 431 `headers-too-large`.
  std::size_t header_limit = 16 << 10;
  std::size_t body_limit = 8 << 20;  // larger is 413 `payload-too-large`
  // From a request's first byte to its header's end; then the connection is
  // closed, so that a slow client costs a socket for so long at most.
  std::chrono::milliseconds header_timeout = std::chrono::seconds(10);
  // A keep-alive connection waiting for its next request, a body being read,
  // an answer being written.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  // Connections open at once; beyond, a new one is closed as it is accepted.
  std::size_t max_connections = 10'000;
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
