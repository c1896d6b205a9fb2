// Claim tokens: "<invitation id>.<HMAC-SHA256(id) truncated to 128 bits, in
// base32>". Unguessable without the server key, and derived rather than
// stored, so an invitation can be re-sent without its token ever being
// written to the log. The key lives outside the log (a file in the data dir).
//
// Threading: const methods are safe from any thread.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/base/error.h"
#include "tessera/domain/ids.h"

namespace tessera::api {

class ClaimTokens {
 public:
  // Reads the key from `key_file`, creating it (32 random bytes, mode 0600)
  // when it does not exist.
  static result<ClaimTokens> open(const std::filesystem::path& key_file);
  explicit ClaimTokens(std::string key) : key_(std::move(key)) {}

  std::string token(const domain::InvitationId& invitation) const;

  // The invitation a token names; nullopt when the token is not one of ours.
  std::optional<domain::InvitationId> verify(std::string_view token) const;

 private:
  std::string mac(std::string_view id) const;
  std::string key_;
};

}  // namespace tessera::api
