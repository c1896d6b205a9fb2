// Folding events into the read models (internal to projections/): one Fold
// per apply() call. Documents (documents.h) are read through an overlay of
// what this call already changed; index entries are collected, and the one
// scan within a call (a batch's orphaned codes) sees this call's own orphan
// entries beside the stored ones. write() puts the changed documents and
// the index changes into a plain WriteBatch in key order (the memtable takes
// sorted inserts fastest); the caller then commits it with its checkpoint.
//
// A stream's first event (version 1) at a position beyond every position
// applied so far creates its document: nothing is stored for that stream
// yet (its other events all come later, in the stream's order), so the Fold
// reads nothing for it. That is most events of a log: every code's
// CodeIssued.
//
// Lifetime: borrows the database for its own life; used by one thread.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "documents.h"
#include "tessera/domain/events.h"
#include "tessera/eventstore/types.h"

namespace tessera::projections::detail {

// Index entries of one document, key and value: a handful (a code has at
// most four), each key once; a vector, searched through, is cheaper to
// build than a map for so few.
using Entries = std::vector<std::pair<std::string, std::string>>;

class Fold {
 public:
  // `applied_up_to`: the highest position the models hold (checkpoint()).
  Fold(rocksdb::DB& db, eventstore::Position applied_up_to);

  // Folds one event; true when it did, false when it skipped it: its
  // stream's document already records a version at or beyond the event's (a
  // re-sent event), or the stream has no document and the event does not
  // create one. Fails with corruption on a stored document that does not
  // read (decode()), with io_error when RocksDB fails.
  result<bool> apply(const eventstore::RecordedEvent& recorded, const domain::Event& event);

  // The index changes and the changed documents, ready to be committed
  // (once: the Fold is spent after it).
  rocksdb::WriteBatch& write();

  // The document of `stream` as this call has left it so far (read from the
  // database on first use), in its served form with its version; nullopt
  // when there is none, or it shows nowhere. For a preview (read_models.h),
  // whose Fold is never written.
  result<std::optional<Document>> served(std::string_view stream);

 private:
  // The documents of one kind this call read or changed, by key; nullopt:
  // none stored (yet).
  template <class Doc>
  struct Read {
    std::optional<Doc> doc;
    bool dirty = false;  // to be written
  };
  template <class Doc>
  using Overlay = std::unordered_map<std::string, Read<Doc>>;

  template <class Doc>
  Overlay<Doc>& overlay() {
    return std::get<Overlay<Doc>>(overlays_);
  }
  // The document stored at `key` as this call left it. The pointer stays
  // valid for the Fold's life (map nodes do not move). With `none_stored`
  // (the caller knows nothing is stored there), reads nothing.
  template <class Doc>
  result<std::optional<Doc>*> find(const std::string& key, bool none_stored = false);
  // The same, to change: it will be written.
  template <class Doc>
  result<std::optional<Doc>*> edit(const std::string& key);
  // The version check and the version bump around `fold(doc)`, for the
  // document of `recorded`'s stream.
  template <class Doc, class FoldInto>
  result<bool> fold(const eventstore::RecordedEvent& recorded, const domain::Event& event, FoldInto&& fold_into);

  void reindex(const Entries& before, const Entries& after);
  void put(const std::string& key, const std::string& value);
  void remove(const std::string& key);
  // The code keys of the orphans of a batch (keys::orphans_of_batch), stored
  // or put by this call, less those this call removed.
  result<std::vector<std::string>> orphans(const std::string& prefix);

  void apply_contract(std::optional<ContractDoc>& doc, const domain::Event& event);
  void apply_session(std::optional<SessionDoc>& doc, const domain::Event& event);
  result<void> apply_batch(std::optional<BatchDoc>& doc, const domain::Event& event);
  result<void> apply_code(std::optional<CodeDoc>& doc, const std::string& code_key, const domain::Event& event,
                          const eventstore::RecordedEvent& recorded);
  void apply_invitation(std::optional<InvitationDoc>& doc, const domain::Event& event,
                        const eventstore::RecordedEvent& recorded);
  void apply_registration(std::optional<RegistrationDoc>& doc, const domain::Event& event,
                          const eventstore::RecordedEvent& recorded);

  // Where a code is counted: its org, contract and status.
  struct Counted {
    domain::OrgId org;
    domain::ContractId contract;
    domain::CodeStatus status;
  };
  static Entries code_entries(const std::optional<CodeDoc>& doc, const std::string& code_key,
                              std::optional<Counted>* counted);
  // After a change to a code's own state: takes its batch's terms if it had
  // none yet and the batch is known, and moves its index entries and its
  // contract's counts from `before` to where they now belong.
  result<void> refresh_code(CodeDoc& doc, const std::string& code_key, const Entries& before,
                            const std::optional<Counted>& counted_before);
  result<void> count(const Counted& where, int delta);

  rocksdb::DB& db_;
  const eventstore::Position applied_up_to_;
  std::tuple<Overlay<ContractDoc>, Overlay<SessionDoc>, Overlay<BatchDoc>, Overlay<CodeDoc>, Overlay<InvitationDoc>,
             Overlay<RegistrationDoc>, Overlay<ContractSummary>>
      overlays_;
  // Index puts (a value) and deletes (nullopt), in the order made.
  std::vector<std::pair<std::string, std::optional<std::string>>> changes_;
  // This call's changes under keys::orphans_of_batch, for orphans().
  std::map<std::string, std::optional<std::string>> orphan_changes_;
  rocksdb::WriteBatch batch_;
};

}  // namespace tessera::projections::detail
