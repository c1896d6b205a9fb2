#include <string>

#include "body_reader.h"
#include "csv.h"
#include "routes.h"
#include "tessera/api/errc.h"
#include "tessera/codec/json.h"
#include "tessera/domain/code_rules.h"
#include "tessera/domain/streams.h"
#include "tessera/pipeline/errc.h"

namespace tessera::api::detail {
namespace {

namespace d = tessera::domain;

constexpr std::size_t kCodesListedInBatch = 1000;

d::ContractId contract_id(const Call& call) { return d::ContractId{call.segment(4)}; }

Routed contract_written(const Call& call, const d::ContractId& id, const pipeline::Accepted& accepted,
                        http::status status) {
  co_return co_await written(call, accepted, status, "/v1/orgs/" + call.org.str() + "/contracts/" + id.str(),
                             d::contract_stream(call.org, id));
}

// The first codes a batch decided at once issued, for its answer (a batch's
// document lists none; larger batches are read through the code list).
json listed_codes(const d::BatchGenerated& e, const d::Events& events) {
  json codes = json::array();
  for (const auto& se : events) {
    if (codes.size() == kCodesListedInBatch) break;
    if (const auto* issued = std::get_if<d::CodeIssued>(&se.event)) {
      const auto price = d::own_else_batch(issued->price, e.price);
      const auto status = d::code_status({false, 0, e.max_uses, issued->assignee.has_value()});
      codes.push_back({{"code", issued->code},
                       {"status", d::to_string(status)},
                       {"uses", 0},
                       {"max_uses", e.max_uses},
                       {"price", price ? json(*price) : json(nullptr)},
                       {"participant", issued->assignee ? json(*issued->assignee) : json(nullptr)}});
    }
  }
  return codes;
}

std::string batch_location(const Call& call, const d::BatchId& id) {
  return "/v1/orgs/" + call.org.str() + "/batches/" + id.str();
}

// The participants CSV's columns, in order.
const std::vector<std::string> kParticipantColumns = {"email",       "name", "group", "region",
                                                      "external_id", "code", "status"};

}  // namespace

Routed create_contract(Call& call) {
  BOOST_OUTCOME_CO_TRY(body, read_json(call));
  BodyReader in(body);
  d::CreateContract command{call.org, d::ContractId{call.services.pipeline->new_id()}, in.text("name", true),
                            in.flag("reuse_cancelled_codes", false), in.money("default_price")};
  BOOST_OUTCOME_CO_TRY(in.finish());
  d::ContractId id = command.contract;
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command)));
  if (const auto* created = first_event<d::ContractCreated>(accepted)) id = created->contract;
  co_return co_await contract_written(call, id, accepted, http::status::created);
}

Routed get_contract(Call& call) {
  BOOST_OUTCOME_CO_TRY(co_await wait_for_models(call));
  co_return document_response(call.services.models.contract(call.org, contract_id(call)), d::errc::contract_unknown,
                              "contract");
}

Routed configure_contract(Call& call) {
  BOOST_OUTCOME_CO_TRY(body, read_json(call));
  BodyReader in(body);
  d::ConfigureContract command{call.org, contract_id(call), in.optional_text("name"), std::nullopt, std::nullopt};
  if (body.is_object() && body.contains("reuse_cancelled_codes")) {
    command.reuse_cancelled_codes = in.flag("reuse_cancelled_codes", false);
  }
  if (body.is_object() && body.contains("default_price")) command.default_price = in.money("default_price");
  BOOST_OUTCOME_CO_TRY(in.finish());
  BOOST_OUTCOME_CO_TRY(condition, precondition(call, d::contract_stream(call.org, command.contract)));
  const d::ContractId id = command.contract;
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command), condition));
  co_return co_await contract_written(call, id, accepted, http::status::ok);
}

Routed contract_summary(Call& call) {
  BOOST_OUTCOME_CO_TRY(co_await wait_for_models(call));
  auto found = call.services.models.summary(call.org, contract_id(call));
  if (!found) co_return found.error();
  if (!found.value()) co_return Error(d::errc::contract_unknown, "no such contract");
  co_return json_response(http::status::ok, *found.value());
}

