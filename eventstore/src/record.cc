#include "record.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace tessera::eventstore::detail {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFFU));
}

void put_bytes(std::string& out, std::string_view bytes) {
  put_u32(out, static_cast<std::uint32_t>(bytes.size()));
  out.append(bytes);
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool u64(std::uint64_t& v) {
    if (bytes_.size() < 8) return false;
    v = decode_u64(bytes_.substr(0, 8));
    bytes_.remove_prefix(8);
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (bytes_.size() < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8U) | static_cast<unsigned char>(bytes_[static_cast<std::size_t>(i)]);
    bytes_.remove_prefix(4);
    return true;
  }
  bool bytes(std::string& out) {
    std::uint32_t n = 0;
    if (!u32(n) || bytes_.size() < n) return false;
    out.assign(bytes_.substr(0, n));
    bytes_.remove_prefix(n);
    return true;
  }
  bool empty() const { return bytes_.empty(); }
  bool hash(Hash& h) {
    if (bytes_.size() != h.size()) return false;
    std::memcpy(h.data(), bytes_.data(), h.size());
    bytes_.remove_prefix(h.size());
    return true;
  }

 private:
  std::string_view bytes_;
};

// SHA-256 through a digest fetched once and a context kept per thread:
// OpenSSL 3's one-shot SHA256() looks the algorithm up on every call, which
// cost as much as the hashing of a record.
Hash sha256(std::string_view first, std::string_view second) {
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                                     &EVP_MD_CTX_free);
  Hash out{};
  if (kSha256 == nullptr || context == nullptr || EVP_DigestInit_ex(context.get(), kSha256, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), first.data(), first.size()) != 1 ||
      EVP_DigestUpdate(context.get(), second.data(), second.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), out.data(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL's SHA-256 failed");
  }
  return out;
}

// The hashed content: everything but the hash itself.
void append_content(std::string& out, const NewEvent& e) {
  out += encode_u64(e.position.value);
  out += encode_u64(e.version.value);
  out += encode_u64(static_cast<std::uint64_t>(e.recorded_at_micros));
  put_u32(out, e.schema);
  put_bytes(out, e.stream);
  put_bytes(out, e.type);
  put_bytes(out, e.payload);
}

NewEvent view_of(const RecordedEvent& e) {
  return NewEvent{e.position, e.stream, e.version, e.type, e.schema, e.recorded_at_micros, e.payload};
}

std::size_t content_size(const NewEvent& e) {
  return 3 * 8 + 4 * 4 + e.stream.size() + e.type.size() + e.payload.size();
}

std::string content(const RecordedEvent& e) {
  std::string out;
  out.reserve(content_size(view_of(e)));
  append_content(out, view_of(e));
  return out;
}

}  // namespace

std::string encode_u64(std::uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xFFU);
    value >>= 8U;
  }
  return out;
}

std::uint64_t decode_u64(std::string_view bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < bytes.size(); ++i) v = (v << 8U) | static_cast<unsigned char>(bytes[i]);
  return v;
}

std::string stream_key(std::string_view stream, StreamVersion version) {
  std::string key;
  append_stream_key(key, stream, version);
  return key;
}

void append_stream_key(std::string& out, std::string_view stream, StreamVersion version) {
  out.append(stream);
  out.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((version.value >> shift) & 0xFFU));
}

std::string encode_record(const RecordedEvent& event) {
  std::string out = content(event);
  out.append(reinterpret_cast<const char*>(event.hash.data()), event.hash.size());
  return out;
}

std::optional<RecordedEvent> decode_record(Position position, std::string_view bytes) {
  RecordedEvent e;
  Reader r(bytes);
  std::uint64_t stored_position = 0, version = 0, at = 0;
  std::uint32_t schema = 0;
  if (!r.u64(stored_position) || stored_position != position.value || !r.u64(version) || !r.u64(at) || !r.u32(schema) ||
      schema > 0xFFFF || !r.bytes(e.stream) || !r.bytes(e.type) || !r.bytes(e.payload) || !r.hash(e.hash)) {
    return std::nullopt;
  }
  e.position = position;
  e.version = StreamVersion{version};
  e.recorded_at_micros = static_cast<std::int64_t>(at);
  e.schema = static_cast<std::uint16_t>(schema);
  return e;
}

std::string encode_idempotency(const AppendResult& result, std::string_view fingerprint) {
  std::string out = encode_u64(result.first.value);
  out += encode_u64(result.last.value);
  put_bytes(out, fingerprint);
  return out;
}

std::optional<IdempotencyRecord> decode_idempotency(std::string_view bytes) {
  IdempotencyRecord record;
  Reader r(bytes);
  std::uint64_t first = 0, last = 0;
  if (!r.u64(first) || !r.u64(last) || !r.bytes(record.fingerprint) || !r.empty() || first == 0 || last < first) {
    return std::nullopt;
  }
  record.result = AppendResult{Position{first}, Position{last}, true};
  return record;
}

Hash chain_hash(const Hash& previous, const RecordedEvent& event) {
  return sha256(std::string_view(reinterpret_cast<const char*>(previous.data()), previous.size()), content(event));
}

std::string encode_snapshot(StreamVersion version, std::string_view state) {
  std::string bytes = encode_u64(version.value);
  bytes.append(state);
  return bytes;
}

std::optional<Snapshot> decode_snapshot(std::string_view stream, std::string_view bytes) {
  if (bytes.size() < 8) return std::nullopt;
  return Snapshot{std::string(stream), StreamVersion{decode_u64(bytes.substr(0, 8))}, std::string(bytes.substr(8))};
}

void encode_chained(const Hash& previous, const NewEvent& event, Hash& hash, std::string& out) {
  // The content, then its hash over the previous hash and it.
  out.clear();
  out.reserve(content_size(event) + previous.size());
  append_content(out, event);
  hash = sha256(std::string_view(reinterpret_cast<const char*>(previous.data()), previous.size()), out);
  out.append(reinterpret_cast<const char*>(hash.data()), hash.size());
}

}  // namespace tessera::eventstore::detail
