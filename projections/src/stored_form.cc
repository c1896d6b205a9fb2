// The stored form of the documents (documents.h): binary, each struct's
// fields in the one order its fields() lists them, which both encode() and
// decode() walk. Encoding and decoding a document is a walk over its bytes,
// with no text to print or parse: the fold encodes a document for most
// events it applies.
//
//   a document   one byte naming its kind, then its fields
//   count        unsigned LEB128 (at most 10 bytes)
//   whole number zigzag LEB128 (instants in microseconds, money's amount)
//   bool         one byte, 0 or 1
//   string, id   a count (its length), then its bytes
//   status       its domain slug, as a string
//   optional     one byte, 0 (absent) or 1, then the value when present
//   money        amount, currency; participant: email, name, group,
//                region, external_id; batch terms: their fields in turn;
//                restrictions: emails, email_domains, regions, groups, each
//                a count then its strings
#include <algorithm>
#include <array>
#include <concepts>
#include <limits>
#include <type_traits>

#include "documents.h"
#include "tessera/eventstore/errc.h"

namespace tessera::projections::detail {
namespace {

namespace d = tessera::domain;
using eventstore::errc;

template <class T>
inline constexpr bool kIsId = false;
template <class Tag>
inline constexpr bool kIsId<d::Id<Tag>> = true;

template <class D, class T>
concept Is = std::same_as<std::remove_const_t<D>, T>;

// Thrown by Reader and caught by decode(): never leaves this file. Reading a
// struct field by field is simplest with a throw at the first that fails.
struct Unreadable {
  std::string field;
  std::string why;
};

constexpr std::array kInvitationStatuses = {d::InvitationStatus::pending, d::InvitationStatus::accepted,
                                            d::InvitationStatus::cancelled, d::InvitationStatus::superseded,
                                            d::InvitationStatus::expired};
constexpr std::array kRegistrationStatuses = {d::RegistrationStatus::active, d::RegistrationStatus::cancelled,
                                              d::RegistrationStatus::revoked};

// --- each struct's fields, once, for both directions -----------------------

template <class V, Is<ContractDoc> D>
void fields(V& v, D& doc) {
  v("v", doc.version);
  v("org", doc.org);
  v("id", doc.id);
  v("name", doc.name);
  v("reuse_cancelled_codes", doc.reuse_cancelled_codes);
  v("default_price", doc.default_price);
}

template <class V, Is<SessionDoc> D>
void fields(V& v, D& doc) {
  v("v", doc.version);
  v("org", doc.org);
  v("id", doc.id);
  v("name", doc.name);
  v("contract", doc.contract);
  v("opens_at", doc.opens_at);
  v("capacity", doc.seats.capacity);
  v("reserved", doc.seats.reserved);
  v("registered", doc.seats.registered);
}

template <class V, Is<BatchTerms> D>
void fields(V& v, D& terms) {
  v("contract", terms.contract);
  v("session", terms.session);
  v("price", terms.price);
  v("note", terms.note);
  v("valid_from", terms.valid_from);
  v("valid_until", terms.valid_until);
  v("max_uses", terms.max_uses);
}

template <class V, Is<BatchDoc> D>
void fields(V& v, D& doc) {
  v("v", doc.version);
  v("org", doc.org);
  v("id", doc.id);
  v("terms", doc.terms);
  v("quantity", doc.quantity);
  v("generated", doc.generated);
  v("restrictions", doc.restrictions);
  v("prefix", doc.prefix);
}

template <class V, Is<CodeDoc> D>
void fields(V& v, D& doc) {
  v("v", doc.version);
  v("org", doc.org);
  v("code", doc.code);
  v("batch", doc.batch);
  v("pos", doc.pos);
  v("assignee", doc.assignee);
  v("uses", doc.uses);
  v("price", doc.price);
  v("note", doc.note);
  v("valid_from", doc.valid_from);
  v("valid_until", doc.valid_until);
  v("archived", doc.archived);
  v("deleted", doc.deleted);
  v("last_redeemer", doc.last_redeemer);
  v("terms", doc.terms);
}

template <class V, Is<InvitationDoc> D>
void fields(V& v, D& doc) {
  v("v", doc.version);
  v("org", doc.org);
  v("id", doc.id);
  v("status", doc.status);
  v("participant", doc.participant);
  v("code", doc.code);
  v("session", doc.session);
  v("expires_at", doc.expires_at);
  v("bind_to_email", doc.bind_to_email);
  v("over_capacity", doc.over_capacity);
  v("sent_at", doc.sent_at);
  v("resent_at", doc.resent_at);
  v("ended_at", doc.ended_at);
  v("registration", doc.registration);
  v("pos", doc.pos);
}

template <class V, Is<RegistrationDoc> D>
void fields(V& v, D& doc) {
  v("v", doc.version);
  v("org", doc.org);
  v("id", doc.id);
  v("code", doc.code);
  v("participant", doc.participant);
  v("session", doc.session);
  v("price", doc.price);
  v("status", doc.status);
  v("access_from", doc.access_from);
  v("access_until", doc.access_until);
  v("invitation", doc.invitation);
  v("ended_at", doc.ended_at);
  v("pos", doc.pos);
}

template <class V, Is<ContractSummary> D>
void fields(V& v, D& doc) {
  v("total", doc.total);
  for (std::size_t i = 0; i < d::kCodeStatuses.size(); ++i) v(d::to_string(d::kCodeStatuses[i]), doc.by_status[i]);
}

// The byte a document's stored form starts with.
template <class Doc>
constexpr char kKind = Is<Doc, ContractDoc>       ? 'c'
                       : Is<Doc, SessionDoc>      ? 's'
                       : Is<Doc, BatchDoc>        ? 'b'
                       : Is<Doc, CodeDoc>         ? 'k'
                       : Is<Doc, InvitationDoc>   ? 'i'
                       : Is<Doc, RegistrationDoc> ? 'r'
                                                  : 'm';

// --- writing ---------------------------------------------------------------

class Writer {
 public:
  explicit Writer(char kind) {
    out_.reserve(128);
    out_.push_back(kind);
  }
  template <class T>
  void operator()(std::string_view, const T& value) {
    put(value);
  }
  std::string take() { return std::move(out_); }

