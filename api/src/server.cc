#include "tessera/api/server.h"

#include <utility>  // Boost 1.74's asio needs it first on GCC 12

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <thread>
#include <vector>

#include "tessera/api/errc.h"
#include "tessera/api/problem.h"

namespace tessera::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

constexpr std::size_t kFirstRead = 4096;

// How long a refused request's connection is drained before it closes: a
// socket closed with unread bytes is reset, and the reset can overtake the
// answer on its way to the client (nginx's lingering close does the same).
constexpr std::chrono::seconds kLinger{2};

// An error of Beast's HTTP parser: the client sent something that is not
// HTTP/1.1 (rather than going away or being too slow).
bool unparsable(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// How long the acceptor waits before trying again when the process is out of
// file descriptors (or the kernel of memory): short enough that a freed
// descriptor is used within a second, long enough not to spin.
constexpr std::chrono::milliseconds kAcceptBackoff{100};

// Says what went wrong at most once a second, with how often it did since.
class ThrottledLog {
 public:
  explicit ThrottledLog(std::string what) : what_(std::move(what)) {}
  // "<what>: <happened> (<doing>)", or nothing within a second of the last.
  void warn(std::string_view happened, std::string_view doing) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::seconds(1)) {
      ++suppressed_;
      return;
    }
    if (suppressed_ > 0) {
      spdlog::warn("{}: {} ({}; {} more times in the last second)", what_, happened, doing, suppressed_);
    } else {
      spdlog::warn("{}: {} ({})", what_, happened, doing);
    }
    last_ = now;
    suppressed_ = 0;
  }

 private:
  std::string what_;
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t suppressed_ = 0;
};

// A Transfer-Encoding other than a single `chunked`, or one beside a
// Content-Length: RFC 9112 section 6.1 says 400, since a proxy in front may
// frame the message otherwise (request smuggling).
bool framing_ambiguous(const Request& header) {
  const auto encodings = header.count(http::field::transfer_encoding);
  if (encodings == 0) return false;
  if (encodings > 1 || header.count(http::field::content_length) > 0) return true;
  std::string_view value(header[http::field::transfer_encoding].data(), header[http::field::transfer_encoding].size());
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return !beast::iequals(beast::string_view(value.data(), value.size()), "chunked");
}

// One connection: wait for a request's first byte (the keep-alive idle
// timeout), read its header within the header deadline, check its framing,
// read its body, hand it to the handler, write the answer when it comes,
// and go on while the client keeps the connection alive. Everything runs on
// the connection's strand; while the handler works, the connection holds no
// thread.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Handler& handler, const ServerOptions& options, std::atomic<std::size_t>& open)
      : stream_(std::move(socket)), handler_(handler), options_(options), open_(open) {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) client_ = peer.address().to_string();
  }
  ~Session() { open_.fetch_sub(1); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() {
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::await_request, shared_from_this()));
  }

 private:
  void await_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options_.header_limit));
    parser_->body_limit(options_.body_limit);
    if (buffer_.size() > 0) return read_header();  // pipelined: it has begun
    stream_.expires_after(options_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close();  // idle, or gone
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    stream_.expires_after(options_.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  // The refusal of a request that cannot be read to its end; nullopt when
  // the client is gone or too slow, and nobody is left to answer.
  std::optional<Error> refusal(const beast::error_code& ec) const {
    if (ec == http::error::header_limit) {
      return Error(errc::headers_too_large,
                   "the request line and headers exceed " + std::to_string(options_.header_limit) + " bytes");
    }
    // Beast checks a Content-Length against the limit as soon as it reads it.
    if (ec == http::error::body_limit) {
      return Error(errc::payload_too_large, "the body exceeds " + std::to_string(options_.body_limit) + " bytes");
    }
    if (unparsable(ec)) return Error(errc::bad_request, "the request does not parse: " + ec.message());
    return std::nullopt;
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) {
      if (auto refused = refusal(ec)) return refuse(*refused);
      return close();
    }
    if (framing_ambiguous(parser_->get())) {
      return refuse(Error(errc::bad_request,
                          "Transfer-Encoding must be chunked alone, and never beside a Content-Length (RFC 9112)"));
    }
    stream_.expires_after(options_.idle_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t) {
    if (ec) {
      if (auto refused = refusal(ec)) return refuse(*refused);
      return close();
    }
    stream_.expires_never();  // the handler's own waits are bounded
    handler_.handle(parser_->release(), client_, stream_.get_executor(), [self = shared_from_this()](Response r) {
      asio::dispatch(self->stream_.get_executor(), [self, r = std::move(r)]() mutable {
        const bool keep_alive = r.keep_alive();
        self->write(std::move(r), keep_alive);
      });
    });
  }

  // Answers a request that is not read to its end, and closes: what follows
  // it on the connection cannot be framed.
  void refuse(const Error& error) { write(detail::problem_for(error), /*keep_alive=*/false, /*drain=*/true); }

  void write(Response response, bool keep_alive, bool drain = false) {
    response.keep_alive(keep_alive);
    response.set(http::field::server, "tesserad");
    response_ = std::move(response);
    stream_.expires_after(options_.idle_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive, drain](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (keep_alive) return self->await_request();
                        self->close();
                        if (drain) {
                          self->stream_.expires_after(kLinger);
                          self->discard();
                        }
                      });
  }

  // Reads and drops what the client still sends, until it closes or the
  // linger time is up.
  void discard() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (!ec) self->discard();
                            });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  const Handler& handler_;
  const ServerOptions& options_;
  std::atomic<std::size_t>& open_;
  std::string client_;  // the peer's address
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;
};

}  // namespace

