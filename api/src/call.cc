#include "call.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <charconv>
#include <memory>
#include <mutex>

#include "tessera/api/errc.h"
#include "tessera/domain/code_format.h"

namespace tessera::api::detail {

std::optional<std::string> Call::query_value(const std::string& key) const {
  const auto it = query.find(key);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

bool Call::accepts_csv() const { return header(http::field::accept).find("text/csv") != std::string::npos; }

std::string Call::header(http::field field) const {
  const auto it = request.find(field);
  return it == request.end() ? std::string() : std::string(it->value());
}

Response json_response(http::status status, const json& body) {
  Response response{status, 11};
  response.set(http::field::content_type, "application/json");
  response.body() = body.dump();
  response.prepare_payload();
  return response;
}

Response created(const json& body, const std::string& location) {
  Response response = json_response(http::status::created, body);
  response.set(http::field::location, location);
  return response;
}

Response csv_response(std::string body) {
  Response response{http::status::ok, 11};
  response.set(http::field::content_type, "text/csv; charset=utf-8");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

result<json> read_json(const Call& call) {
  json parsed = json::parse(call.request.body(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Error(errc::malformed_json, "the body is not valid JSON");
  return parsed;
}

result<std::optional<pipeline::Precondition>> precondition(const Call& call, const domain::StreamId& stream) {
  std::string value = call.header(http::field::if_match);
  if (value.empty()) return std::optional<pipeline::Precondition>();
  if (value.starts_with("W/")) value.erase(0, 2);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  std::uint64_t version = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), version);
  if (ec != std::errc() || end != value.data() + value.size()) {
    return Error(domain::errc::validation, "If-Match must name a version, such as \"3\"");
  }
  return std::optional<pipeline::Precondition>(pipeline::Precondition{stream, version});
}

namespace {

// The pipeline's answer to one command, awaited: the command is submitted
// when the request suspends, and the request resumes on its executor when
// the answer comes (on the pipeline's completion thread, which must not be
// kept: it delivers the answers behind this one).
class Submission {
 public:
  Submission(const Call& call, domain::Command command, std::optional<pipeline::Precondition> precondition,
             std::optional<pipeline::IdempotencyKey> key)
      : call_(call), command_(std::move(command)), precondition_(std::move(precondition)), key_(std::move(key)) {}

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> request) {
    call_.services.pipeline->submit(std::move(command_), std::move(precondition_), std::move(key_),
                                    [this, request](result<pipeline::Accepted> answer) {
                                      answer_.emplace(std::move(answer));
                                      boost::asio::post(call_.executor, [request] { request.resume(); });
                                    });
  }
  result<pipeline::Accepted> await_resume() { return std::move(*answer_); }

 private:
  const Call& call_;
  domain::Command command_;
  std::optional<pipeline::Precondition> precondition_;
  std::optional<pipeline::IdempotencyKey> key_;
  std::optional<result<pipeline::Accepted>> answer_;
};

// The read models reaching a position, awaited up to the read-your-writes
// wait: whichever of the models' call and the timer comes first resumes the
// request, on its executor.
class ModelsReached {
 public:
  ModelsReached(const Call& call, eventstore::Position position) : call_(call), position_(position) {}

  bool await_ready() const { return call_.services.models.checkpoint() >= position_; }
  void await_suspend(std::coroutine_handle<> request) {
    // `race`, not race_: once the request may have resumed (on another
    // thread), this awaiter may be gone.
    const auto race = race_ = std::make_shared<Race>(call_.executor, request);
    race->timer.expires_after(call_.services.read_your_writes);
    race->timer.async_wait([race, &models = call_.services.models](const boost::system::error_code&) {
      if (race->settled.exchange(true)) return;
      models.forget(race->withdrawn());
      race->request.resume();
    });
    const auto ticket = call_.services.models.when_reached(position_, [race] {
      if (race->settled.exchange(true)) return;
      race->reached = true;
      boost::asio::post(race->timer.get_executor(), [race] {
        race->timer.cancel();
        race->request.resume();
      });
    });
    race->hold(ticket);
  }
  bool await_resume() const noexcept { return race_ == nullptr || race_->reached; }

 private:
  struct Race {
    Race(const boost::asio::any_io_executor& executor, std::coroutine_handle<> suspended)
        : timer(executor), request(suspended) {}
    void hold(projections::PositionWaiters::Ticket held) {
      std::lock_guard lock(mutex);
      ticket = held;
    }
    projections::PositionWaiters::Ticket withdrawn() {
      std::lock_guard lock(mutex);
      return ticket;
    }
    boost::asio::steady_timer timer;
    std::coroutine_handle<> request;
    std::atomic<bool> settled{false};
    bool reached = false;  // written before the request resumes
    std::mutex mutex;
    projections::PositionWaiters::Ticket ticket;
  };

  const Call& call_;
  eventstore::Position position_;
  std::shared_ptr<Race> race_;
};

}  // namespace

Task<result<pipeline::Accepted>> submit(Call& call, domain::Command command,
                                        std::optional<pipeline::Precondition> precondition,
                                        std::optional<pipeline::IdempotencyKey> key) {
  auto accepted = co_await Submission(call, std::move(command), std::move(precondition), std::move(key));
  if (accepted) {
    const std::uint64_t last = accepted.value().positions.last.value;
    std::uint64_t seen = call.accepted_up_to.load();
    while (seen < last && !call.accepted_up_to.compare_exchange_weak(seen, last)) {
    }
  }
  co_return accepted;
}

Task<result<pipeline::Accepted>> execute(Call& call, domain::Command command,
                                         std::optional<pipeline::Precondition> precondition) {
  auto accepted = co_await submit(call, std::move(command), std::move(precondition), call.idempotency);
  if (accepted && accepted.value().replayed) call.replayed = true;
  co_return accepted;
}

Task<result<void>> wait_for_models(const Call& call, eventstore::Position position) {
  const bool reached = co_await ModelsReached(call, position);
  if (reached) co_return outcome::success();
  co_return Error(errc::models_lagging, "the read models have not caught up with the log yet: try again in a moment");
}

Task<result<void>> wait_for_models(const Call& call) {
  if (call.services.pipeline == nullptr) co_return outcome::success();
  co_return co_await wait_for_models(call, eventstore::Position{call.accepted_up_to.load()});
}

Answer document_response(const result<std::optional<projections::Document>>& found, domain::errc missing,
                         std::string_view what) {
  if (!found) return found.error();
  if (!found.value()) return Error(missing, "no such " + std::string(what));
  Response response = json_response(http::status::ok, found.value()->body);
  response.set(http::field::etag, "\"" + std::to_string(found.value()->version) + "\"");
  return response;
}

Routed written(const Call& call, const pipeline::Accepted& accepted, http::status status, std::string location,
               domain::StreamId stream, DocumentView view) {
  auto events = call.services.pipeline->recorded_events(accepted);
  if (!events) co_return events.error();
  // Earlier commands' events the models have not applied yet come from the
  // log: the answer waits for no projector.
  const projections::ReadModels::StreamReader earlier = [&](std::string_view of, eventstore::StreamVersion after,
                                                            std::size_t count) {
    return call.services.pipeline->stream_events(of, after, count);
  };
  auto previewed = call.services.models.preview(events.value(), stream.str(), earlier);
  if (!previewed) co_return previewed.error();
  std::optional<projections::Document> shown = std::move(previewed).value();
  if (shown && view) shown = view(std::move(*shown));
  if (!shown) co_return Error(errc::internal, "the read models miss a document the log holds: " + location);
  Response response = json_response(status, shown->body);
  response.set(http::field::etag, "\"" + std::to_string(shown->version) + "\"");
  if (status == http::status::created || status == http::status::accepted) {
    response.set(http::field::location, location);
  }
  co_return response;
}

result<std::string> code_key(std::string_view typed) {
  auto parsed = domain::parse_code(typed);
  if (!parsed) return std::move(parsed).error();
  return parsed.value().key;
}

}  // namespace tessera::api::detail