Routed generate_batch(Call& call) {
  BOOST_OUTCOME_CO_TRY(body, read_json(call));
  BodyReader in(body);
  d::GenerateBatch command;
  command.org = call.org;
  command.batch = d::BatchId{call.services.pipeline->new_id()};
  command.contract = contract_id(call);
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
  BOOST_OUTCOME_CO_TRY(in.finish());
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command)));
  const auto* generated = first_event<d::BatchGenerated>(accepted);
  if (generated == nullptr) co_return Error(errc::internal, "an accepted batch recorded no BatchGenerated");
  // A batch generated in chunks is a job: 202, its document counting the
  // codes generated so far, which GET .../batches/{id} follows.
  const http::status status = generated->in_chunks ? http::status::accepted : http::status::created;
  DocumentView with_codes = [codes = listed_codes(*generated, accepted.events),
                             at_once = !generated->in_chunks](projections::Document doc) {
    if (at_once) doc.body["codes"] = codes;
    return std::optional(std::move(doc));
  };
  co_return co_await written(call, accepted, status, batch_location(call, generated->batch),
                             d::batch_stream(call.org, generated->batch), std::move(with_codes));
}

Routed get_batch(Call& call) {
  BOOST_OUTCOME_CO_TRY(co_await wait_for_models(call));
  co_return document_response(call.services.models.batch(call.org, d::BatchId{call.segment(4)}), d::errc::batch_unknown,
                              "batch");
}

Routed download_participants(Call& call) {
  BOOST_OUTCOME_CO_TRY(co_await wait_for_models(call));
  auto found = call.services.models.participants(call.org, contract_id(call));
  if (!found) co_return found.error();
  std::string out = csv_line(kParticipantColumns);
  for (const auto& code : found.value()) {
    const json& p = code.contains("participant") && code["participant"].is_object() ? code["participant"] : json();
    auto field = [&](const char* key) { return p.is_object() ? p.value(key, std::string()) : std::string(); };
    out += csv_line({field("email"), field("name"), field("group"), field("region"), field("external_id"),
                     code.value("code", std::string()), code.value("status", std::string())});
  }
  co_return csv_response(std::move(out));
}

