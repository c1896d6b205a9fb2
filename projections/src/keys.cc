#include "keys.h"

namespace tessera::projections::keys {
namespace {

std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const auto part : parts) out.append(part).push_back('/');
  return out;
}

constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63;

}  // namespace

std::string be64(std::uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

std::optional<std::uint64_t> read_be64(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

std::string sortable_micros(std::int64_t micros) { return be64(static_cast<std::uint64_t>(micros) ^ kSignBit); }

std::int64_t read_sortable_micros(std::string_view bytes) {
  return static_cast<std::int64_t>(read_be64(bytes.substr(0, 8)).value_or(0) ^ kSignBit);
}

bool usable_id(std::string_view id) { return !id.empty() && id.find('/') == std::string_view::npos; }

std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = prefix.back();
    if (static_cast<unsigned char>(last) != 0xff) {
      last = static_cast<char>(static_cast<unsigned char>(last) + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;  // every key: the caller must not bound the scan
}

std::string doc(std::string_view stream) { return "d/" + std::string(stream); }
std::string summary(std::string_view org, std::string_view contract) {
  return "sum/" + std::string(org) + "/" + std::string(contract);
}

std::string codes_of_org(std::string_view org, std::string_view status) { return join({"ix/os", org, status}); }
std::string codes_of_contract(std::string_view org, std::string_view contract, std::string_view status) {
  return join({"ix/cs", org, contract, status});
}
std::string codes_of_batch(std::string_view org, std::string_view batch, std::string_view status) {
  return join({"ix/bs", org, batch, status});
}
std::string participants_of_contract(std::string_view org, std::string_view contract) {
  return join({"ix/cp", org, contract});
}
std::string orphans_of_batch(std::string_view org, std::string_view batch) { return join({"ix/ob", org, batch}); }

std::string roster_invitations(std::string_view org, std::string_view session) {
  return join({"ro", org, session, "i"});
}
std::string roster_registrations(std::string_view org, std::string_view session) {
  return join({"ro", org, session, "r"});
}

std::string due(std::int64_t micros, std::string_view invitation) {
  return std::string(kDuePrefix) + sortable_micros(micros) + std::string(invitation);
}

std::string generating(std::string_view org, std::string_view batch) {
  return std::string(kGeneratingPrefix) + std::string(org) + "/" + std::string(batch);
}

std::string kafka_offset(std::string_view topic, std::int32_t partition) {
  return std::string(kKafkaOffsetPrefix) + std::string(topic) + "/" + std::to_string(partition);
}

}  // namespace tessera::projections::keys
