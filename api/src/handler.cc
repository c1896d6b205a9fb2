#include "tessera/api/handler.h"

#include <string>
#include <vector>

#include "body_reader.h"
#include "problem.h"
#include "tessera/codec/json.h"
#include "tessera/domain/code_format.h"

namespace tessera::api {
namespace {

using detail::BodyReader;
using detail::problem;
using detail::problem_for;
using nlohmann::json;
namespace d = tessera::domain;

// How long a query waits for the read models to reach the log's head, so
// that a client reads its own writes.
constexpr std::chrono::seconds kReadYourWrites{2};
constexpr std::size_t kCodesListedInBatch = 1000;

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

std::vector<std::string_view> split_path(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::vector<std::string_view> parts;
  while (!target.empty()) {
    if (target.front() == '/') {
      target.remove_prefix(1);
      continue;
    }
    const auto slash = target.find('/');
    parts.push_back(target.substr(0, slash));
    target = slash == std::string_view::npos ? std::string_view() : target.substr(slash);
  }
  return parts;
}

// Runs a command through the pipeline; the events it appended, or the problem.
std::variant<d::Events, Response> execute(pipeline::Pipeline& pipeline, d::Command command) {
  auto outcome = pipeline.submit(std::move(command)).get();
  if (!outcome) return problem_for(outcome.error().code, outcome.error().detail);
  return std::move(outcome).value().events;
}

template <class E>
const E* first_of(const d::Events& events) {
  for (const auto& e : events) {
    if (const auto* found = std::get_if<E>(&e.event)) return found;
  }
  return nullptr;
}

json contract_json(const d::ContractCreated& e) {
  return {{"id", e.contract.str()},
          {"name", e.name},
          {"reuse_cancelled_codes", e.reuse_cancelled_codes},
          {"default_price", e.default_price ? json(*e.default_price) : json(nullptr)}};
}

json session_json(const d::SessionCreated& e) {
  return {{"id", e.session.str()},
          {"name", e.name},
          {"capacity", e.capacity},
          {"contract_id", e.contract ? json(e.contract->str()) : json(nullptr)},
          {"opens_at", e.opens_at ? json(*e.opens_at) : json(nullptr)}};
}

json batch_json(const d::BatchGenerated& e, const d::Events& events) {
  json body = codec::event_to_json(e);
  body.erase("org");
  body.erase("batch_id");
  body["id"] = e.batch.str();
  json codes = json::array();
  for (const auto& se : events) {
    if (codes.size() == kCodesListedInBatch) break;
    if (const auto* issued = std::get_if<d::CodeIssued>(&se.event)) {
      codes.push_back({{"code", issued->code},
                       {"status", issued->assignee ? "assigned" : "available"},
                       {"uses", 0},
                       {"max_uses", e.max_uses},
                       {"participant", issued->assignee ? json(*issued->assignee) : json(nullptr)}});
    }
  }
  body["codes"] = std::move(codes);
  return body;
}

json registration_json(const d::RegistrationCreated& e) {
  return {{"id", e.registration.str()},
          {"code", e.code ? json(*e.code) : json(nullptr)},
          {"participant", e.participant},
          {"session_id", e.session.str()},
          {"price", e.price ? json(*e.price) : json(nullptr)},
          {"status", "active"},
          {"access_from", e.access_from},
          {"access_until", e.access_until ? json(*e.access_until) : json(nullptr)}};
}

class Routes {
 public:
  Routes(const Services& services, const Request& request)
      : services_(services), request_(request), path_(split_path(std::string_view(request.target().data(), request.target().size()))) {}

  Response dispatch() {
    if (matches({"healthz"})) return only(http::verb::get, [&] { return healthz(); });
    if (matches({"v1", "status"})) return only(http::verb::get, [&] { return status(); });
    if (path_.size() < 4 || path_[0] != "v1" || path_[1] != "orgs") return not_found();
    const d::OrgId org{std::string(path_[2])};
    if (matches({"v1", "orgs", "*", "contracts"})) {
      return only(http::verb::post, [&] { return create_contract(org); });
    }
    if (matches({"v1", "orgs", "*", "sessions"})) {
      return only(http::verb::post, [&] { return create_session(org); });
    }
    if (matches({"v1", "orgs", "*", "contracts", "*", "batches"})) {
      return only(http::verb::post, [&] { return generate(org, d::ContractId{std::string(path_[4])}); });
    }
    if (matches({"v1", "orgs", "*", "redemptions"})) return only(http::verb::post, [&] { return redeem(org); });
    if (matches({"v1", "orgs", "*", "sessions", "*", "seats"})) {
      return only(http::verb::get, [&] { return seats(org, d::SessionId{std::string(path_[4])}); });
    }
    return not_found();
  }

 private:
  bool matches(std::initializer_list<std::string_view> pattern) const {
    if (pattern.size() != path_.size()) return false;
    std::size_t i = 0;
    for (auto part : pattern) {
      if (part != "*" && part != path_[i]) return false;
      ++i;
    }
    return true;
  }

  template <class F>
  Response only(http::verb verb, F&& f) {
    if (request_.method() != verb) {
      Response response = problem(http::status::method_not_allowed, "method-not-allowed",
                                  "this resource answers " + std::string(http::to_string(verb)));
      response.set(http::field::allow, http::to_string(verb));
      return response;
    }
    return f();
  }

  Response not_found() const { return problem(http::status::not_found, "not-found", "no such resource"); }

