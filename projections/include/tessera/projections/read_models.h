// Read models: the query side, built by folding the log's events into
// documents kept in their own RocksDB (one struct per kind, each stored and
// served through its own codec: src/documents.h).
//
// Each apply() writes its documents, their indexes and the checkpoint (the
// position of the last event applied) in one write batch, so after a crash
// the models are exactly those of some prefix of the log and resume from
// there: no event is applied twice, none is skipped.
//
// Every document mirrors one stream and records that stream's version. An
// event whose version is at or below the version its stream's document
// records is skipped: a Kafka-fed projector sees events again after a relay
// restart, and sees the streams of different topics interleaved in any order
// (a code may even arrive before its batch: it stays out of every query until
// its batch arrives). Fed any interleaving that keeps each stream's order,
// the models come out the same.
//
// Fed from Kafka (tessera-projector), apply_from_kafka() also writes the
// consumer's offsets, and a count of the events applied, in the same batch:
// after a crash the models, the offsets to resume from and the count agree,
// so a restart applies nothing twice and skips nothing.
//
// A database written under another internal layout is emptied on open() and
// its checkpoint reads 0: the projector then rebuilds it from the log.
//
// Threading: apply() from one thread (the projector); queries from any thread.
// Each query reads one consistent snapshot. A long apply() decodes its events
// on a helper thread of its own, joined before it returns.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/domain/ids.h"
#include "tessera/eventstore/types.h"
#include "tessera/projections/waiters.h"

namespace rocksdb {
class DB;
}

namespace tessera::projections {

struct Seats {
  std::uint32_t capacity = 0;
  std::uint32_t reserved = 0;
  std::uint32_t registered = 0;
  std::uint32_t available() const {
    const std::uint32_t taken = reserved + registered;
    return taken >= capacity ? 0 : capacity - taken;
  }
};

// A document as the API serves it, with the version of the stream it mirrors
// (for ETag / If-Match).
struct Document {
  nlohmann::json body;
  std::uint64_t version = 0;
};

struct CodeFilter {
  std::optional<std::string> contract = std::nullopt;
  std::optional<std::string> batch = std::nullopt;
  std::optional<std::string> status = std::nullopt;  // available | assigned | used | archived
};

// One page of a list; `next` is the cursor of the following page, present
// only when there is at least one more item (an opaque string).
struct Page {
  std::vector<nlohmann::json> items;
  std::optional<std::string> next;
};

// A Kafka consumer's position in one partition: the offset of the next
// message to read there.
struct PartitionOffset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t next = 0;
  bool operator==(const PartitionOffset&) const = default;
};

// A batch generated in chunks that is not ready yet.
struct GeneratingBatch {
  domain::OrgId org;
  domain::BatchId batch;
};

struct DueExpiry {
  domain::InvitationId invitation;
  domain::Timestamp expires_at;
};

class ReadModels {
 public:
  static result<std::unique_ptr<ReadModels>> open(const std::filesystem::path& dir);
  ~ReadModels();

  // Folds `events` (consecutive, after checkpoint(); or, fed from Kafka, in
  // per-stream order) into the models. Fails with corruption on an event that
  // does not decode (stall.h's decode(), whose detail names it), leaving the
  // models and the checkpoint as they were: all or nothing.
  result<void> apply(std::span<const eventstore::RecordedEvent> events);

  // Like apply(), for a Kafka-fed projector: also writes `offsets` (each
  // replaces the one stored for its topic and partition) and adds the number
  // of events applied to applied_events(), all in the same write batch.
  // Writes even when `events` is empty (messages that carried no event still
  // move the offsets). Answers how many of `events` were applied: the others
  // were already (re-sends), or belong to no document.
  result<std::size_t> apply_from_kafka(std::span<const eventstore::RecordedEvent> events,
                                       std::span<const PartitionOffset> offsets);

