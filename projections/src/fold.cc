#include "fold.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <numeric>
#include <type_traits>

#include "keys.h"
#include "tessera/domain/streams.h"
#include "tessera/eventstore/errc.h"

namespace tessera::projections::detail {
namespace {

template <class... Ts>
struct Visitor : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Visitor(Ts...) -> Visitor<Ts...>;

namespace d = tessera::domain;
using eventstore::errc;

bool creates(const d::Event& event) {
  return std::holds_alternative<d::ContractCreated>(event) || std::holds_alternative<d::SessionCreated>(event) ||
         std::holds_alternative<d::BatchGenerated>(event) || std::holds_alternative<d::CodeIssued>(event) ||
         std::holds_alternative<d::InvitationSent>(event) || std::holds_alternative<d::RegistrationCreated>(event);
}

// counter += delta, never below zero (a model fed a log it cannot fully
// trust degrades to a wrong count, not to a wrapped one).
template <class N>
void add(N& counter, std::int64_t delta) {
  constexpr auto kMax = static_cast<std::int64_t>(
      std::min<std::uint64_t>(std::numeric_limits<N>::max(), std::numeric_limits<std::int64_t>::max()));
  counter = static_cast<N>(std::clamp<std::int64_t>(static_cast<std::int64_t>(counter) + delta, 0, kMax));
}

std::string code_key_of_stream(const std::string& stream) {
  constexpr std::string_view kPrefix = "code-";
  return stream.substr(std::min(stream.size(), kPrefix.size()));
}

Entries invitation_entries(const std::optional<InvitationDoc>& doc) {
  Entries entries;
  if (!doc || doc->status != d::InvitationStatus::pending) return entries;
  entries.emplace_back(keys::roster_invitations(doc->org.str(), doc->session.str()) + keys::be64(doc->pos),
                       doc->id.str());
  if (doc->expires_at) entries.emplace_back(keys::due(doc->expires_at->micros, doc->id.str()), std::string());
  return entries;
}

Entries batch_entries(const std::optional<BatchDoc>& doc) {
  Entries entries;
  if (doc && d::batch_status(doc->generated, doc->quantity) == d::BatchStatus::generating) {
    entries.emplace_back(keys::generating(doc->org.str(), doc->id.str()), std::string());
  }
  return entries;
}

Entries registration_entries(const std::optional<RegistrationDoc>& doc) {
  Entries entries;
  if (!doc || doc->status != d::RegistrationStatus::active) return entries;
  entries.emplace_back(keys::roster_registrations(doc->org.str(), doc->session.str()) + keys::be64(doc->pos),
                       doc->id.str());
  return entries;
}

}  // namespace

Fold::Fold(rocksdb::DB& db, eventstore::Position applied_up_to) : db_(db), applied_up_to_(applied_up_to) {}

template <class Doc>
result<std::optional<Doc>*> Fold::find(const std::string& key, bool none_stored) {
  auto& docs = overlay<Doc>();
  if (auto it = docs.find(key); it != docs.end()) return &it->second.doc;
  if (none_stored) return &docs[key].doc;
  std::string value;
  const auto s = db_.Get(rocksdb::ReadOptions(), key, &value);
  if (s.IsNotFound()) return &docs[key].doc;  // nullopt: no document yet
  if (!s.ok()) return Error(errc::io_error, "read models: reading " + key + ": " + s.ToString());
  auto decoded = decode<Doc>(key, value);
  if (!decoded) return decoded.error();
  return &(docs[key].doc = std::move(decoded).value());
}

template <class Doc>
result<std::optional<Doc>*> Fold::edit(const std::string& key) {
  auto found = find<Doc>(key);
  if (found) overlay<Doc>().at(key).dirty = true;
  return found;
}

template <class Doc, class FoldInto>
result<bool> Fold::fold(const eventstore::RecordedEvent& recorded, const d::Event& event, FoldInto&& fold_into) {
  const std::string key = keys::doc(recorded.stream);
  // The stream's first event, never applied (fold.h): nothing stored yet.
  const bool first_of_stream = recorded.version.value == 1 && recorded.position > applied_up_to_;
  auto found = find<Doc>(key, first_of_stream);
  if (!found) return found.error();
  std::optional<Doc>& doc = *found.value();
  if (doc ? recorded.version.value <= doc->version : !creates(event)) {
    return false;  // already applied, or no such document
  }
  overlay<Doc>().at(key).dirty = true;
  if constexpr (std::is_void_v<std::invoke_result_t<FoldInto&, std::optional<Doc>&>>) {
    fold_into(doc);
  } else {
    if (auto folded = fold_into(doc); !folded) return folded.error();
  }
  if (!doc) return false;  // an event that creates another kind of document
  // An event the document did not take (of another aggregate) leaves it as
  // it was, at the stream's new version.
  doc->version = recorded.version.value;
  return true;
}

void Fold::reindex(const Entries& before, const Entries& after) {
  const auto in = [](const Entries& entries, const std::string& key) {
    return std::ranges::find(entries, key, &Entries::value_type::first);
  };
  for (const auto& [key, value] : before) {
    if (in(after, key) == after.end()) remove(key);
  }
  for (const auto& [key, value] : after) {
    const auto it = in(before, key);
    if (it == before.end() || it->second != value) put(key, value);
  }
}

void Fold::put(const std::string& key, const std::string& value) {
  if (key.starts_with(keys::kOrphansPrefix)) orphan_changes_[key] = value;
  changes_.emplace_back(key, value);
}

void Fold::remove(const std::string& key) {
  if (key.starts_with(keys::kOrphansPrefix)) orphan_changes_[key] = std::nullopt;
  changes_.emplace_back(key, std::nullopt);
}

result<std::vector<std::string>> Fold::orphans(const std::string& prefix) {
  std::map<std::string, std::optional<std::string>> found;
  const std::string end = keys::prefix_end(prefix);
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(options));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    found.emplace(it->key().ToString(), it->value().ToString());
  }
  if (!it->status().ok()) return Error(errc::io_error, "read models: " + it->status().ToString());
  for (auto change = orphan_changes_.lower_bound(prefix);
       change != orphan_changes_.end() && change->first.starts_with(prefix); ++change) {
    found[change->first] = change->second;
  }
  std::vector<std::string> code_keys;
  for (auto& [key, code_key] : found) {
    if (code_key) code_keys.push_back(std::move(*code_key));
  }
  return code_keys;
}