  // The body as JSON, or the problem with it.
  std::variant<json, Response> body() const {
    json parsed = json::parse(request_.body(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return problem(http::status::bad_request, "malformed-json", "the body is not valid JSON");
    }
    return parsed;
  }

  Response invalid(const std::string& detail) const {
    return problem(http::status::unprocessable_entity, "validation", detail);
  }

  Response healthz() const { return json_response(http::status::ok, {{"status", "ok"}}); }

  Response status() const {
    json body = services_.status ? services_.status() : json::object();
    body["log_position"] = services_.log.head().value;
    body["projection_position"] = services_.models.checkpoint().value;
    return json_response(http::status::ok, body);
  }

  Response create_contract(const d::OrgId& org) {
    auto parsed = body();
    if (auto* r = std::get_if<Response>(&parsed)) return std::move(*r);
    BodyReader in(std::get<json>(parsed));
    d::CreateContract command{org, d::ContractId{services_.pipeline.new_id()}, in.text("name", true),
                              in.flag("reuse_cancelled_codes", false), in.money("default_price")};
    if (in.problem()) return invalid(*in.problem());
    auto result = execute(services_.pipeline, std::move(command));
    if (auto* r = std::get_if<Response>(&result)) return std::move(*r);
    const auto& e = *first_of<d::ContractCreated>(std::get<d::Events>(result));
    return created(contract_json(e), "/v1/orgs/" + org.str() + "/contracts/" + e.contract.str());
  }

  Response create_session(const d::OrgId& org) {
    auto parsed = body();
    if (auto* r = std::get_if<Response>(&parsed)) return std::move(*r);
    BodyReader in(std::get<json>(parsed));
    d::CreateSession command{org, d::SessionId{services_.pipeline.new_id()}, in.text("name", true),
                             in.count("capacity", std::nullopt), std::nullopt, in.time("opens_at")};
    if (auto contract = in.optional_text("contract_id")) command.contract = d::ContractId{*contract};
    if (in.problem()) return invalid(*in.problem());
    auto result = execute(services_.pipeline, std::move(command));
    if (auto* r = std::get_if<Response>(&result)) return std::move(*r);
    const auto& e = *first_of<d::SessionCreated>(std::get<d::Events>(result));
    return created(session_json(e), "/v1/orgs/" + org.str() + "/sessions/" + e.session.str());
  }

  Response generate(const d::OrgId& org, const d::ContractId& contract) {
    auto parsed = body();
    if (auto* r = std::get_if<Response>(&parsed)) return std::move(*r);
    BodyReader in(std::get<json>(parsed));
    d::GenerateBatch command;
    command.org = org;
    command.batch = d::BatchId{services_.pipeline.new_id()};
    command.contract = contract;
    command.participants = in.participants("participants");
    command.quantity = in.count("quantity", command.participants.empty() ? std::nullopt : std::optional(0U));
    if (auto session = in.optional_text("session_id")) command.session = d::SessionId{*session};
    command.price = in.money("price");
    command.note = in.text("note", false);
    command.valid_from = in.time("valid_from");
    command.valid_until = in.time("valid_until");
    command.max_uses = in.count("max_uses", 1U);
    command.restrictions = in.restrictions("restrictions");
    command.prefix = in.text("prefix", false);
    if (in.problem()) return invalid(*in.problem());
    auto result = execute(services_.pipeline, std::move(command));
    if (auto* r = std::get_if<Response>(&result)) return std::move(*r);
    const auto& events = std::get<d::Events>(result);
    const auto& e = *first_of<d::BatchGenerated>(events);
    return created(batch_json(e, events), "/v1/orgs/" + org.str() + "/codes?batch=" + e.batch.str());
  }

  Response redeem(const d::OrgId& org) {
    auto parsed = body();
    if (auto* r = std::get_if<Response>(&parsed)) return std::move(*r);
    BodyReader in(std::get<json>(parsed));
    const std::string typed = in.text("code", true);
    d::Redeem command;
    command.org = org;
    command.participant = in.participant("participant");
    if (auto session = in.optional_text("session_id")) command.session = d::SessionId{*session};
    command.registration = d::RegistrationId{services_.pipeline.new_id()};
    if (in.problem()) return invalid(*in.problem());
    auto code = d::parse_code(typed);
    if (!code) return problem_for(make_error_code(code.error().code), code.error().detail);
    command.code_key = code.value().key;
    auto result = execute(services_.pipeline, std::move(command));
    if (auto* r = std::get_if<Response>(&result)) return std::move(*r);
    const auto& e = *first_of<d::RegistrationCreated>(std::get<d::Events>(result));
    return created(registration_json(e), "/v1/orgs/" + org.str() + "/registrations/" + e.registration.str());
  }

  Response seats(const d::OrgId& org, const d::SessionId& session) {
    services_.models.wait_for(services_.log.head(), kReadYourWrites);
    auto found = services_.models.seats(org, session);
    if (!found) return problem_for(found.error(), "the read models cannot be read");
    if (!found.value()) return problem(http::status::not_found, "session-unknown", "no session " + session.str());
    const auto& s = *found.value();
    return json_response(http::status::ok, {{"capacity", s.capacity},
                                            {"reserved", s.reserved},
                                            {"registered", s.registered},
                                            {"available", s.available()}});
  }

  const Services& services_;
  const Request& request_;
  std::vector<std::string_view> path_;
};

}  // namespace

Response Handler::handle(const Request& request) const {
  Response response = Routes(services_, request).dispatch();
  response.keep_alive(request.keep_alive());
  response.set(http::field::server, "tesserad");
  return response;
}

}  // namespace tessera::api