 private:
  void count(std::uint64_t value) {
    while (value >= 0x80) {
      out_.push_back(static_cast<char>((value & 0x7f) | 0x80));
      value >>= 7;
    }
    out_.push_back(static_cast<char>(value));
  }
  void whole(std::int64_t value) {
    count((static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63));
  }
  void bytes(std::string_view text) {
    count(text.size());
    out_.append(text);
  }

  template <class T>
  void put(const T& value) {
    if constexpr (std::is_same_v<T, bool>) {
      out_.push_back(value ? '\1' : '\0');
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
      count(value);
    } else if constexpr (std::is_same_v<T, std::string>) {
      bytes(value);
    } else if constexpr (kIsId<T>) {
      bytes(value.str());
    } else if constexpr (std::is_same_v<T, d::Timestamp>) {
      whole(value.micros);
    } else if constexpr (std::is_enum_v<T>) {
      bytes(d::to_string(value));
    } else if constexpr (std::is_same_v<T, d::Money>) {
      whole(value.amount);
      bytes(value.currency);
    } else if constexpr (std::is_same_v<T, d::Participant>) {
      for (const auto* part : {&value.email, &value.name, &value.group, &value.region, &value.external_id}) {
        bytes(*part);
      }
    } else if constexpr (std::is_same_v<T, d::Restrictions>) {
      for (const auto* list : {&value.emails, &value.email_domains, &value.regions, &value.groups}) {
        count(list->size());
        for (const auto& item : *list) bytes(item);
      }
    } else {
      static_assert(std::is_same_v<T, BatchTerms>);
      fields(*this, value);
    }
  }
  template <class T>
  void put(const std::optional<T>& value) {
    out_.push_back(value ? '\1' : '\0');
    if (value) put(*value);
  }

  std::string out_;
};

// --- reading ---------------------------------------------------------------

class Reader {
 public:
  Reader(std::string_view in, char kind) : in_(in) {
    if (in_.empty() || in_.front() != kind) throw Unreadable{"the document", "is not a stored document of its kind"};
    at_ = 1;
  }
  template <class T>
  void operator()(std::string_view name, T& out) {
    const std::size_t depth = path_.size();
    if (!path_.empty()) path_.push_back('.');
    path_.append(name);
    get(out);
    path_.resize(depth);
  }
  void finish() const {
    if (at_ != in_.size()) throw Unreadable{"the document", "has bytes past its last field"};
  }

