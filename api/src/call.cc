#include "call.h"

#include <charconv>

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

result<pipeline::Accepted> execute(Call& call, domain::Command command,
                                   std::optional<pipeline::Precondition> precondition) {
  auto accepted = call.services.pipeline->submit(std::move(command), std::move(precondition), call.idempotency).get();
  if (accepted && accepted.value().replayed) call.replayed = true;
  return accepted;
}

result<void> wait_for_models(const Call& call, eventstore::Position position) {
  if (call.services.models.wait_for(position, call.services.read_your_writes)) return outcome::success();
  return Error(errc::models_lagging, "the read models have not caught up with the log yet: try again in a moment");
}

result<void> wait_for_models(const Call& call) {
  if (call.services.pipeline == nullptr) return outcome::success();
  return wait_for_models(call, call.services.pipeline->head());
}

Answer document_response(const result<std::optional<projections::Document>>& found, domain::errc missing,
                         std::string_view what) {
  if (!found) return found.error();
  if (!found.value()) return Error(missing, "no such " + std::string(what));
  Response response = json_response(http::status::ok, found.value()->body);
  response.set(http::field::etag, "\"" + std::to_string(found.value()->version) + "\"");
  return response;
}

Answer written(const Call& call, const pipeline::Accepted& accepted, http::status status, const std::string& location,
               const DocumentRead& read) {
  if (!wait_for_models(call, accepted.positions.last)) {
    Response response =
        json_response(http::status::accepted,
                      {{"status", "accepted"},
                       {"log_position", accepted.positions.last.value},
                       {"detail", "the command is durable; its resource is readable once the read models catch up"}});
    response.set(http::field::location, location);
    return response;
  }
  auto found = read();
  if (!found) return found.error();
  if (!found.value()) return Error(errc::internal, "the read models miss a document the log holds: " + location);
  Response response = json_response(status, found.value()->body);
  response.set(http::field::etag, "\"" + std::to_string(found.value()->version) + "\"");
  if (status == http::status::created) response.set(http::field::location, location);
  return response;
}

result<std::string> code_key(std::string_view typed) {
  auto parsed = domain::parse_code(typed);
  if (!parsed) return std::move(parsed).error();
  return parsed.value().key;
}

}  // namespace tessera::api::detail
