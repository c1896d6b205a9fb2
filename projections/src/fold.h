// Folding events into the read models (internal to projections/): one Fold
// per apply() call. Documents are read through an overlay of what this call
// already changed; index entries go into a WriteBatchWithIndex so a scan
// within the call sees them; write() adds the changed documents and the
// caller then commits the batch with its checkpoint.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "tessera/domain/events.h"
#include "tessera/eventstore/types.h"

namespace tessera::projections::detail {

// Index entries of one document: key -> value.
using Entries = std::map<std::string, std::string>;

class Fold {
 public:
  explicit Fold(rocksdb::DB& db);

  // Folds one event; true when it did, false when it skipped it: its
  // stream's document already records a version at or beyond the event's (a
  // re-sent event), or the stream has no document and the event does not
  // create one.
  // Throws nlohmann::json::exception on a stored document that does not read.
  result<bool> apply(const eventstore::RecordedEvent& recorded, const domain::Event& event);

  // The index changes and the changed documents, ready to be committed.
  rocksdb::WriteBatchWithIndex& write();

 private:
  // A document as stored ({"v", "b", "x"}), or null when there is none yet.
  result<const nlohmann::json*> find(const std::string& key);
  // The same, to change: it will be written.
  result<nlohmann::json*> edit(const std::string& key);

  void reindex(const Entries& before, const Entries& after);

  result<void> apply_contract(nlohmann::json& rec, const domain::Event& event);
  result<void> apply_session(nlohmann::json& rec, const domain::Event& event);
  result<void> apply_batch(nlohmann::json& rec, const domain::Event& event,
                                       const eventstore::RecordedEvent& recorded);
  result<void> apply_code(nlohmann::json& rec, const std::string& code_key, const domain::Event& event,
                                      const eventstore::RecordedEvent& recorded);
  result<void> apply_invitation(nlohmann::json& rec, const domain::Event& event,
                                            const eventstore::RecordedEvent& recorded);
  result<void> apply_registration(nlohmann::json& rec, const domain::Event& event,
                                              const eventstore::RecordedEvent& recorded);

  // Where a code is counted: its org, contract and status.
  struct Counted {
    std::string org, contract, status;
  };
  static Entries code_entries(const nlohmann::json& rec, const std::string& code_key, std::optional<Counted>* counted);
  // After a change to a code's own state (rec["x"]): recomputes its body from
  // that state and its batch's terms, and moves its index entries and its
  // contract's counters from `before` to where they now belong.
  result<void> refresh_code(nlohmann::json& rec, const std::string& code_key, const Entries& before,
                                        const std::optional<Counted>& counted_before);
  result<void> count(const std::string& org, const std::string& contract, const std::string& status,
                                 int delta);

  rocksdb::DB& db_;
  std::map<std::string, nlohmann::json> docs_;
  std::set<std::string> dirty_;
  rocksdb::WriteBatchWithIndex batch_;
};

}  // namespace tessera::projections::detail