 private:
  [[noreturn]] void fail(std::string why) const { throw Unreadable{path_, std::move(why)}; }
  char byte() {
    if (at_ == in_.size()) fail("is cut short");
    return in_[at_++];
  }
  std::uint64_t count() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const auto b = static_cast<unsigned char>(byte());
      if (shift == 63 && (b & 0x7e) != 0) fail("is not a count in range");
      value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return value;
    }
    fail("is not a count in range");
  }
  std::int64_t whole() {
    const std::uint64_t zigzag = count();
    return static_cast<std::int64_t>((zigzag >> 1) ^ (~(zigzag & 1) + 1));
  }
  std::string bytes() {
    const std::uint64_t size = count();
    if (size > in_.size() - at_) fail("is cut short");
    std::string out(in_.substr(at_, size));
    at_ += size;
    return out;
  }
  bool flag(const char* what) {
    const char b = byte();
    if (b != '\0' && b != '\1') fail(what);
    return b == '\1';
  }
  template <class Status, std::size_t N>
  Status status(const std::array<Status, N>& all) {
    const std::string slug = bytes();
    const auto it = std::ranges::find_if(all, [&](Status s) { return d::to_string(s) == slug; });
    if (it == all.end()) fail("is no status: " + slug);
    return *it;
  }

  template <class T>
  void get(T& out) {
    if constexpr (std::is_same_v<T, bool>) {
      out = flag("is not a boolean");
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
      const std::uint64_t value = count();
      if (value > std::numeric_limits<T>::max()) fail("is not a count in range");
      out = static_cast<T>(value);
    } else if constexpr (std::is_same_v<T, std::string>) {
      out = bytes();
    } else if constexpr (kIsId<T>) {
      out = T(bytes());
    } else if constexpr (std::is_same_v<T, d::Timestamp>) {
      out = d::Timestamp{whole()};
    } else if constexpr (std::is_same_v<T, d::InvitationStatus>) {
      out = status(kInvitationStatuses);
    } else if constexpr (std::is_same_v<T, d::RegistrationStatus>) {
      out = status(kRegistrationStatuses);
    } else if constexpr (std::is_same_v<T, d::Money>) {
      out.amount = whole();
      out.currency = bytes();
    } else if constexpr (std::is_same_v<T, d::Participant>) {
      for (auto* part : {&out.email, &out.name, &out.group, &out.region, &out.external_id}) *part = bytes();
    } else if constexpr (std::is_same_v<T, d::Restrictions>) {
      for (auto* list : {&out.emails, &out.email_domains, &out.regions, &out.groups}) {
        const std::uint64_t size = count();
        if (size > in_.size() - at_) fail("is cut short");  // each item takes a byte at least
        list->clear();
        for (std::uint64_t i = 0; i < size; ++i) list->push_back(bytes());
      }
    } else {
      static_assert(std::is_same_v<T, BatchTerms>);
      fields(*this, out);
    }
  }
  template <class T>
  void get(std::optional<T>& out) {
    if (flag("is neither absent nor present")) {
      get(out.emplace());
    } else {
      out.reset();
    }
  }

  std::string_view in_;
  std::size_t at_ = 0;
  std::string path_;
};

template <class Doc>
std::string encode_as(const Doc& doc) {
  Writer writer(kKind<Doc>);
  fields(writer, doc);
  return writer.take();
}

}  // namespace

std::string encode(const ContractDoc& doc) { return encode_as(doc); }
std::string encode(const SessionDoc& doc) { return encode_as(doc); }
std::string encode(const BatchDoc& doc) { return encode_as(doc); }
std::string encode(const CodeDoc& doc) { return encode_as(doc); }
std::string encode(const InvitationDoc& doc) { return encode_as(doc); }
std::string encode(const RegistrationDoc& doc) { return encode_as(doc); }
std::string encode(const ContractSummary& doc) { return encode_as(doc); }

template <class Doc>
result<Doc> decode(std::string_view key, std::string_view stored) {
  try {
    Reader reader(stored, kKind<Doc>);
    Doc doc;
    fields(reader, doc);
    reader.finish();
    return doc;
  } catch (const Unreadable& unreadable) {
    return Error(errc::corruption, "read models: " + std::string(key) + ": " + unreadable.field + " " + unreadable.why);
  }
}

template result<ContractDoc> decode<ContractDoc>(std::string_view, std::string_view);
template result<SessionDoc> decode<SessionDoc>(std::string_view, std::string_view);
template result<BatchDoc> decode<BatchDoc>(std::string_view, std::string_view);
template result<CodeDoc> decode<CodeDoc>(std::string_view, std::string_view);
template result<InvitationDoc> decode<InvitationDoc>(std::string_view, std::string_view);
template result<RegistrationDoc> decode<RegistrationDoc>(std::string_view, std::string_view);
template result<ContractSummary> decode<ContractSummary>(std::string_view, std::string_view);

}  // namespace tessera::projections::detail