rocksdb::WriteBatch& Fold::write() {
  std::apply(
      [&](auto&... overlays) {
        const auto put_changed = [&](auto& docs) {
          for (auto& [key, read] : docs) {
            if (read.dirty && read.doc) changes_.emplace_back(key, encode(*read.doc));
          }
        };
        (put_changed(overlays), ...);
      },
      overlays_);
  // In key order, the last change of a key alone: each insert into the
  // memtable starts from where the one before it ended. Sorted through
  // indexes, not by moving the changes.
  std::vector<std::uint32_t> order(changes_.size());
  std::iota(order.begin(), order.end(), 0U);
  std::ranges::sort(order, [&](std::uint32_t a, std::uint32_t b) {
    const int by_key = changes_[a].first.compare(changes_[b].first);
    return by_key != 0 ? by_key < 0 : a < b;
  });
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& [key, value] = changes_[order[i]];
    if (i + 1 < order.size() && changes_[order[i + 1]].first == key) continue;
    if (value) {
      batch_.Put(key, *value);
    } else {
      batch_.Delete(key);
    }
  }
  changes_.clear();
  return batch_;
}

result<bool> Fold::apply(const eventstore::RecordedEvent& recorded, const d::Event& event) {
  const auto category = d::stream_category(recorded.stream);
  if (category == "contract") {
    return fold<ContractDoc>(recorded, event, [&](auto& doc) { apply_contract(doc, event); });
  }
  if (category == "session") {
    return fold<SessionDoc>(recorded, event, [&](auto& doc) { apply_session(doc, event); });
  }
  if (category == "batch") {
    return fold<BatchDoc>(recorded, event, [&](auto& doc) { return apply_batch(doc, event); });
  }
  if (category == "code") {
    const auto code_key = code_key_of_stream(recorded.stream);
    return fold<CodeDoc>(recorded, event, [&](auto& doc) { return apply_code(doc, code_key, event, recorded); });
  }
  if (category == "invitation") {
    return fold<InvitationDoc>(recorded, event, [&](auto& doc) { apply_invitation(doc, event, recorded); });
  }
  if (category == "registration") {
    return fold<RegistrationDoc>(recorded, event, [&](auto& doc) { apply_registration(doc, event, recorded); });
  }
  return false;
}

