#include "problem.h"

#include <nlohmann/json.hpp>
#include <string>

#include "tessera/eventstore/errc.h"
#include "tessera/pipeline/errc.h"

namespace tessera::api::detail {
namespace {

constexpr std::string_view kTypeBase = "https://tessera.dev/problems/";

http::status status_of(domain::errc e) {
  using domain::errc;
  switch (e) {
    case errc::validation:
    case errc::code_malformed:
      return http::status::unprocessable_entity;
    case errc::code_unknown:
    case errc::contract_unknown:
    case errc::session_unknown:
    case errc::invitation_unknown:
    case errc::registration_unknown:
      return http::status::not_found;
    case errc::code_expired:
    case errc::invitation_not_pending:
      return http::status::gone;
    case errc::code_restricted:
    case errc::code_assigned_elsewhere:
    case errc::invitation_bound:
      return http::status::forbidden;
    case errc::code_exhausted:
    case errc::code_not_yet_valid:
    case errc::code_archived:
    case errc::code_used:
    case errc::session_full:
    case errc::session_not_open:
    case errc::capacity_below_occupancy:
    case errc::already_exists:
    case errc::registration_not_active:
    case errc::code_invited:
      return http::status::conflict;
  }
  return http::status::internal_server_error;
}

}  // namespace

Response problem(http::status status, std::string_view slug, std::string_view detail) {
  Response response{status, 11};
  response.set(http::field::content_type, "application/problem+json");
  nlohmann::json body{{"type", std::string(kTypeBase) + std::string(slug)},
                      {"title", std::string(slug)},
                      {"status", static_cast<int>(status)},
                      {"detail", std::string(detail)}};
  response.body() = body.dump();
  response.prepare_payload();
  return response;
}

Response problem_for(const std::error_code& code, std::string_view detail) {
  if (code.category() == domain::domain_category()) {
    const auto e = static_cast<domain::errc>(code.value());
    return problem(status_of(e), domain::slug(e), detail);
  }
  if (code == pipeline::errc::precondition_failed) {
    return problem(http::status::precondition_failed, "version-conflict", detail);
  }
  if (code == pipeline::errc::idempotency_key_reused || code == eventstore::errc::idempotency_key_reused) {
    return problem(http::status::unprocessable_entity, "idempotency-key-reused", detail);
  }
  if (retry_advice(code) != retry::no) {
    Response response = problem(http::status::service_unavailable, "unavailable", detail);
    response.set(http::field::retry_after, "1");
    return response;
  }
  return problem(http::status::internal_server_error, "internal", detail);
}

}  // namespace tessera::api::detail