  // The offsets apply_from_kafka() stored, by topic then partition; empty for
  // models fed only from the local log.
  result<std::vector<PartitionOffset>> kafka_offsets() const;

  // Events apply_from_kafka() applied, over the database's life: once every
  // event has arrived, the log's length (each event counted once).
  std::uint64_t applied_events() const;

  // The highest position applied (for the local log: the last event applied;
  // fed from Kafka, where positions arrive out of order, only the highest).
  eventstore::Position checkpoint() const;

  // Blocks until checkpoint() >= position or the timeout passes.
  bool wait_for(eventstore::Position position, std::chrono::milliseconds timeout) const;

  // Calls `then` once checkpoint() >= position, without blocking: at once
  // when it already is, else on the projector's thread right after the
  // apply() that gets there (so `then` must not block). forget() withdraws a
  // wait given up on (a timeout), so that none piles up while the models lag.
  PositionWaiters::Ticket when_reached(eventstore::Position position, std::move_only_function<void()> then) const;
  void forget(const PositionWaiters::Ticket& ticket) const;

  // The events of `stream` with versions after `after`, at most `count`, as
  // the log recorded them: where preview() reads the stream's events the
  // models have not applied yet.
  using StreamReader = std::function<result<std::vector<eventstore::RecordedEvent>>(
      std::string_view stream, eventstore::StreamVersion after, std::size_t count)>;

  // The document of `stream` as it will read once `events` are applied (an
  // accepted command's, beyond checkpoint(), in log order), folded here over
  // the stored documents without writing anything: what a write answers
  // without waiting for the projector, and what a GET returns after it (the
  // same fold of the stream's own events, the same served form). When the
  // models have yet to apply earlier events of the stream, they are read
  // with `earlier` and folded first; without it (or when it cannot give
  // them all) the answer is nullopt, as it is when the events do not touch
  // `stream` or its document shows nowhere. Served form and org as the
  // document's own query gives them (the caller checks the org where that
  // query does). Thread-safe beside apply(): an event the projector applied
  // meanwhile is skipped, as apply() skips a re-send.
  result<std::optional<Document>> preview(std::span<const eventstore::RecordedEvent> events, std::string_view stream,
                                          const StreamReader& earlier = {}) const;

  // A session's seats; nullopt when no such session is known.
  result<std::optional<Seats>> seats(const domain::OrgId& org, const domain::SessionId& session) const;

