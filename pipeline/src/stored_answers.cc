#include "tessera/pipeline/stored_answers.h"

#include <functional>

namespace tessera::pipeline {
namespace {

constexpr std::string_view kMetaPrefix = "idem.";

std::string meta_key(std::string_view key) { return std::string(kMetaPrefix) + std::string(key); }

}  // namespace

result<std::optional<std::string>> StoredAnswers::find(std::string_view key) const {
  auto found = log_.get_meta(meta_key(key));
  if (!found) return found.error();
  return std::move(found).value();
}

result<std::string> StoredAnswers::keep_first(std::string_view key, std::string bytes) {
  const std::string name = meta_key(key);
  std::lock_guard lock(stripes_[std::hash<std::string>{}(name) % stripes_.size()]);
  auto kept = log_.get_meta(name);
  if (!kept) return kept.error();
  if (kept.value()) return std::move(*kept.value());
  // Unsynced: the caller is an HTTP request, which must not wait for a disk,
  // and a kept answer lost to a crash is rebuilt (stored_answers.h).
  if (auto stored = log_.put_meta(name, bytes, eventstore::Log::MetaWrite::unsynced); !stored) return stored.error();
  return bytes;
}

}  // namespace tessera::pipeline
