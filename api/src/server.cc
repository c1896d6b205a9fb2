#include "tessera/api/server.h"

#include <utility>  // Boost 1.74's asio needs it first on GCC 12

#include <charconv>

#include <spdlog/spdlog.h>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>

#include <thread>
#include <vector>

#include "tessera/api/problem.h"

namespace tessera::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

constexpr std::chrono::seconds kIdleTimeout{60};

// One connection: read a request, have a worker handle it, write the answer,
// and read the next one while the client keeps the connection alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Handler& handler, asio::thread_pool& workers, std::size_t body_limit)
      : stream_(std::move(socket)), handler_(handler), workers_(workers), body_limit_(body_limit) {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) client_ = peer.address().to_string();
  }

  void start() {
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::read, shared_from_this()));
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(body_limit_);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return close();
    if (ec == http::error::body_limit) {
      return write(detail::problem(http::status::payload_too_large, "payload-too-large",
                                   "the body exceeds " + std::to_string(body_limit_) + " bytes"),
                   /*keep_alive=*/false);
    }
    if (ec) return;  // timeout or reset: the client is gone
    request_ = parser_->release();
    asio::post(workers_, [self = shared_from_this()] {
      Response response = self->handler_.handle(self->request_, self->client_);
      asio::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        const bool keep_alive = response.keep_alive();
        self->write(std::move(response), keep_alive);
      });
    });
  }

  void write(Response response, bool keep_alive) {
    response.keep_alive(keep_alive);
    response_ = std::move(response);
    http::async_write(stream_, response_, [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
      if (ec) return;
      if (!keep_alive) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  const Handler& handler_;
  asio::thread_pool& workers_;
  std::size_t body_limit_;
  std::string client_;  // the peer's address
  std::optional<http::request_parser<http::string_body>> parser_;
  Request request_;
  Response response_;
};

}  // namespace

class Server::Impl {
 public:
  Impl(const Handler& handler, const ServerOptions& options)
      : handler_(handler),
        options_(options),
        io_(options.io_threads),
        workers_(static_cast<std::size_t>(options.worker_threads)),
        acceptor_(asio::make_strand(io_)) {
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
    workers_.join();
  }

  void stop() {
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    io_.stop();
  }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        spdlog::warn("accept: {}", ec.message());
      } else {
        std::make_shared<Session>(std::move(socket), handler_, workers_, options_.body_limit)->start();
      }
      accept();
    });
  }

  const Handler& handler_;
  ServerOptions options_;
  asio::io_context io_;
  asio::thread_pool workers_;
  tcp::acceptor acceptor_;
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
