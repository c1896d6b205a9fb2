#include "tessera/api/claim_tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>

namespace tessera::api {
namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kMacBytes = 16;  // 128 bits
constexpr std::string_view kSymbols = "0123456789abcdefghjkmnpqrstvwxyz";

std::string base32(const unsigned char* bytes, std::size_t n) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    buffer = (buffer << 8U) | bytes[i];
    bits += 8;
    while (bits >= 5) {
      out.push_back(kSymbols[(buffer >> static_cast<unsigned>(bits - 5)) & 31U]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kSymbols[(buffer << static_cast<unsigned>(5 - bits)) & 31U]);
  return out;
}

}  // namespace

result<ClaimTokens> ClaimTokens::open(const std::filesystem::path& key_file) {
  std::ifstream in(key_file, std::ios::binary);
  if (in) {
    std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (key.size() != kKeyBytes) {
      return Error(std::make_error_code(std::errc::invalid_argument), key_file.string() + " does not hold a claim key");
    }
    return ClaimTokens(std::move(key));
  }
  std::string key(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    return Error(std::make_error_code(std::errc::io_error), "no random bytes for a claim key");
  }
  const auto temporary = key_file.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(key.data(), static_cast<std::streamsize>(key.size()));
    if (!out.flush()) return Error(std::make_error_code(std::errc::io_error), "cannot write " + temporary);
  }
  ::chmod(temporary.c_str(), S_IRUSR | S_IWUSR);
  std::error_code ec;
  std::filesystem::rename(temporary, key_file, ec);
  if (ec) return Error(ec, "cannot rename " + temporary);
  return ClaimTokens(std::move(key));
}

std::string ClaimTokens::mac(std::string_view id) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(id.data()),
       id.size(), digest, &length);
  return base32(digest, kMacBytes);
}

std::string ClaimTokens::token(const domain::InvitationId& invitation) const {
  return invitation.str() + "." + mac(invitation.str());
}

std::optional<domain::InvitationId> ClaimTokens::verify(std::string_view token) const {
  const auto dot = token.find('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  const std::string_view id = token.substr(0, dot);
  const std::string_view given = token.substr(dot + 1);
  const std::string expected = mac(id);
  if (given.size() != expected.size() || CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  return domain::InvitationId{std::string(id)};
}

}  // namespace tessera::api