namespace {

template <class Doc>
std::optional<Document> served_form(const std::optional<Doc>& doc) {
  if (!doc) return std::nullopt;
  std::optional<nlohmann::json> shown = body(*doc);
  if (!shown) return std::nullopt;
  return Document{std::move(*shown), doc->version};
}

}  // namespace

result<std::optional<Document>> Fold::served(std::string_view stream) {
  const auto shown = [&]<class Doc>(Doc*) -> result<std::optional<Document>> {
    auto found = find<Doc>(keys::doc(stream));
    if (!found) return found.error();
    return served_form(*found.value());
  };
  const auto category = d::stream_category(stream);
  if (category == "contract") return shown(static_cast<ContractDoc*>(nullptr));
  if (category == "session") return shown(static_cast<SessionDoc*>(nullptr));
  if (category == "batch") return shown(static_cast<BatchDoc*>(nullptr));
  if (category == "code") return shown(static_cast<CodeDoc*>(nullptr));
  if (category == "invitation") return shown(static_cast<InvitationDoc*>(nullptr));
  if (category == "registration") return shown(static_cast<RegistrationDoc*>(nullptr));
  return std::optional<Document>();
}

void Fold::apply_contract(std::optional<ContractDoc>& doc, const d::Event& event) {
  std::visit(Visitor{
                 [&](const d::ContractCreated& e) {
                   doc = ContractDoc{.org = e.org,
                                     .id = e.contract,
                                     .name = e.name,
                                     .reuse_cancelled_codes = e.reuse_cancelled_codes,
                                     .default_price = e.default_price};
                 },
                 [&](const d::ContractConfigured& e) {
                   doc->name = e.name;
                   doc->reuse_cancelled_codes = e.reuse_cancelled_codes;
                   doc->default_price = e.default_price;
                 },
                 [](const auto&) {},
             },
             event);
}

void Fold::apply_session(std::optional<SessionDoc>& doc, const d::Event& event) {
  std::visit(Visitor{
                 [&](const d::SessionCreated& e) {
                   doc = SessionDoc{.org = e.org,
                                    .id = e.session,
                                    .name = e.name,
                                    .contract = e.contract,
                                    .opens_at = e.opens_at,
                                    .seats = Seats{.capacity = e.capacity}};
                 },
                 [&](const d::SessionCapacityChanged& e) { doc->seats.capacity = e.capacity; },
                 [&](const d::SessionEdited& e) {
                   doc->name = e.name;
                   doc->opens_at = e.opens_at;
                 },
                 [&](const d::SeatReserved& e) {
                   add(doc->seats.reserved, 1);
                   if (e.over_capacity) add(doc->seats.capacity, 1);
                 },
                 [&](const d::SeatReleased&) { add(doc->seats.reserved, -1); },
                 [&](const d::SeatRegistered& e) {
                   if (e.invitation) add(doc->seats.reserved, -1);
                   add(doc->seats.registered, 1);
                 },
                 [&](const d::SeatFreed&) { add(doc->seats.registered, -1); },
                 [](const auto&) {},
             },
             event);
}

