// Test support for the API tests: a tesserad in process (a real log,
// pipeline and read models on disk, no socket, no Kafka), requests handed to
// Handler::handle(), and their answers read as the socket tests' client
// reads them, so both kinds of test share their checks (problem.h).
#pragma once

#include <utility>  // Boost 1.74's asio needs it first on GCC 12

#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "http_client.h"
#include "tessera/api/handler.h"
#include "tessera/projections/projector.h"

namespace tessera::test_support {

// A tesserad in process, without sockets or Kafka. With `projecting` false no
// projector runs, so the read models never catch up with the log.
using Headers = std::initializer_list<std::pair<std::string, std::string>>;

// The answer as the socket tests' client reads it, so both kinds of test
// share their checks (problem.h).
inline HttpResponse as_client_sees(const tessera::api::Response& response) {
  HttpResponse out;
  out.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    std::string name(field.name_string().data(), field.name_string().size());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value().data(), field.value().size());
  }
  out.body = response.body();
  return out;
}

class Served {
 public:
  explicit Served(const std::filesystem::path& dir, bool projecting = true,
                  tessera::eventstore::LogOptions options = {}) {
    log_ = tessera::eventstore::Log::open(dir / "log", options).value();
    models_ = tessera::projections::ReadModels::open(dir / "readmodels").value();
    pipeline_ = std::make_unique<tessera::pipeline::Pipeline>(*log_, tessera::pipeline::system_sources());
    if (projecting) projector_ = std::make_unique<tessera::projections::Projector>(*log_, *models_);
    claims_ = std::make_unique<tessera::api::ClaimTokens>(std::string(32, 'k'));
    tessera::api::Services services{pipeline_.get(), *models_, claims_.get(), guesses_, {}};
    services.read_your_writes = std::chrono::milliseconds(projecting ? 5000 : 50);
    handler_ = std::make_unique<tessera::api::Handler>(std::move(services));
  }

  HttpResponse send(tessera::api::http::verb method, const std::string& target, const std::string& body = {},
                    Headers headers = {}) {
    tessera::api::Request request{method, target, 11};
    request.set(tessera::api::http::field::host, "tessera.test");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    request.prepare_payload();
    std::promise<tessera::api::Response> answered;
    handler_->handle(std::move(request), "192.0.2.1", resume_on_.get_executor(),
                     [&](tessera::api::Response response) { answered.set_value(std::move(response)); });
    return as_client_sees(answered.get_future().get());
  }
  HttpResponse post(const std::string& target, const nlohmann::json& body, Headers headers = {}) {
    return send(tessera::api::http::verb::post, target, body.dump(), headers);
  }
  HttpResponse get(const std::string& target) { return send(tessera::api::http::verb::get, target); }

  tessera::pipeline::Pipeline& pipeline() { return *pipeline_; }

 private:
  std::unique_ptr<tessera::eventstore::Log> log_;
  std::unique_ptr<tessera::projections::ReadModels> models_;
  std::unique_ptr<tessera::pipeline::Pipeline> pipeline_;
  std::unique_ptr<tessera::projections::Projector> projector_;
  std::unique_ptr<tessera::api::ClaimTokens> claims_;
  tessera::api::GuessLimiter guesses_;
  std::unique_ptr<tessera::api::Handler> handler_;
  boost::asio::thread_pool resume_on_{1};  // where requests resume after a wait
};

}  // namespace tessera::test_support
