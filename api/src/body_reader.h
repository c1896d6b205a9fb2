// Internal: reads a JSON request body field by field, keeping the first
// problem found instead of throwing, so a handler reads every field it needs
// and then asks once whether the body was acceptable.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tessera/base/error.h"
#include "tessera/domain/events.h"

namespace tessera::api::detail {

class BodyReader {
 public:
  explicit BodyReader(const nlohmann::json& body);

  std::string text(const char* key, bool required);
  std::optional<std::string> optional_text(const char* key);
  std::uint32_t count(const char* key, std::optional<std::uint32_t> fallback);
  bool flag(const char* key, bool fallback);
  std::optional<domain::Money> money(const char* key);
  std::optional<domain::Timestamp> time(const char* key);
  domain::Participant participant(const char* key);
  std::vector<domain::Participant> participants(const char* key);
  domain::Restrictions restrictions(const char* key);

  // The first problem met, as a sentence naming the field; nullopt if none.
  const std::optional<std::string>& problem() const { return problem_; }
  // The first problem met as a validation error; success if none.
  result<void> finish() const;

 private:
  const nlohmann::json* find(const char* key);
  void fail(const std::string& field, const std::string& what);
  std::optional<domain::Participant> read_participant(const nlohmann::json& value, const std::string& field);
  std::vector<std::string> strings(const nlohmann::json& parent, const char* key, const std::string& field);

  const nlohmann::json& body_;
  std::optional<std::string> problem_;
};

}  // namespace tessera::api::detail