result<void> Fold::apply_batch(std::optional<BatchDoc>& doc, const d::Event& event) {
  const Entries generating_before = batch_entries(doc);
  if (const auto* chunk = std::get_if<d::BatchChunkIssued>(&event); chunk && doc) {
    doc->generated = chunk->from + chunk->count;
    reindex(generating_before, batch_entries(doc));
    return outcome::success();
  }
  const auto* e = std::get_if<d::BatchGenerated>(&event);
  if (!e) return outcome::success();
  doc = BatchDoc{.org = e->org,
                 .id = e->batch,
                 .terms = BatchTerms{.contract = e->contract,
                                     .session = e->session,
                                     .price = e->price,
                                     .note = e->note,
                                     .valid_from = e->valid_from,
                                     .valid_until = e->valid_until,
                                     .max_uses = e->max_uses},
                 .quantity = e->quantity,
                 .generated = d::codes_issued_with(*e),
                 .restrictions = e->restrictions,
                 .prefix = e->prefix};
  reindex(generating_before, batch_entries(doc));

  // Codes that arrived before their batch (a Kafka-fed projector reads the
  // code and batch topics in no particular order between them) wait in an
  // index of orphans; now they can take their batch's terms.
  auto orphaned = orphans(keys::orphans_of_batch(e->org.str(), e->batch.str()));
  if (!orphaned) return orphaned.error();
  for (const auto& code_key : orphaned.value()) {
    auto code = edit<CodeDoc>(keys::doc(d::code_stream(code_key).str()));
    if (!code) return code.error();
    std::optional<CodeDoc>& orphan = *code.value();
    if (!orphan) continue;  // an index entry without its document: nothing to complete
    std::optional<Counted> counted;
    const Entries before = code_entries(orphan, code_key, &counted);
    if (auto refreshed = refresh_code(*orphan, code_key, before, counted); !refreshed) return refreshed;
  }
  return outcome::success();
}

Entries Fold::code_entries(const std::optional<CodeDoc>& doc, const std::string& code_key,
                           std::optional<Counted>* counted) {
  Entries entries;
  counted->reset();
  if (!doc || doc->deleted) return entries;
  const auto& org = doc->org.str();
  const auto pos = keys::be64(doc->pos);
  const auto shown = status(*doc);
  if (!shown) {
    entries.emplace_back(keys::orphans_of_batch(org, doc->batch.str()) + pos, code_key);
    return entries;
  }
  const std::string_view slug = d::to_string(*shown);
  const auto& contract = doc->terms->contract.str();
  const auto& batch = doc->batch.str();
  for (auto key : {keys::codes_of_org(org, slug), keys::codes_of_contract(org, contract, slug),
                   keys::codes_of_batch(org, batch, slug)}) {
    entries.emplace_back(std::move(key) + pos, code_key);
  }
  if (participant(*doc)) entries.emplace_back(keys::participants_of_contract(org, contract) + pos, code_key);
  *counted = Counted{doc->org, doc->terms->contract, *shown};
  return entries;
}

result<void> Fold::count(const Counted& where, int delta) {
  auto found = edit<ContractSummary>(keys::summary(where.org.str(), where.contract.str()));
  if (!found) return found.error();
  std::optional<ContractSummary>& summary = *found.value();
  if (!summary) summary.emplace();
  add(summary->total, delta);
  add(summary->of(where.status), delta);
  return outcome::success();
}

result<void> Fold::refresh_code(CodeDoc& doc, const std::string& code_key, const Entries& before,
                                const std::optional<Counted>& counted_before) {
  if (!doc.terms) {
    auto batch = find<BatchDoc>(keys::doc(d::batch_stream(doc.org, doc.batch).str()));
    if (!batch) return batch.error();
    if (const auto& found = *batch.value()) doc.terms = found->terms;
  }
  std::optional<Counted> counted_after;
  const Entries after = code_entries(doc, code_key, &counted_after);
  reindex(before, after);
  const bool same = counted_before && counted_after && counted_before->contract == counted_after->contract &&
                    counted_before->status == counted_after->status;
  if (!same) {
    if (counted_before) {
      if (auto c = count(*counted_before, -1); !c) return c;
    }
    if (counted_after) {
      if (auto c = count(*counted_after, +1); !c) return c;
    }
  }
  return outcome::success();
}