namespace {

struct ParticipantRow {
  std::size_t line = 0;
  d::Participant participant;
  std::optional<d::Money> price;
  std::string error;  // why the row cannot be taken, if it cannot
};

// Reads the uploaded CSV: a header row naming the columns (email required;
// name, group, region, external_id, price, currency optional), then a row per
// participant.
result<std::vector<ParticipantRow>> read_participants(const std::string& text) {
  auto records = parse_csv(text);
  if (!records) return Error(d::errc::validation, "the CSV has an unclosed quote");
  if (records->empty()) return Error(d::errc::validation, "the CSV has no header row");
  std::map<std::string, std::size_t> column;
  for (std::size_t i = 0; i < records->front().fields.size(); ++i) {
    std::string name = records->front().fields[i];
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    column[name] = i;
  }
  if (!column.contains("email")) {
    return Error(d::errc::validation, "the CSV's header row has no email column");
  }
  auto cell = [&](const CsvRecord& r, const char* name) -> std::string {
    const auto it = column.find(name);
    return (it != column.end() && it->second < r.fields.size()) ? r.fields[it->second] : std::string();
  };
  std::vector<ParticipantRow> rows;
  for (std::size_t i = 1; i < records->size(); ++i) {
    const CsvRecord& r = (*records)[i];
    ParticipantRow row{r.line,
                       {cell(r, "email"), cell(r, "name"), cell(r, "group"), cell(r, "region"), cell(r, "external_id")},
                       std::nullopt,
                       {}};
    if (!d::plausible_email(row.participant.email)) row.error = "email must be an email address";
    const std::string amount = cell(r, "price");
    if (!amount.empty()) {
      try {
        std::size_t used = 0;
        const long long value = std::stoll(amount, &used);
        if (used != amount.size()) throw std::invalid_argument(amount);
        row.price = d::Money{value, cell(r, "currency")};
      } catch (const std::exception&) {
        row.error = "price must be a whole number of minor units";
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// The code a row's key assigned before (a retried upload), if it did; the
// refusal when the key was first used for another upload.
result<std::optional<std::string>> assigned_before(const Call& call, const pipeline::IdempotencyKey& key) {
  BOOST_OUTCOME_TRY(recorded, call.services.pipeline->recorded(key));
  if (!recorded) return std::optional<std::string>();
  if (recorded->events.empty()) return Error(errc::internal, "a recorded assignment holds no event");
  return d::code_key_of_stream(recorded->events.front().stream);
}

// A code's display form, as the read models have it.
std::string display_of(const Call& call, const std::string& key) {
  auto code = call.services.models.code(call.org, key);
  return (code && code.value()) ? code.value()->body.value("code", key) : key;
}

json row_json(const ParticipantRow& row, const std::string& code, const std::string& reason) {
  return {{"line", row.line},
          {"email", row.participant.email},
          {"code", code.empty() ? json(nullptr) : json(code)},
          {"result", reason.empty() ? "assigned" : "error"},
          {"reason", reason.empty() ? json(nullptr) : json(reason)}};
}

// Assigns each valid row a code from the contract's pool; a code taken by
// someone else meanwhile is skipped for the next one.
Routed assign_from_pool(Call& call, const std::vector<ParticipantRow>& rows) {
  const d::ContractId contract = contract_id(call);
  auto pool = call.services.models.pool(call.org, contract, rows.size() * 2 + 16);
  if (!pool) co_return pool.error();
  std::size_t next = 0;
  json out = json::array();
  for (const auto& row : rows) {
    if (!row.error.empty()) {
      out.push_back(row_json(row, "", row.error));
      continue;
    }
    std::string assigned;
    std::string reason = "no available code left in the contract's pool";
    // Under an Idempotency-Key each row's assignment is keyed apart: a retry
    // of the upload gives a row the code it was given the first time.
    std::optional<pipeline::IdempotencyKey> row_key;
    if (call.idempotency) {
      // A unit separator: no client key holds one, so no client key reads as a row's.
      row_key = pipeline::IdempotencyKey{call.idempotency->key + "\x1fline " + std::to_string(row.line),
                                         call.idempotency->fingerprint};
      BOOST_OUTCOME_CO_TRY(before, assigned_before(call, *row_key));
      if (before) {
        call.replayed = true;
        out.push_back(row_json(row, display_of(call, *before), ""));
        continue;
      }
    }
    while (next < pool.value().size()) {
      std::string key = pool.value()[next++];
      d::Command command = d::AssignCode{call.org, key, row.participant};
      auto outcome = co_await submit(call, std::move(command), std::nullopt, row_key);
      if (outcome) {
        if (outcome.value().replayed) {
          // A concurrent retry of the upload assigned this row first.
          call.replayed = true;
          if (!outcome.value().events.empty()) {
            key = d::code_key_of_stream(outcome.value().events.front().stream).value_or(key);
          }
        }
        assigned = display_of(call, key);
        reason.clear();
        break;
      }
      const Error& why = outcome.error();
      if (why == pipeline::errc::idempotency_key_reused || why.advice() != retry::no) co_return why;
      if (!d::taken_meanwhile(why.code)) {
        reason = why.message();  // a problem with the row itself
        break;
      }
    }
    out.push_back(row_json(row, assigned, reason));
  }
  co_return json_response(http::status::ok, {{"rows", std::move(out)}});
}

// Makes a new code, assigned to its row's participant, for each valid row, in
// one batch (priced per row where the row gives a price).
Routed generate_for_rows(Call& call, const std::vector<ParticipantRow>& rows) {
  d::GenerateBatch command;
  command.org = call.org;
  command.batch = d::BatchId{call.services.pipeline->new_id()};
  command.contract = contract_id(call);
  if (auto session = call.query_value("session_id")) command.session = d::SessionId{*session};
  bool priced = false;
  for (const auto& row : rows) priced = priced || row.price.has_value();
  for (const auto& row : rows) {
    if (!row.error.empty()) continue;
    command.participants.push_back(row.participant);
    if (priced) command.participant_prices.push_back(row.price);
  }
  json out = json::array();
  if (command.participants.empty()) {
    for (const auto& row : rows) out.push_back(row_json(row, "", row.error));
    co_return json_response(http::status::ok, {{"rows", std::move(out)}});
  }
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command)));
  std::size_t issued = 0;
  std::vector<std::string> codes;
  for (const auto& e : accepted.events) {
    if (const auto* code = std::get_if<d::CodeIssued>(&e.event)) codes.push_back(code->code);
  }
  for (const auto& row : rows) {
    out.push_back(row.error.empty() ? row_json(row, codes[issued++], "") : row_json(row, "", row.error));
  }
  // As for a batch: the rows are made of the events.
  co_return json_response(http::status::ok, {{"rows", std::move(out)}});
}

}  // namespace

Routed upload_participants(Call& call) {
  BOOST_OUTCOME_CO_TRY(co_await wait_for_models(call));
  auto contract = call.services.models.contract(call.org, contract_id(call));
  if (!contract) co_return contract.error();
  if (!contract.value()) co_return Error(d::errc::contract_unknown, "no such contract");
  BOOST_OUTCOME_CO_TRY(rows, read_participants(call.request.body()));
  const std::string mode = call.query_value("mode").value_or("pool");
  if (mode == "generate") co_return co_await generate_for_rows(call, rows);
  if (mode != "pool") co_return Error(d::errc::validation, "mode is pool or generate");
  co_return co_await assign_from_pool(call, rows);
}

}  // namespace tessera::api::detail
