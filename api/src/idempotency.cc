#include "idempotency.h"

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <array>
#include <charconv>

#include "tessera/api/errc.h"
#include "tessera/domain/errc.h"
#include "tessera/pipeline/errc.h"

namespace tessera::api::detail {
namespace {

constexpr std::size_t kMaxKeyLength = 255;

// Beast (Boost 1.74) takes its own string_view.
boost::beast::string_view bsv(std::string_view text) { return {text.data(), text.size()}; }
constexpr std::string_view kAnswerMagic = "tessera.answer.1";

bool valid_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  for (const char c : key) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

// A scope component with the separator (and the escape character) escaped,
// so that no two scopes read alike.
std::string escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '%') {
      out += "%25";
    } else if (c == '|') {
      out += "%7C";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void put_u32(std::string& out, std::size_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFFU));
}

void put_bytes(std::string& out, std::string_view bytes) {
  put_u32(out, bytes.size());
  out.append(bytes);
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool bytes(std::string_view& out) {
    if (bytes_.size() < 4) return false;
    std::size_t n = 0;
    for (std::size_t i = 0; i < 4; ++i) n = (n << 8U) | static_cast<unsigned char>(bytes_[i]);
    bytes_.remove_prefix(4);
    if (bytes_.size() < n) return false;
    out = bytes_.substr(0, n);
    bytes_.remove_prefix(n);
    return true;
  }
  bool number(unsigned& out) {
    std::string_view text;
    if (!bytes(text)) return false;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
  }
  bool done() const { return bytes_.empty(); }

 private:
  std::string_view bytes_;
};

Response replay_of(const RecordedAnswer& recorded) {
  Response response = recorded.response;
  response.set(bsv(kReplayedHeader), "true");
  return response;
}

Error key_reused() {
  return Error(pipeline::errc::idempotency_key_reused,
               "this Idempotency-Key was first used with another request (another method, path or body)");
}

// The recorded answer for a retry: verbatim, or the refusal of a key reused
// for another request.
Answer answer_recorded(std::string_view bytes, std::string_view print, bool replayed) {
  const auto recorded = decode_answer(bytes);
  if (!recorded) return Error(errc::internal, "the answer recorded under this Idempotency-Key cannot be read");
  if (recorded->fingerprint != print) return key_reused();
  if (!replayed) return recorded->response;
  return replay_of(*recorded);
}

// Keeps the first 2xx answer under the key; when a concurrent retry kept one
// first, answers that one, so that every retry hears the same.
Answer keep(Call& call, const std::string& key, const std::string& print, Response response) {
  auto kept = call.services.pipeline->answers().keep_first(key, encode_answer(print, response));
  if (!kept) {
    // The command's events and key are durable: a retry is replayed by the
    // pipeline and answered from the read models.
    spdlog::warn("cannot keep the answer under an idempotency key: {}", kept.error().message());
    if (call.replayed) response.set(bsv(kReplayedHeader), "true");
    return response;
  }
  return answer_recorded(kept.value(), print, call.replayed);
}

}  // namespace

std::string scoped_key(const Call& call, std::string_view client_key) {
  const std::string_view target(call.request.target().data(), call.request.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  const std::string scope = !call.org.empty() ? call.org.str() : (call.path.size() >= 2 ? call.path[1] : "");
  std::string key = escaped(scope);
  key += '|';
  key += std::string(call.request.method_string());
  key += ' ';
  key += escaped(path);
  key += '|';
  key += client_key;
  return key;
}

std::string fingerprint(const Request& request) {
  std::string material;
  put_bytes(material, std::string_view(request.method_string().data(), request.method_string().size()));
  put_bytes(material, std::string_view(request.target().data(), request.target().size()));
  put_bytes(material, request.body());
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest.data());
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (const unsigned char b : digest) {
    out.push_back(kHex[b >> 4U]);
    out.push_back(kHex[b & 15U]);
  }
  return out;
}

std::string encode_answer(std::string_view print, const Response& response) {
  std::string out;
  put_bytes(out, kAnswerMagic);
  put_bytes(out, print);
  put_bytes(out, std::to_string(response.result_int()));
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  for (const auto& field : response) {
    // The length follows from the body when the answer is sent again.
    if (field.name() == http::field::content_length) continue;
    headers.emplace_back(std::string_view(field.name_string().data(), field.name_string().size()),
                         std::string_view(field.value().data(), field.value().size()));
  }
  put_bytes(out, std::to_string(headers.size()));
  for (const auto& [name, value] : headers) {
    put_bytes(out, name);
    put_bytes(out, value);
  }
  put_bytes(out, response.body());
  return out;
}

std::optional<RecordedAnswer> decode_answer(std::string_view bytes) {
  Reader in(bytes);
  std::string_view magic, print, body;
  unsigned status = 0, headers = 0;
  if (!in.bytes(magic) || magic != kAnswerMagic || !in.bytes(print) || !in.number(status) || status < 100 ||
      status > 599 || !in.number(headers)) {
    return std::nullopt;
  }
  RecordedAnswer recorded{std::string(print), Response{static_cast<http::status>(status), 11}};
  for (unsigned i = 0; i < headers; ++i) {
    std::string_view name, value;
    if (!in.bytes(name) || !in.bytes(value) || name.empty()) return std::nullopt;
    recorded.response.insert(bsv(name), bsv(value));
  }
  if (!in.bytes(body) || !in.done()) return std::nullopt;
  recorded.response.body() = std::string(body);
  recorded.response.prepare_payload();
  return recorded;
}

Routed run_idempotent(Call& call, std::function<Routed(Call&)> handle) {
  const Request& request = call.request;
  const std::size_t sent = request.count(bsv(kIdempotencyKeyHeader));
  if (sent == 0) co_return co_await handle(call);
  const auto header = request[bsv(kIdempotencyKeyHeader)];
  const std::string_view client_key(header.data(), header.size());
  if (sent > 1 || !valid_key(client_key)) {
    co_return Error(domain::errc::validation,
                    "Idempotency-Key must be one value of 1 to 255 printable ASCII characters");
  }
  const std::string key = scoped_key(call, client_key);
  const std::string print = fingerprint(request);

  auto recorded = call.services.pipeline->answers().find(key);
  if (!recorded) co_return std::move(recorded).error();
  if (recorded.value()) co_return answer_recorded(*recorded.value(), print, /*replayed=*/true);

  call.idempotency = pipeline::IdempotencyKey{key, print};
  Answer answer = co_await handle(call);
  // A 202's resource is still changing (a batch being generated): a retry
  // rebuilds the answer as the resource then stands.
  if (!answer || answer.value().result() == http::status::accepted) co_return answer;
  co_return keep(call, key, print, std::move(answer).value());
}

}  // namespace tessera::api::detail