result<void> Fold::apply_code(std::optional<CodeDoc>& doc, const std::string& code_key, const d::Event& event,
                              const eventstore::RecordedEvent& recorded) {
  std::optional<Counted> counted;
  const Entries before = code_entries(doc, code_key, &counted);
  bool changed = true;
  std::visit(Visitor{
                 [&](const d::CodeIssued& e) {
                   doc = CodeDoc{.org = e.org,
                                 .code = e.code,
                                 .batch = e.batch,
                                 .pos = recorded.position.value,
                                 .assignee = e.assignee,
                                 .price = e.price};
                 },
                 [&](const d::CodeAssigned& e) { doc->assignee = e.participant; },
                 [&](const d::CodeEdited& e) {
                   if (e.note) doc->note = e.note;
                   if (e.price) doc->price = e.price;
                   if (e.valid_from) doc->valid_from = e.valid_from;
                   if (e.valid_until) doc->valid_until = e.valid_until;
                 },
                 [&](const d::CodeArchived&) { doc->archived = true; },
                 [&](const d::CodeDeleted&) { doc->deleted = true; },
                 [&](const d::CodeRedeemed& e) {
                   add(doc->uses, 1);
                   doc->last_redeemer = e.participant;
                 },
                 [&](const d::CodeUseReleased& e) {
                   add(doc->uses, -1);
                   if (e.unassign) doc->assignee.reset();
                 },
                 // Pending invitations on a code show in no code document.
                 [&](const auto&) { changed = false; },
             },
             event);
  if (!changed || !doc) return outcome::success();
  return refresh_code(*doc, code_key, before, counted);
}

void Fold::apply_invitation(std::optional<InvitationDoc>& doc, const d::Event& event,
                            const eventstore::RecordedEvent& recorded) {
  const Entries before = invitation_entries(doc);
  const auto end = [&](d::InvitationStatus status, const d::Timestamp& at) {
    doc->status = status;
    doc->ended_at = at;
  };
  std::visit(Visitor{
                 [&](const d::InvitationSent& e) {
                   doc = InvitationDoc{.org = e.org,
                                       .id = e.invitation,
                                       .participant = e.participant,
                                       .code = e.code,
                                       .session = e.session,
                                       .expires_at = e.expires_at,
                                       .bind_to_email = e.bind_to_email,
                                       .over_capacity = e.over_capacity,
                                       .sent_at = e.at,
                                       .pos = recorded.position.value};
                 },
                 [&](const d::InvitationResent& e) { doc->resent_at = e.at; },
                 [&](const d::InvitationCancelled& e) { end(d::InvitationStatus::cancelled, e.at); },
                 [&](const d::InvitationExpired& e) { end(d::InvitationStatus::expired, e.at); },
                 [&](const d::InvitationSuperseded& e) { end(d::InvitationStatus::superseded, e.at); },
                 [&](const d::InvitationAccepted& e) {
                   end(d::InvitationStatus::accepted, e.at);
                   doc->registration = e.registration;
                 },
                 [](const auto&) {},
             },
             event);
  reindex(before, invitation_entries(doc));
}

void Fold::apply_registration(std::optional<RegistrationDoc>& doc, const d::Event& event,
                              const eventstore::RecordedEvent& recorded) {
  const Entries before = registration_entries(doc);
  std::visit(Visitor{
                 [&](const d::RegistrationCreated& e) {
                   doc = RegistrationDoc{.org = e.org,
                                         .id = e.registration,
                                         .code = e.code,
                                         .participant = e.participant,
                                         .session = e.session,
                                         .price = e.price,
                                         .access_from = e.access_from,
                                         .access_until = e.access_until,
                                         .invitation = e.invitation,
                                         .pos = recorded.position.value};
                 },
                 [&](const d::RegistrationCancelled& e) {
                   doc->status = d::RegistrationStatus::cancelled;
                   doc->ended_at = e.at;
                 },
                 [&](const d::RegistrationRevoked& e) {
                   doc->status = d::RegistrationStatus::revoked;
                   doc->ended_at = e.at;
                 },
                 [&](const d::RegistrationAccessChanged& e) { doc->access_until = e.access_until; },
                 [](const auto&) {},
             },
             event);
  reindex(before, registration_entries(doc));
}

}  // namespace tessera::projections::detail