  // The documents below read nullopt for a miss: no such resource in `org`
  // (a deleted code included). A stored document that does not read fails
  // them with eventstore::errc::corruption, its detail naming its key and
  // the field. Times are RFC 3339 strings, money is
  // {amount, currency}, a participant {email, name?, group?, region?,
  // external_id?}; absent values are null. `Document.version` is the version
  // of the stream the document mirrors (for ETag / If-Match).
  //
  // code: {code, org, status, uses, max_uses, price, participant, batch_id,
  //        session_id, contract_id, note, valid_from, valid_until}
  //   status: archived if archived; else used when uses >= max_uses; else
  //   assigned when someone is assigned; else available.
  //   price, note, valid_from, valid_until: the code's own (from generation
  //   or an edit), else its batch's; price null: the contract's rules decide.
  //   session_id, contract_id, max_uses: the batch's.
  //   participant: the assignee; for a used code nobody is assigned to, the
  //   participant of its last redemption (the one that used it up); else null.
  //   `code_key` is the normalised key (parse_code(...).key), `code` the
  //   display form.
  result<std::optional<Document>> code(const domain::OrgId& org, std::string_view code_key) const;
  // contract: {id, org, name, reuse_cancelled_codes, default_price}
  result<std::optional<Document>> contract(const domain::OrgId& org, const domain::ContractId& id) const;
  // session: {id, org, name, capacity, contract_id, opens_at, reserved, registered, available}
  result<std::optional<Document>> session(const domain::OrgId& org, const domain::SessionId& id) const;
  // batch: {id, org, contract_id, session_id, status, quantity, generated,
  //         price, note, valid_from, valid_until, max_uses, restrictions, prefix}
  //   status: generating until `generated` reaches `quantity` (a batch of
  //   more than 10,000 codes is generated in chunks), then ready.
  result<std::optional<Document>> batch(const domain::OrgId& org, const domain::BatchId& id) const;
  // invitation: {id, org, status, participant, code, session_id, expires_at,
  //              bind_to_email, over_capacity, sent_at, resent_at, ended_at,
  //              registration_id}
  //   status: pending | accepted | cancelled | superseded | expired (the
  //   scheduler's ExpireInvitation, not the clock, makes it expired);
  //   registration_id once accepted; ended_at when it left pending.
  // Found by id alone: a claim token names no organisation (check `org`).
  result<std::optional<Document>> invitation(const domain::InvitationId& id) const;
  // registration: {id, org, code, participant, session_id, price, status,
  //                access_from, access_until, invitation_id, ended_at}
  //   status: active | cancelled | revoked; code is the display form or null.
  result<std::optional<Document>> registration(const domain::OrgId& org, const domain::RegistrationId& id) const;
  // summary: {total, available, assigned, used, archived} (a count for each
  // of domain::kCodeStatuses), over the codes of the contract that are not
  // deleted; nullopt when the contract is unknown.
  result<std::optional<nlohmann::json>> summary(const domain::OrgId& org, const domain::ContractId& id) const;
  // roster: {invitations: [pending ones], registrations: [active ones]}, each
  // an invitation or registration document, oldest first; nullopt when the
  // session is unknown.
  result<std::optional<nlohmann::json>> roster(const domain::OrgId& org, const domain::SessionId& id) const;

  // Code documents of `org` in the order they were issued, filtered, at most
  // `limit` of them (0: an empty page); `cursor` is a previous page's `next`,
  // used with the same filter. An unreadable cursor reads as the first page.
  // An unknown status, or a batch of another contract than `contract`, gives
  // an empty page.
  result<Page> codes(const domain::OrgId& org, const CodeFilter& filter, const std::optional<std::string>& cursor,
                     std::size_t limit) const;

  // Codes of a contract bound to a participant (their `participant` is not
  // null: assigned, or used, archived ones included), in issue order, for the
  // participants CSV: each item is a code document.
  result<std::vector<nlohmann::json>> participants(const domain::OrgId& org, const domain::ContractId& id) const;

  // Up to `limit` code keys of `contract` that are available (uses left,
  // nobody assigned, not archived), oldest first: the pool bulk assignment
  // draws from.
  result<std::vector<std::string>> pool(const domain::OrgId& org, const domain::ContractId& id,
                                        std::size_t limit) const;

  // Up to `limit` pending invitations whose expires_at is at or before `now`,
  // earliest expires_at first: what the expiry scheduler issues commands for.
  result<std::vector<DueExpiry>> due_expiries(domain::Timestamp now, std::size_t limit) const;

  // Up to `limit` batches still generating, of every organisation: what
  // resumes their chunks after a restart.
  result<std::vector<GeneratingBatch>> generating_batches(std::size_t limit) const;

 private:
  ReadModels(std::unique_ptr<rocksdb::DB> db, eventstore::Position checkpoint, std::uint64_t applied);

  // Folds `events` and commits them with the checkpoint; with `offsets`, also
  // the Kafka offsets and the applied count. Answers how many were applied.
  result<std::size_t> fold_and_write(std::span<const eventstore::RecordedEvent> events,
                                     const std::span<const PartitionOffset>* offsets);

  std::unique_ptr<rocksdb::DB> db_;
  mutable std::mutex mutex_;
  mutable std::condition_variable advanced_;
  eventstore::Position checkpoint_;
  std::uint64_t applied_ = 0;  // guarded by mutex_
  mutable PositionWaiters waiters_;
};

}  // namespace tessera::projections