class Server::Impl {
 public:
  Impl(const Handler& handler, const ServerOptions& options)
      : handler_(handler),
        options_(options),
        io_(options.io_threads),
        acceptor_(asio::make_strand(io_)),
        backoff_(acceptor_.get_executor()) {
    const tcp::endpoint endpoint{asio::ip::make_address(options.host), options.port};
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    accept();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void run() {
    std::vector<std::thread> threads;
    for (int i = 1; i < options_.io_threads; ++i) threads.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& t : threads) t.join();
  }

  void stop() {
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      backoff_.cancel();
    });
    io_.stop();
  }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) return accept_failed(ec);
      if (open_.fetch_add(1) >= options_.max_connections) {
        open_.fetch_sub(1);
        beast::error_code ignored;
        socket.close(ignored);  // over the limit: at once, before any byte
        refused_.warn("a connection over --max-connections (" + std::to_string(options_.max_connections) + " open)",
                      "closed at once");
      } else {
        std::make_shared<Session>(std::move(socket), handler_, options_, open_)->start();
      }
      accept();
    });
  }

  // Out of descriptors or memory, accepting again at once would fail again
  // at once: wait a little, while the open connections go on being served.
  void accept_failed(const beast::error_code& ec) {
    const int code = ec.value();
    const bool exhausted = ec.category() == asio::error::get_system_category() &&
                           (code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM);
    if (!exhausted) {
      accept_errors_.warn(ec.message(), "accepting again");
      return accept();
    }
    accept_errors_.warn(ec.message(), "backing off " + std::to_string(kAcceptBackoff.count()) + " ms between tries");
    backoff_.expires_after(kAcceptBackoff);
    backoff_.async_wait([this](const beast::error_code& waited) {
      if (!waited) accept();
    });
  }

  // Before io_: the sessions its destruction frees count themselves out.
  std::atomic<std::size_t> open_{0};
  const Handler& handler_;
  ServerOptions options_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_;
  ThrottledLog accept_errors_{"accept"};
  ThrottledLog refused_{"refused"};
};

Server::Server(const Handler& handler, ServerOptions options) : impl_(std::make_unique<Impl>(handler, options)) {}
Server::~Server() = default;
std::uint16_t Server::port() const { return impl_->port(); }
void Server::run() { impl_->run(); }
void Server::stop() { impl_->stop(); }

std::optional<ListenAddress> parse_listen_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  unsigned port = 0;
  const auto digits = text.substr(colon + 1);
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (error != std::errc() || end != digits.data() + digits.size() || port > 65535) return std::nullopt;
  return ListenAddress{std::string(text.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

class StopOnSignals::Impl {
 public:
  explicit Impl(Server& server) : signals_(io_, SIGINT, SIGTERM) {
    signals_.async_wait([&server](const boost::system::error_code& error, int) {
      if (!error) server.stop();
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Impl() {
    io_.stop();
    thread_.join();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  std::thread thread_;
};

StopOnSignals::StopOnSignals(Server& server) : impl_(std::make_unique<Impl>(server)) {}
StopOnSignals::~StopOnSignals() = default;

}  // namespace tessera::api
