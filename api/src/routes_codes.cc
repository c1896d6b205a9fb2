#include <charconv>

#include "body_reader.h"
#include "csv.h"
#include "routes.h"
#include "tessera/domain/code_rules.h"
#include "tessera/domain/streams.h"

namespace tessera::api::detail {
namespace {

namespace d = tessera::domain;

constexpr std::size_t kDefaultPage = 100;
constexpr std::size_t kMaxPage = 1000;

const std::vector<std::string> kCodeColumns = {"code",  "status", "uses",     "max_uses",   "price",      "currency",
                                               "email", "name",   "batch_id", "session_id", "valid_until"};

std::string text_of(const json& value) {
  if (value.is_null()) return {};
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::vector<std::string> code_row(const json& code) {
  const json& price = code.contains("price") ? code["price"] : json();
  const json& participant = code.contains("participant") ? code["participant"] : json();
  auto field = [](const json& object, const char* key) {
    return object.is_object() && object.contains(key) ? text_of(object[key]) : std::string();
  };
  return {field(code, "code"),     field(code, "status"),     field(code, "uses"),         field(code, "max_uses"),
          field(price, "amount"),  field(price, "currency"),  field(participant, "email"), field(participant, "name"),
          field(code, "batch_id"), field(code, "session_id"), field(code, "valid_until")};
}

Routed code_written(const Call& call, const std::string& key, const pipeline::Accepted& accepted) {
  co_return co_await written(call, accepted, http::status::ok,
                             "/v1/orgs/" + call.org.str() + "/codes/" + call.segment(4), d::code_stream(key));
}

}  // namespace

Routed list_codes(Call& call) {
  BOOST_OUTCOME_CO_TRY(co_await wait_for_models(call));
  projections::CodeFilter filter{call.query_value("contract"), call.query_value("batch"), call.query_value("status")};
  if (filter.status && !domain::parse_code_status(*filter.status)) {
    std::string known;
    for (const auto status : domain::kCodeStatuses)
      known += (known.empty() ? "" : ", ") + std::string(to_string(status));
    co_return Error(d::errc::validation, "status is one of " + known);
  }
  if (call.accepts_csv()) {
    std::string out = csv_line(kCodeColumns);
    std::optional<std::string> cursor;
    do {
      auto page = call.services.models.codes(call.org, filter, cursor, kMaxPage);
      if (!page) co_return page.error();
      for (const auto& code : page.value().items) out += csv_line(code_row(code));
      cursor = page.value().next;
    } while (cursor);
    co_return csv_response(std::move(out));
  }
  std::size_t limit = kDefaultPage;
  if (auto text = call.query_value("limit")) {
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc() || end != text->data() + text->size() || limit == 0 || limit > kMaxPage) {
      co_return Error(d::errc::validation, "limit is 1 to 1000");
    }
  }
  auto page = call.services.models.codes(call.org, filter, call.query_value("cursor"), limit);
  if (!page) co_return page.error();
  co_return json_response(http::status::ok, {{"items", page.value().items},
                                             {"next", page.value().next ? json(*page.value().next) : json(nullptr)}});
}

Routed get_code(Call& call) {
  BOOST_OUTCOME_CO_TRY(key, code_key(call.segment(4)));
  BOOST_OUTCOME_CO_TRY(co_await wait_for_models(call));
  co_return document_response(call.services.models.code(call.org, key), d::errc::code_unknown, "code");
}

Routed edit_code(Call& call) {
  BOOST_OUTCOME_CO_TRY(key, code_key(call.segment(4)));
  BOOST_OUTCOME_CO_TRY(body, read_json(call));
  BodyReader in(body);
  d::EditCode command{
      call.org, key, in.optional_text("note"), in.money("price"), in.time("valid_from"), in.time("valid_until")};
  BOOST_OUTCOME_CO_TRY(in.finish());
  BOOST_OUTCOME_CO_TRY(condition, precondition(call, d::code_stream(key)));
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command), condition));
  co_return co_await code_written(call, key, accepted);
}

Routed delete_code(Call& call) {
  BOOST_OUTCOME_CO_TRY(key, code_key(call.segment(4)));
  BOOST_OUTCOME_CO_TRY(condition, precondition(call, d::code_stream(key)));
  d::Command command = d::DeleteCode{call.org, key};
  BOOST_OUTCOME_CO_TRY(co_await execute(call, std::move(command), condition));
  // The answer has no body to read back; a client's next read waits for
  // the models itself.
  Response response{http::status::no_content, 11};
  response.prepare_payload();
  co_return response;
}

Routed assign_code(Call& call) {
  BOOST_OUTCOME_CO_TRY(key, code_key(call.segment(4)));
  BOOST_OUTCOME_CO_TRY(body, read_json(call));
  BodyReader in(body);
  d::AssignCode command{call.org, key, in.participant("participant")};
  BOOST_OUTCOME_CO_TRY(in.finish());
  BOOST_OUTCOME_CO_TRY(condition, precondition(call, d::code_stream(key)));
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command), condition));
  co_return co_await code_written(call, key, accepted);
}

Routed archive_code(Call& call) {
  BOOST_OUTCOME_CO_TRY(key, code_key(call.segment(4)));
  BOOST_OUTCOME_CO_TRY(condition, precondition(call, d::code_stream(key)));
  d::Command command = d::ArchiveCode{call.org, key};
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command), condition));
  co_return co_await code_written(call, key, accepted);
}

}  // namespace tessera::api::detail
