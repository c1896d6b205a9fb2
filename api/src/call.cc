#include "call.h"

#include <charconv>

#include "problem.h"
#include "tessera/domain/code_format.h"

namespace tessera::api::detail {

namespace {
constexpr std::chrono::seconds kReadYourWrites{5};
}

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

std::variant<json, Response> read_json(const Call& call) {
  json parsed = json::parse(call.request.body(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return problem(http::status::bad_request, "malformed-json", "the body is not valid JSON");
  }
  return parsed;
}

std::variant<std::optional<pipeline::Precondition>, Response> precondition(const Call& call,
                                                                           const domain::StreamId& stream) {
  std::string value = call.header(http::field::if_match);
  if (value.empty()) return std::optional<pipeline::Precondition>();
  if (value.starts_with("W/")) value.erase(0, 2);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  std::uint64_t version = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), version);
  if (ec != std::errc() || end != value.data() + value.size()) {
    return problem(http::status::unprocessable_entity, "validation", "If-Match must name a version, such as \"3\"");
  }
  return std::optional<pipeline::Precondition>(pipeline::Precondition{stream, version});
}

std::variant<pipeline::Accepted, Response> execute(Call& call, domain::Command command,
                                                   std::optional<pipeline::Precondition> precondition) {
  auto outcome = call.services.pipeline->submit(std::move(command), std::move(precondition), call.idempotency).get();
  if (!outcome) return problem_for(outcome.error().code, outcome.error().detail);
  if (outcome.value().replayed) call.replayed = true;
  return std::move(outcome).value();
}

bool wait_for_models(const Call& call, eventstore::Position position) {
  return call.services.models.wait_for(position, kReadYourWrites);
}

bool wait_for_models(const Call& call) {
  return call.services.log == nullptr || wait_for_models(call, call.services.log->head());
}

Response document_response(const eventstore::result<std::optional<projections::Document>>& found,
                           std::string_view missing_slug, std::string_view what) {
  if (!found) return problem_for(found.error(), "the read models cannot be read");
  if (!found.value()) return problem(http::status::not_found, missing_slug, "no such " + std::string(what));
  Response response = json_response(http::status::ok, found.value()->body);
  response.set(http::field::etag, "\"" + std::to_string(found.value()->version) + "\"");
  return response;
}

std::variant<std::string, Response> code_key(std::string_view typed) {
  auto parsed = domain::parse_code(typed);
  if (!parsed) return problem_for(make_error_code(parsed.error().code), parsed.error().detail);
  return parsed.value().key;
}

}  // namespace tessera::api::detail
