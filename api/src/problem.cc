#include "tessera/api/problem.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tessera/api/errc.h"
#include "tessera/domain/errc.h"
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
    case errc::batch_unknown:
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
    case errc::batch_not_ready:
      return http::status::conflict;
  }
  return http::status::internal_server_error;
}

http::status status_of(api::errc e) {
  switch (e) {
    case api::errc::malformed_json:
    case api::errc::bad_request:
      return http::status::bad_request;
    case api::errc::headers_too_large:
      return http::status::request_header_fields_too_large;
    case api::errc::payload_too_large:
      return http::status::payload_too_large;
    case api::errc::route_unknown:
      return http::status::not_found;
    case api::errc::method_not_allowed:
      return http::status::method_not_allowed;
    case api::errc::models_lagging:
      return http::status::service_unavailable;
    case api::errc::rate_limited:
      return http::status::too_many_requests;
    case api::errc::internal:
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

http::status status_by_advice(retry advice) {
  switch (advice) {
    case retry::call:
      return http::status::service_unavailable;
    case retry::command:
      return http::status::conflict;
    case retry::no:
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

bool named_by_us(const std::error_code& code) {
  return code.category() == domain::domain_category() || code.category() == api::api_category() ||
         code.category() == pipeline::pipeline_category();
}

// The last segment of the problem's type: our categories' messages are
// slugs; another layer's error is named by what the client can do about it.
std::string slug_of(const Error& error, http::status status) {
  if (named_by_us(error.code)) return error.code.message();
  switch (status) {
    case http::status::service_unavailable:
      return "unavailable";
    case http::status::conflict:
      return "conflict";
    default:
      return "internal";
  }
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

http::status status_for(const Error& error) {
  const std::error_code& code = error.code;
  if (code.category() == domain::domain_category()) return status_of(static_cast<domain::errc>(code.value()));
  if (code.category() == api::api_category()) return status_of(static_cast<api::errc>(code.value()));
  if (code == pipeline::errc::precondition_failed) return http::status::precondition_failed;
  if (code == pipeline::errc::idempotency_key_reused) return http::status::unprocessable_entity;
  return status_by_advice(error.advice());
}

Response problem_for(const Error& error) {
  const http::status status = status_for(error);
  if (status == http::status::internal_server_error) {
    spdlog::error("answering 500 internal: {} [{}:{}]", error.message(), error.code.category().name(),
                  error.code.value());
  }
  Response response = problem(status, slug_of(error, status), error.message());
  if (status == http::status::service_unavailable || error.advice() == retry::call) {
    response.set(http::field::retry_after, "1");
  }
  return response;
}

}  // namespace tessera::api::detail
