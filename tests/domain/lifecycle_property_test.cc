// Properties of the whole code lifecycle. A small random world (two
// organisations, contracts, sessions, batches of codes, a pool of
// participants) receives a random sequence of every lifecycle command, with
// time moving on between steps. Each command is decided against the states
// folded from the events accepted so far, loaded exactly as the pipeline
// loads them (pipeline/src/pipeline.cc), and its events are folded back.
//
// After every step the promises of docs/architecture.md hold:
//   1. a code's uses never exceed its batch's max_uses, and equal the number
//      of its registrations whose use was not given back;
//   2. a session's reserved + registered never exceed its capacity; reserved
//      is the number of its pending invitations and registered the number of
//      its active registrations; capacity rises only through an over-capacity
//      invitation (confirmed, on a full session) or a capacity change;
//   4. no accepted redemption or claim took an archived, deleted, expired,
//      not-yet-valid or exhausted code, one assigned to someone else, or one
//      whose restrictions the participant fails; a bound invitation is
//      claimed only with the invitee's email; a lapsed invitation is never
//      claimed; a code's pending list holds exactly its pending invitations;
//      an accepted command writes only to streams of its own organisation.
// Beyond the invariants: a cancelled booking gives its code's use back exactly
// when the contract's reuse policy says so; and every rejection for a reason
// about the code (archived, exhausted, expired, not yet valid, assigned
// elsewhere, restricted), the seat (full, not open, below occupancy) or the
// invitation (not pending, bound) is the reason an oracle written apart from
// decide.cc finds first: nobody is refused for a reason that does not hold.
// Time moves on by random amounts, and sometimes exactly to the next deadline
// (a validity window, a session's opening, an invitation's expiry) or to the
// instant before it, so that boundaries are hit.
// And decide() is deterministic: the same command against the same state
// (or a copy of it) gives the same answer.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "given_when_then.h"
#include "tessera/domain/decide.h"
#include "tessera/domain/streams.h"
#include "text.h"

namespace {

using tessera::test_support::cat;

std::string num(std::int64_t v) { return std::to_string(v); }

using namespace tessera::domain;

const OrgId kAcme{"acme"};
const OrgId kGlobex{"globex"};

constexpr std::int64_t kSecond = 1'000'000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
const Timestamp kT0{1'800'000'000 * kSecond};

Timestamp plus(Timestamp t, std::int64_t micros) { return Timestamp{t.micros + micros}; }

// ---------------------------------------------------------------------------
// The folded states of every stream, as the pipeline's cache holds them, and
// decisions through the pipeline's own entry, domain::decide(command, aggregates).

using Store = tessera::test_support::Given;
using tessera::result;

// ---------------------------------------------------------------------------
// Reading commands and results in a failure log.

std::string show(const std::optional<Timestamp>& t) {
  return t ? cat("T0", (t->micros >= kT0.micros ? "+" : ""), num((t->micros - kT0.micros) / kSecond), "s")
           : std::string("-");
}
std::string show(Timestamp t) { return show(std::optional<Timestamp>(t)); }
std::string show(const std::optional<Money>& m) { return m ? cat(num(m->amount), m->currency) : std::string("-"); }
std::string show(const Participant& p) { return cat(p.email, "/", p.group, "/", p.region); }

std::string show(const Command& command) {
  return std::visit(
      [](const auto& c) -> std::string {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, Redeem>) {
          return cat("Redeem ", c.org.str(), " code=", c.code_key, " by=", show(c.participant),
                     " session=", c.session ? c.session->str() : "-", " reg=", c.registration.str(),
                     " now=", show(c.now));
        } else if constexpr (std::is_same_v<C, Invite>) {
          return cat("Invite ", c.org.str(), " ", c.invitation.str(), " session=", c.session.str(),
                     " to=", show(c.participant), " code=", c.code_key.value_or("-"), " expires=", show(c.expires_at),
                     c.bind_to_email ? " bound" : "", c.confirm_over_capacity ? " confirm" : "", " now=", show(c.now));
        } else if constexpr (std::is_same_v<C, ResendInvitation>) {
          return cat("Resend ", c.org.str(), " ", c.invitation.str(), " now=", show(c.now));
        } else if constexpr (std::is_same_v<C, CancelInvitation>) {
          return cat("CancelInvitation ", c.org.str(), " ", c.invitation.str(), " now=", show(c.now));
        } else if constexpr (std::is_same_v<C, ExpireInvitation>) {
          return cat("Expire ", c.invitation.str(), " now=", show(c.now));
        } else if constexpr (std::is_same_v<C, ClaimInvitation>) {
          return cat("Claim ", c.invitation.str(), " by=", c.participant ? show(*c.participant) : "(invitee)",
                     " reg=", c.registration.str(), " now=", show(c.now));
        } else if constexpr (std::is_same_v<C, CancelRegistration>) {
          return cat("CancelRegistration ", c.org.str(), " ", c.registration.str(), " now=", show(c.now));
        } else if constexpr (std::is_same_v<C, RevokeRegistration>) {
          return cat("Revoke ", c.org.str(), " ", c.registration.str(), " now=", show(c.now));
        } else if constexpr (std::is_same_v<C, ChangeAccess>) {
          return cat("ChangeAccess ", c.org.str(), " ", c.registration.str(), " until=", show(c.access_until));
        } else if constexpr (std::is_same_v<C, AssignCode>) {
          return cat("Assign ", c.org.str(), " ", c.code_key, " to=", show(c.participant));
        } else if constexpr (std::is_same_v<C, EditCode>) {
          return cat("Edit ", c.org.str(), " ", c.code_key, " note=", c.note ? "y" : "-", " price=", show(c.price),
                     " from=", show(c.valid_from), " until=", show(c.valid_until));
        } else if constexpr (std::is_same_v<C, ArchiveCode>) {
          return cat("Archive ", c.org.str(), " ", c.code_key);
        } else if constexpr (std::is_same_v<C, DeleteCode>) {
          return cat("Delete ", c.org.str(), " ", c.code_key);
        } else if constexpr (std::is_same_v<C, ChangeCapacity>) {
          return cat("ChangeCapacity ", c.org.str(), " ", c.session.str(), " to=", num(c.capacity));
        } else if constexpr (std::is_same_v<C, EditSession>) {
          return cat("EditSession ", c.org.str(), " ", c.session.str(),
                     " capacity=", c.capacity ? num(*c.capacity) : "-", " name=", c.name ? *c.name : "-",
                     " opens_at=", c.opens_at ? show(*c.opens_at) : "-");
        } else if constexpr (std::is_same_v<C, ConfigureContract>) {
          return cat("Configure ", c.org.str(), " ", c.contract.str(),
                     " reuse=", c.reuse_cancelled_codes ? (*c.reuse_cancelled_codes ? "true" : "false") : "-",
                     " default_price=", c.default_price ? show(*c.default_price) : "(unchanged)");
        } else if constexpr (std::is_same_v<C, CreateContract>) {
          return cat("CreateContract ", c.org.str(), " ", c.contract.str(),
                     " reuse=", c.reuse_cancelled_codes ? "true" : "false", " default_price=", show(c.default_price));
        } else if constexpr (std::is_same_v<C, CreateSession>) {
          return cat("CreateSession ", c.org.str(), " ", c.session.str(), " capacity=", num(c.capacity),
                     " contract=", c.contract ? c.contract->str() : "-", " opens_at=", show(c.opens_at));
        } else if constexpr (std::is_same_v<C, IssueBatchChunk>) {
          return cat("IssueBatchChunk ", c.org.str(), " ", c.batch.str(), " codes=", num(c.codes.size()));
        } else {
          static_assert(std::is_same_v<C, GenerateBatch>);
          std::string r = cat("Generate ", c.org.str(), " ", c.batch.str(), " contract=", c.contract.str(),
                              " session=", c.session ? c.session->str() : "-", " max_uses=", num(c.max_uses),
                              " price=", show(c.price), " from=", show(c.valid_from), " until=", show(c.valid_until),
                              " prefix=", c.prefix, " restrict[emails=");
          for (const auto& e : c.restrictions.emails) r += cat(e, ",");
          r += " domains=";
          for (const auto& e : c.restrictions.email_domains) r += cat(e, ",");
          r += " regions=";
          for (const auto& e : c.restrictions.regions) r += cat(e, ",");
          r += " groups=";
          for (const auto& e : c.restrictions.groups) r += cat(e, ",");
          r += "] codes=";
          for (std::size_t i = 0; i < c.codes.size(); ++i) {
            r += c.codes[i].key;
            if (i < c.participants.size()) r += cat("(", c.participants[i].email, ")");
            r += ",";
          }
          return r;
        }
      },
      command);
}

std::string show(const result<Events>& r) {
  if (!r) return cat("rejected ", r.error().code.message(), ": ", r.error().detail);
  std::string out = "accepted:";
  for (const auto& e : r.value()) out += cat(" ", e.stream.str(), ":", event_type(e.event));
  return out;
}

bool same(const result<Events>& a, const result<Events>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (a.has_value()) return a.value() == b.value();
  return a.error().code == b.error().code && a.error().detail == b.error().detail;
}

// ---------------------------------------------------------------------------
// An oracle written apart from decide.cc: whether `who` may take a use of a
// code at `now` (invariant 4). Empty when usable, else why not.

std::string lower(std::string_view s) {
  std::string out;
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  for (std::size_t i = b; i < e; ++i) {
    const char c = s[i];
    out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

bool listed(const std::vector<std::string>& list, const std::string& value, bool fold) {
  for (const auto& item : list) {
    std::string v = fold ? lower(item) : item;
    if (fold && !v.empty() && v.front() == '@') v.erase(0, 1);
    if (v == value) return true;
  }
  return false;
}

std::string why_restricted(const Restrictions& r, const Participant& who);

std::string why_unusable(const CodeState& code, const BatchState& batch, const OrgId& org, const Participant& who,
                         Timestamp now) {
  if (!code.exists) return "no such code";
  if (code.deleted) return "deleted";
  if (code.org != org) return "another organisation's code";
  if (!batch.exists) return "no batch";
  if (code.archived) return "archived";
  const auto& t = batch.terms;
  if (code.uses >= t.max_uses) return "exhausted";
  const auto from = code.valid_from ? code.valid_from : t.valid_from;
  const auto until = code.valid_until ? code.valid_until : t.valid_until;
  if (from && now < *from) return "not yet valid";
  if (until && now >= *until) return "expired";
  if (code.assignee && lower(code.assignee->email) != lower(who.email)) return "assigned to another email";
  return why_restricted(t.restrictions, who);
}

std::string why_restricted(const Restrictions& r, const Participant& who) {
  const std::string email = lower(who.email);
  if (!r.emails.empty() && !listed(r.emails, email, true)) return "email restriction";
  const std::string domain = email.substr(email.rfind('@') + 1);
  if (!r.email_domains.empty() && !listed(r.email_domains, domain, true)) return "domain restriction";
  if (!r.regions.empty() && !listed(r.regions, who.region, false)) return "region restriction";
  if (!r.groups.empty() && !listed(r.groups, who.group, false)) return "group restriction";
  return {};
}

// ---------------------------------------------------------------------------
// The world a case starts from.

const std::vector<Participant>& pool() {
  static const std::vector<Participant> kPool = {
      {"ann@example.com", "Ann", "staff", "EU", ""},   {"Bob@Example.COM", "Bob", "guests", "US", "x-2"},
      {"cy@example.org", "Cy", "staff", "US", ""},     {"dee@example.org", "Dee", "guests", "EU", ""},
      {"EVE@other.net", "Eve", "staff", "EU", ""},     {"fay@other.net", "Fay", "", "", ""},
      {"zed@nowhere.io", "Zed", "guests", "APAC", ""},  // in no restriction list
  };
  return kPool;
}

// Every code of the world, with its organisation.
struct CodeRef {
  std::string key;
  OrgId org;
};

struct World {
  Store store;
  std::vector<SessionId> sessions;  // acme's; globex has s0 only
  std::vector<CodeRef> codes;
  std::vector<ContractId> contracts;                            // acme's c1, c2 (globex has c1)
  std::vector<InvitationId> invitations;                        // every invitation sent
  std::vector<std::pair<OrgId, RegistrationId>> registrations;  // every registration created
  // Registrations whose code use was given back (revoked, or cancelled with reuse).
  std::set<std::string> released;
};

void setup(World& w, const Command& command) {
  const auto r = w.store.when(command);
  RC_LOG() << "setup " << show(command) << " -> " << show(r) << "\n";
  if (!r) RC_FAIL(cat("setup rejected: ", show(command), " -> ", show(r)));
  w.store.given(r.value());
}

std::optional<Timestamp> pick_time(int choice, std::initializer_list<std::int64_t> offsets) {
  if (choice <= 0 || choice > static_cast<int>(offsets.size())) return std::nullopt;
  return plus(kT0, offsets.begin()[choice - 1]);
}

Restrictions gen_restrictions() {
  Restrictions r;
  auto sometimes = [] { return *rc::gen::inRange(0, 5) == 0; };
  if (sometimes()) {
    const int a = *rc::gen::inRange(0, 7);
    const int b = *rc::gen::inRange(0, 7);
    r.emails.push_back(pool()[static_cast<std::size_t>(a)].email);
    // Another spelling of the same kind of address: restrictions compare normalised.
    std::string e = pool()[static_cast<std::size_t>(b)].email;
    for (auto& ch : e) ch = (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 'a' + 'A') : ch;
    r.emails.push_back(e);
  }
  if (sometimes()) {
    static const std::vector<std::string> kDomains = {"example.com", "EXAMPLE.org", "@other.net"};
    r.email_domains.push_back(kDomains[*rc::gen::inRange<std::size_t>(0, kDomains.size())]);
  }
  if (sometimes()) r.regions.push_back(*rc::gen::element<std::string>("EU", "US"));
  if (sometimes()) r.groups.push_back(*rc::gen::element<std::string>("staff", "guests"));
  return r;
}

World gen_world() {
  World w;
  // Contracts: acme c1, c2; globex c1 (the same id in another organisation).
  for (int c = 1; c <= 2; ++c) {
    const bool reuse = *rc::gen::arbitrary<bool>();
    const bool priced = *rc::gen::arbitrary<bool>();
    w.contracts.emplace_back(cat("c", num(c)));
    setup(w, CreateContract{kAcme, w.contracts.back(), cat("Contract ", num(c)), reuse,
                            priced ? std::optional<Money>(Money{1000 * c, "EUR"}) : std::nullopt});
  }
  setup(w, CreateContract{kGlobex, ContractId("c1"), "Globex", *rc::gen::arbitrary<bool>(), Money{500, "USD"}});

  // Sessions: acme s0.. with small capacities, opening before or after T0.
  const int n_sessions = *rc::gen::inRange(2, 4);
  for (int s = 0; s < n_sessions; ++s) {
    const auto capacity = *rc::gen::inRange<std::uint32_t>(0, 5);
    const auto opens_at = pick_time(*rc::gen::inRange(0, 4), {-kHour, 2 * kHour, kDay});
    const int contract = *rc::gen::inRange(0, 3);  // 0: none
    w.sessions.emplace_back(cat("s", num(s)));
    setup(w, CreateSession{kAcme, w.sessions.back(), cat("Session ", num(s)), capacity,
                           contract ? std::optional<ContractId>(w.contracts[static_cast<std::size_t>(contract - 1)])
                                    : std::nullopt,
                           opens_at});
  }
  setup(w, CreateSession{kGlobex, SessionId("s0"), "Globex session", *rc::gen::inRange<std::uint32_t>(0, 5),
                         ContractId("c1"), std::nullopt});

  // Batches: acme b0.. with random terms, some codes assigned at once.
  std::uint64_t bits = 0;
  auto next_code = [&](const std::string& prefix) {
    ++bits;
    return make_code(bits * 0x9E3779B97F4A7C15ULL, prefix);
  };
  const int n_batches = *rc::gen::inRange(2, 4);
  for (int b = 0; b < n_batches; ++b) {
    GenerateBatch g;
    g.org = kAcme;
    g.batch = BatchId(cat("b", num(b)));
    g.contract = w.contracts[*rc::gen::inRange<std::size_t>(0, 2)];
    const int session = *rc::gen::inRange(0, n_sessions + 1);  // n_sessions: none
    if (session < n_sessions) g.session = w.sessions[static_cast<std::size_t>(session)];
    g.max_uses = *rc::gen::inRange<std::uint32_t>(1, 4);
    if (*rc::gen::arbitrary<bool>()) g.price = Money{250 * (b + 1), "EUR"};
    g.valid_from = pick_time(*rc::gen::inRange(0, 4), {-kDay, kHour, kDay});
    g.valid_until = pick_time(*rc::gen::inRange(0, 4), {2 * kHour, kDay + kHour, 3 * kDay});
    if (g.valid_from && g.valid_until && *g.valid_until <= *g.valid_from) g.valid_until.reset();
    g.restrictions = gen_restrictions();
    g.prefix = *rc::gen::element<std::string>("", "", "GOLD", "vip");
    g.note = "batch";
    if (*rc::gen::inRange(0, 3) == 0) {
      const auto assigned = *rc::gen::inRange(1, 3);
      for (int i = 0; i < assigned; ++i) {
        g.participants.push_back(pool()[*rc::gen::inRange<std::size_t>(0, pool().size())]);
      }
      if (*rc::gen::arbitrary<bool>()) {
        for (int i = 0; i < assigned; ++i) g.participant_prices.push_back(Money{10 * (i + 1), "EUR"});
      }
    } else {
      g.quantity = *rc::gen::inRange<std::uint32_t>(1, 4);
    }
    const std::size_t n = g.participants.empty() ? g.quantity : g.participants.size();
    for (std::size_t i = 0; i < n; ++i) {
      g.codes.push_back(next_code(g.prefix));
      w.codes.push_back({g.codes.back().key, kAcme});
    }
    setup(w, g);
  }
  // Globex's own batch b0 (acme's id again), two single-use codes.
  GenerateBatch g;
  g.org = kGlobex;
  g.batch = BatchId("b0");
  g.contract = ContractId("c1");
  g.quantity = 2;
  g.codes = {next_code(""), next_code("")};
  for (const auto& c : g.codes) w.codes.push_back({c.key, kGlobex});
  setup(w, g);
  return w;
}

// ---------------------------------------------------------------------------
// A step: a command kind and raw numbers the command is built from against
// the world as it is at that step (so shrinking keeps steps meaningful), and
// how far time moves on before it.

enum Kind : int {
  kRedeem,
  kInvite,
  kResend,
  kCancelInvitation,
  kExpire,
  kClaim,
  kCancelRegistration,
  kRevoke,
  kChangeAccess,
  kAssign,
  kEdit,
  kArchive,
  kDelete,
  kChangeCapacity,
  kConfigure,
  kEditSession,
};

using Step = std::tuple<int, int, int, int, int, int, int>;  // kind, a, b, c, d, flags, dt

rc::Gen<Step> gen_step() {
  return rc::gen::tuple(
      rc::gen::weightedElement<int>({{20, kRedeem},
                                     {12, kInvite},
                                     {2, kResend},
                                     {4, kCancelInvitation},
                                     {4, kExpire},
                                     {12, kClaim},
                                     {6, kCancelRegistration},
                                     {4, kRevoke},
                                     {2, kChangeAccess},
                                     {4, kAssign},
                                     {2, kEdit},
                                     {1, kArchive},
                                     {1, kDelete},
                                     {4, kChangeCapacity},
                                     {2, kConfigure},
                                     {2, kEditSession}}),
      rc::gen::inRange(0, 1000), rc::gen::inRange(0, 1000), rc::gen::inRange(0, 1000), rc::gen::inRange(0, 1000),
      rc::gen::inRange(0, 256),
      // Mostly small, sometimes hours, so that validity windows and expiries
      // get crossed; and sometimes exactly to the next deadline (6) or to the
      // instant before it (7), so that their boundaries get hit.
      rc::gen::weightedElement<int>({{3, 0}, {2, 1}, {3, 2}, {3, 3}, {2, 4}, {1, 5}, {2, 6}, {1, 7}}));
}

constexpr std::int64_t kSteps[] = {0, kSecond, kMinute, 10 * kMinute, kHour, 6 * kHour};

// The earliest instant after `now` at which something may change: a code's
// validity window opening or closing, a session opening, an invitation's expiry.
std::optional<Timestamp> next_deadline(const Store& s, Timestamp now) {
  std::optional<Timestamp> next;
  auto consider = [&](const std::optional<Timestamp>& t) {
    if (t && *t > now && (!next || *t < *next)) next = t;
  };
  for (const auto& [stream, state] : s.all()) {
    if (const auto* b = std::get_if<BatchState>(&state)) {
      consider(b->terms.valid_from);
      consider(b->terms.valid_until);
    } else if (const auto* c = std::get_if<CodeState>(&state)) {
      consider(c->valid_from);
      consider(c->valid_until);
    } else if (const auto* se = std::get_if<SessionState>(&state)) {
      consider(se->terms.opens_at);
    } else if (const auto* i = std::get_if<InvitationState>(&state); i && i->status == InvitationStatus::pending) {
      consider(i->terms.expires_at);
    }
  }
  return next;
}

Timestamp advance(const Store& s, Timestamp now, int dt) {
  if (dt < 6) return plus(now, kSteps[dt]);
  const auto next = next_deadline(s, now);
  if (!next) return now;
  return dt == 6 ? *next : std::max(now, plus(*next, -1));
}

template <class T>
const T& pick(const std::vector<T>& v, int i) {
  return v[static_cast<std::size_t>(i) % v.size()];
}

// One command in ten goes to the other organisation.
const OrgId& flip(const OrgId& org, int d) { return d % 10 == 0 ? (org == kAcme ? kGlobex : kAcme) : org; }

// A code of the world, or (one time in sixteen) one never issued.
CodeRef code_ref(const World& w, int i) {
  if (i % 16 == 15) return {make_code(0x5A5A5A5A5A5ULL, "").key, kAcme};
  return pick(w.codes, i / 16);
}

std::string shout(std::string s) {
  for (auto& ch : s) ch = (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 'a' + 'A') : ch;
  return s;
}

Command build(const World& w, const Step& step, std::size_t index, Timestamp now) {
  const auto [kind, a, b, c, d, flags, dt] = step;
  (void)dt;
  const auto& people = pool();
  const RegistrationId fresh_reg(cat("r", num(static_cast<std::int64_t>(index))));
  const InvitationId fresh_inv(cat("i", num(static_cast<std::int64_t>(index))));
  // Mostly a pending invitation, else any sent so far, else one never sent.
  auto invitation = [&](int i) {
    std::vector<InvitationId> pending;
    for (const auto& id : w.invitations) {
      if (w.store.get<InvitationState>(invitation_stream(id)).status == InvitationStatus::pending)
        pending.push_back(id);
    }
    if (i % 3 != 0 && !pending.empty()) return pick(pending, i / 3);
    const auto n = static_cast<int>(w.invitations.size());
    return i % (n + 1) < n ? w.invitations[static_cast<std::size_t>(i % (n + 1))] : InvitationId("i_none");
  };
  auto invitation_org = [&](const InvitationId& id) {
    const auto& inv = w.store.get<InvitationState>(invitation_stream(id));
    return inv.exists ? inv.terms.org : kAcme;
  };
  // Mostly an active registration, else any created so far, else one never created.
  auto registration = [&](int i) {
    std::vector<std::pair<OrgId, RegistrationId>> active;
    for (const auto& r : w.registrations) {
      if (w.store.get<RegistrationState>(registration_stream(r.first, r.second)).status == RegistrationStatus::active) {
        active.push_back(r);
      }
    }
    if (i % 3 != 0 && !active.empty()) return pick(active, i / 3);
    const auto n = static_cast<int>(w.registrations.size());
    return i % (n + 1) < n ? w.registrations[static_cast<std::size_t>(i % (n + 1))]
                           : std::pair{kAcme, RegistrationId("r_none")};
  };
  auto session = [&](const OrgId& org, int i) {
    if (org == kGlobex) return SessionId(i % 4 == 0 ? "s1" : "s0");  // globex has s0 only
    return i % 8 == 7 ? SessionId("s_none") : pick(w.sessions, i / 8);
  };
  // Mostly the code's assignee when it has one (spelled differently half the time).
  auto participant_for = [&](const std::string& code_key, int i) {
    const auto& code = w.store.get<CodeState>(code_stream(code_key));
    if (code.assignee && i % 2 == 0) {
      Participant p = *code.assignee;
      if (i % 4 == 0) p.email = shout(p.email);
      return p;
    }
    return pick(people, i / 2);
  };

  switch (kind) {
    case kRedeem: {
      const CodeRef code = code_ref(w, a);
      const OrgId& org = flip(code.org, d);
      // The batch's session left out, named, or another session named.
      std::optional<SessionId> s;
      const auto& state = w.store.get<CodeState>(code_stream(code.key));
      const auto& batch = w.store.get<BatchState>(batch_stream(state.org, state.batch));
      if (c % 3 == 1 && batch.terms.session) s = batch.terms.session;
      if (c % 3 == 2 || (c % 3 == 1 && !s)) s = session(org, c / 3);
      const RegistrationId reg =
          (d % 20 == 1 && !w.registrations.empty()) ? pick(w.registrations, d).second : fresh_reg;
      return Redeem{org, code.key, participant_for(code.key, b), s, reg, now};
    }
    case kInvite: {
      Invite inv;
      std::optional<CodeRef> code;
      if (flags & 1) code = code_ref(w, c);
      inv.org = flip(code ? code->org : kAcme, d);
      inv.invitation = (d % 20 == 1 && !w.invitations.empty()) ? pick(w.invitations, d) : fresh_inv;
      inv.session = session(inv.org, a);
      inv.participant = code ? participant_for(code->key, b) : pick(people, b);
      if (code) inv.code_key = code->key;
      switch ((flags >> 1) & 3) {
        case 1:
          inv.expires_at = plus(now, kMinute);
          break;
        case 2:
          inv.expires_at = plus(now, kHour);
          break;
        case 3:
          inv.expires_at = plus(now, d % 5 == 0 ? 0 : kDay);
          break;
        default:
          break;
      }
      inv.bind_to_email = (flags & 8) != 0;
      inv.confirm_over_capacity = (flags & 16) != 0;
      inv.now = now;
      return inv;
    }
    case kResend: {
      const auto id = invitation(a);
      return ResendInvitation{flip(invitation_org(id), d), id, now};
    }
    case kCancelInvitation: {
      const auto id = invitation(a);
      return CancelInvitation{flip(invitation_org(id), d), id, now};
    }
    case kExpire:
      return ExpireInvitation{invitation(a), now};
    case kClaim: {
      const auto id = invitation(a);
      std::optional<Participant> who;
      if (b % 3 == 1) {
        // The invitee, spelled in capitals: the same email once normalised.
        const auto& inv = w.store.get<InvitationState>(invitation_stream(id));
        Participant p = inv.exists ? inv.terms.participant : people.front();
        p.email = shout(p.email);
        who = p;
      } else if (b % 3 == 2) {
        who = pick(people, c);
      }
      const RegistrationId reg =
          (d % 20 == 1 && !w.registrations.empty()) ? pick(w.registrations, d).second : fresh_reg;
      return ClaimInvitation{id, who, reg, now};
    }
    case kCancelRegistration: {
      const auto [org, id] = registration(a);
      return CancelRegistration{flip(org, d), id, now};
    }
    case kRevoke: {
      const auto [org, id] = registration(a);
      return RevokeRegistration{flip(org, d), id, now};
    }
    case kChangeAccess: {
      const auto [org, id] = registration(a);
      std::optional<Timestamp> until;
      if (b % 3 == 1) until = plus(now, kDay);
      if (b % 3 == 2) until = plus(now, -kHour);
      return ChangeAccess{flip(org, d), id, until};
    }
    case kAssign: {
      const CodeRef code = code_ref(w, a);
      return AssignCode{flip(code.org, d), code.key, pick(people, b)};
    }
    case kEdit: {
      const CodeRef code = code_ref(w, a);
      EditCode e{flip(code.org, d), code.key, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
      if (flags & 1) e.note = "edited";
      if (flags & 2) e.price = Money{c, "EUR"};
      if (flags & 4) e.valid_from = plus(now, std::array<std::int64_t, 3>{-kHour, kHour, kDay}[c % 3]);
      if (flags & 8) e.valid_until = plus(now, std::array<std::int64_t, 3>{-kMinute, 2 * kHour, 2 * kDay}[b % 3]);
      return e;
    }
    case kArchive: {
      const CodeRef code = code_ref(w, a);
      return ArchiveCode{flip(code.org, d), code.key};
    }
    case kDelete: {
      const CodeRef code = code_ref(w, a);
      return DeleteCode{flip(code.org, d), code.key};
    }
    case kChangeCapacity: {
      const OrgId& org = flip(kAcme, d);
      return ChangeCapacity{org, session(org, a), static_cast<std::uint32_t>(b % 6)};
    }
    case kEditSession: {
      const OrgId& org = flip(kAcme, d);
      EditSession edit{org, session(org, a), std::nullopt, std::nullopt, std::nullopt};
      if ((flags & 1) != 0) edit.capacity = static_cast<std::uint32_t>(b % 6);
      if ((flags & 2) != 0) edit.name = (flags & 4) != 0 ? std::string() : cat("Renamed ", num(c));
      if ((flags & 8) != 0) edit.opens_at = pick_time(c % 4, {-kHour, 2 * kHour, kDay});
      return edit;
    }
    default: {
      ConfigureContract cc;
      cc.org = flip(kAcme, d);
      cc.contract = a % 5 == 4 ? ContractId("c_none") : pick(w.contracts, a);
      if (b % 3 == 1) cc.reuse_cancelled_codes = true;
      if (b % 3 == 2) cc.reuse_cancelled_codes = false;
      if (c % 3 == 1) cc.default_price = std::optional<Money>(Money{c, "EUR"});
      if (c % 3 == 2) cc.default_price = std::optional<Money>();
      return cc;
    }
  }
}

// ---------------------------------------------------------------------------
// Checks.

#define CHECK(cond, message)                                                    \
  do {                                                                          \
    if (!(cond)) RC_FAIL(cat("violated: " #cond " -- ", std::string(message))); \
  } while (false)

// The organisation a stream belongs to, read from its name or its state.
OrgId org_of_stream(const Store& s, const std::string& stream) {
  const auto dash = stream.find('-');
  const std::string category = stream.substr(0, dash);
  if (category == "code") return s.get<CodeState>(StreamId(stream)).org;
  if (category == "invitation") return s.get<InvitationState>(StreamId(stream)).terms.org;
  const auto second = stream.find('-', dash + 1);
  return OrgId(stream.substr(dash + 1, second - dash - 1));
}

// Checks on one accepted command against the states it was decided on
// (`before`) and the states after its events (`after`).
void check_accepted(const Store& before, const Store& after, const Command& command, const Events& events) {
  // Invariant 4 for a redemption.
  if (const auto* c = std::get_if<Redeem>(&command)) {
    const auto& code = before.get<CodeState>(code_stream(c->code_key));
    const auto& batch = before.get<BatchState>(batch_stream(code.org, code.batch));
    const std::string why = why_unusable(code, batch, c->org, c->participant, c->now);
    CHECK(why.empty(), cat("redeemed a code that is ", why));
    const auto session_id = c->session ? c->session : batch.terms.session;
    CHECK(session_id.has_value(), "redeemed without a session");
    const auto& session = before.get<SessionState>(session_stream(c->org, *session_id));
    CHECK(session.exists, "redeemed into an unknown session");
    CHECK(!batch.terms.session || *batch.terms.session == *session_id,
          "redeemed into another session than the batch's");
    CHECK(!session.terms.opens_at || c->now >= *session.terms.opens_at, "redeemed before the session opened");
    CHECK(session.occupied() < session.capacity, "redeemed into a full session");
  }
  // Invariant 4 for a claim.
  if (const auto* c = std::get_if<ClaimInvitation>(&command)) {
    const auto& inv = before.get<InvitationState>(invitation_stream(c->invitation));
    CHECK(inv.exists && inv.status == InvitationStatus::pending, "claimed an invitation that was not pending");
    CHECK(!inv.terms.expires_at || c->now < *inv.terms.expires_at, "claimed an invitation past its expires_at");
    const Participant who = c->participant ? *c->participant : inv.terms.participant;
    CHECK(!inv.terms.bind_to_email || lower(who.email) == lower(inv.terms.participant.email),
          "a bound invitation claimed with another email");
    if (inv.terms.code) {
      const auto& code = before.get<CodeState>(code_stream(code_key_of(*inv.terms.code)));
      const auto& batch = before.get<BatchState>(batch_stream(code.org, code.batch));
      const std::string why = why_unusable(code, batch, inv.terms.org, who, c->now);
      CHECK(why.empty(), cat("claimed with a code that is ", why));
    }
  }
  if (const auto* c = std::get_if<Invite>(&command)) {
    const auto& session = before.get<SessionState>(session_stream(c->org, c->session));
    CHECK(session.exists, "invited to an unknown session");
    CHECK(!c->expires_at || *c->expires_at > c->now, "invited with an expires_at already past");
    CHECK(session.occupied() < session.capacity || c->confirm_over_capacity, "invited into a full session unconfirmed");
    if (c->code_key) {
      const auto& code = before.get<CodeState>(code_stream(*c->code_key));
      const auto& batch = before.get<BatchState>(batch_stream(code.org, code.batch));
      const std::string why = why_unusable(code, batch, c->org, c->participant, c->now);
      CHECK(why.empty(), cat("invited with a code that is ", why));
      CHECK(!batch.terms.session || *batch.terms.session == c->session, "invited with a code for another session");
    }
  }
  if (const auto* c = std::get_if<AssignCode>(&command); c && !events.empty()) {
    const auto& code = before.get<CodeState>(code_stream(c->code_key));
    const auto& batch = before.get<BatchState>(batch_stream(code.org, code.batch));
    CHECK(code.exists && !code.deleted && code.org == c->org, "assigned another organisation's or a deleted code");
    CHECK(!code.assignee, "assigned a code already assigned");
    CHECK(!code.archived && code.uses < batch.terms.max_uses, "assigned an archived or exhausted code");
    const std::string why = why_restricted(batch.terms.restrictions, c->participant);
    CHECK(why.empty(), cat("assigned to a participant who fails the ", why));
  }
  if (const auto* c = std::get_if<DeleteCode>(&command)) {
    const auto& code = before.get<CodeState>(code_stream(c->code_key));
    CHECK(code.redemptions_ever == 0, "deleted a code that was used");
    CHECK(code.pending.empty(), "deleted a code with pending invitations");
  }
  if (const auto* c = std::get_if<EditCode>(&command); c && !events.empty()) {
    const auto& code = before.get<CodeState>(code_stream(c->code_key));
    CHECK(code.redemptions_ever == 0 && !code.archived, "edited a used or archived code");
  }
  if (const auto* c = std::get_if<CancelRegistration>(&command)) {
    // A cancelled booking gives its code's use back exactly when the code's
    // contract says cancelled codes are reused.
    const auto& reg = before.get<RegistrationState>(registration_stream(c->org, c->registration));
    bool reuse = false;
    if (reg.terms.code) {
      const auto& code = before.get<CodeState>(code_stream(code_key_of(*reg.terms.code)));
      const auto& batch = before.get<BatchState>(batch_stream(code.org, code.batch));
      reuse = before.get<ContractState>(contract_stream(code.org, batch.terms.contract)).terms.reuse_cancelled_codes;
    }
    bool flagged = false;
    bool released = false;
    for (const auto& e : events) {
      if (const auto* rc = std::get_if<RegistrationCancelled>(&e.event)) flagged = rc->code_reusable;
      if (std::holds_alternative<CodeUseReleased>(e.event)) released = true;
    }
    CHECK(flagged == reuse && released == reuse, cat("cancellation gave the use back: ", released ? "yes" : "no",
                                                     ", the contract's reuse policy: ", reuse ? "yes" : "no"));
  }
  if (const auto* c = std::get_if<ExpireInvitation>(&command)) {
    const auto& inv = before.get<InvitationState>(invitation_stream(c->invitation));
    CHECK(inv.status == InvitationStatus::pending && inv.terms.expires_at && c->now >= *inv.terms.expires_at,
          "expired an invitation not due");
  }
  if (const auto* c = std::get_if<CancelInvitation>(&command)) {
    const auto& inv = before.get<InvitationState>(invitation_stream(c->invitation));
    CHECK(inv.claimable(c->now), "cancelled an invitation that was not pending");
  }

  // Every event is for a stream of the command's own organisation.
  OrgId org = std::visit(
      [&](const auto& c) -> OrgId {
        if constexpr (requires { c.org; }) {
          return c.org;
        } else if constexpr (requires { c.invitation; }) {
          return before.get<InvitationState>(invitation_stream(c.invitation)).terms.org;
        } else {
          return OrgId("?");
        }
      },
      command);
  for (const auto& e : events) {
    CHECK(org_of_stream(after, e.stream.str()) == org,
          cat("event ", event_type(e.event), " on ", e.stream.str(), " for a command of ", org.str()));
  }

  // Capacity rises only through a confirmed over-capacity invitation on a
  // full session (by exactly one) or through a capacity change.
  for (const auto& [stream, state] : after.all()) {
    const auto* s = std::get_if<SessionState>(&state);
    if (!s) continue;
    const auto& old = before.get<SessionState>(StreamId(stream));
    if (!old.exists || s->capacity <= old.capacity) continue;
    bool changed = false;
    bool over = false;
    for (const auto& e : events) {
      if (e.stream.str() != stream) continue;
      if (std::holds_alternative<SessionCapacityChanged>(e.event)) changed = true;
      if (const auto* r = std::get_if<SeatReserved>(&e.event); r && r->over_capacity) over = true;
    }
    if (changed) continue;
    const auto* invite = std::get_if<Invite>(&command);
    CHECK(over && invite && invite->confirm_over_capacity && old.occupied() >= old.capacity &&
              s->capacity == old.capacity + 1,
          cat("capacity of ", stream, " rose from ", num(old.capacity), " to ", num(s->capacity)));
  }
}

// A rejection for a reason about the code, the seat or the invitation must be
// the reason the oracle finds first (decide.cc checks in the same order): the
// domain refuses nobody for a reason that does not hold.
void check_rejected(const Store& s, const Command& command, const tessera::Error& rejection) {
  const std::error_code& code = rejection.code;
  const std::string got = code.message();
  auto expect_code_reason = [&](const std::string& why) {
    std::string want;
    if (why == "archived") want = "code-archived";
    if (why == "exhausted") want = "code-exhausted";
    if (why == "not yet valid") want = "code-not-yet-valid";
    if (why == "expired") want = "code-expired";
    if (why == "assigned to another email") want = "code-assigned-elsewhere";
    if (why.ends_with("restriction")) want = "code-restricted";
    if (why == "no such code" || why == "deleted" || why == "another organisation's code" || why == "no batch") {
      want = "code-unknown";
    }
    CHECK(got == want,
          cat("rejected with ", got, " (", rejection.detail, ") but the code is ", why.empty() ? "usable" : why));
  };
  auto is_code_slug = [&] {
    return code == errc::code_archived || code == errc::code_exhausted || code == errc::code_not_yet_valid ||
           code == errc::code_expired || code == errc::code_assigned_elsewhere || code == errc::code_restricted ||
           code == errc::code_unknown;
  };
  if (const auto* c = std::get_if<Redeem>(&command)) {
    const auto& st = s.get<CodeState>(code_stream(c->code_key));
    const auto& batch = s.get<BatchState>(batch_stream(st.org, st.batch));
    const std::string why = why_unusable(st, batch, c->org, c->participant, c->now);
    if (is_code_slug()) expect_code_reason(why);
    if (code == errc::session_full || code == errc::session_not_open) {
      CHECK(why.empty(), cat("rejected with ", got, " but the code is ", why));
      const auto session_id = c->session ? c->session : batch.terms.session;
      const auto& session = s.get<SessionState>(session_stream(c->org, *session_id));
      if (code == errc::session_full) {
        CHECK(session.occupied() >= session.capacity, "rejected as full with a seat left");
      } else {
        CHECK(session.terms.opens_at && c->now < *session.terms.opens_at, "rejected as not open when open");
      }
    }
  }
  if (const auto* c = std::get_if<Invite>(&command)) {
    if (c->code_key && is_code_slug()) {
      const auto& st = s.get<CodeState>(code_stream(*c->code_key));
      const auto& batch = s.get<BatchState>(batch_stream(st.org, st.batch));
      expect_code_reason(why_unusable(st, batch, c->org, c->participant, c->now));
    }
    if (code == errc::session_full) {
      const auto& session = s.get<SessionState>(session_stream(c->org, c->session));
      CHECK(session.occupied() >= session.capacity && !c->confirm_over_capacity,
            "invitation rejected as full with a seat left or over-capacity confirmed");
    }
  }
  if (const auto* c = std::get_if<ClaimInvitation>(&command)) {
    const auto& inv = s.get<InvitationState>(invitation_stream(c->invitation));
    const bool claimable = inv.exists && inv.status == InvitationStatus::pending &&
                           !(inv.terms.expires_at && c->now >= *inv.terms.expires_at);
    CHECK((code == errc::invitation_not_pending) == (inv.exists && !claimable),
          cat("claim rejected with ", got, " of an invitation ", inv.exists ? to_string(inv.status) : "unknown"));
    const Participant who = c->participant ? *c->participant : inv.terms.participant;
    if (code == errc::invitation_bound) {
      CHECK(inv.terms.bind_to_email && lower(who.email) != lower(inv.terms.participant.email),
            "claim rejected as bound with the invitee's own email");
    }
    if (inv.terms.code && is_code_slug()) {
      const auto& st = s.get<CodeState>(code_stream(code_key_of(*inv.terms.code)));
      const auto& batch = s.get<BatchState>(batch_stream(st.org, st.batch));
      expect_code_reason(why_unusable(st, batch, inv.terms.org, who, c->now));
    }
  }
  if (const auto* c = std::get_if<AssignCode>(&command)) {
    const auto& st = s.get<CodeState>(code_stream(c->code_key));
    const auto& batch = s.get<BatchState>(batch_stream(st.org, st.batch));
    if (code == errc::code_assigned_elsewhere) {
      CHECK(st.assignee && lower(st.assignee->email) != lower(c->participant.email),
            "assignment rejected as assigned elsewhere to the assignee");
    }
    if (code == errc::code_restricted) {
      CHECK(!why_restricted(batch.terms.restrictions, c->participant).empty(),
            "assignment rejected as restricted to a participant who passes");
    }
  }
  if (const auto* c = std::get_if<ChangeCapacity>(&command); c && code == errc::capacity_below_occupancy) {
    CHECK(c->capacity < s.get<SessionState>(session_stream(c->org, c->session)).occupied(),
          "capacity change rejected though it holds every seat taken");
  }
  if (const auto* c = std::get_if<EditSession>(&command); c && code == errc::capacity_below_occupancy) {
    CHECK(c->capacity && *c->capacity < s.get<SessionState>(session_stream(c->org, c->session)).occupied(),
          "session edit rejected though its capacity holds every seat taken");
  }
}

// Invariants 1, 2 and the pending lists, over every aggregate of the store.
void check_store(const World& w) {
  std::map<std::string, const CodeState*> codes;
  std::map<std::string, const SessionState*> sessions;
  std::vector<const InvitationState*> invitations;
  std::vector<std::pair<std::string, const RegistrationState*>> registrations;
  for (const auto& [stream, state] : w.store.all()) {
    if (const auto* c = std::get_if<CodeState>(&state)) codes[stream] = c;
    if (const auto* s = std::get_if<SessionState>(&state)) sessions[stream] = s;
    if (const auto* i = std::get_if<InvitationState>(&state)) invitations.push_back(i);
    if (const auto* r = std::get_if<RegistrationState>(&state)) registrations.emplace_back(stream, r);
  }

  // Recounts from the invitations and registrations.
  std::map<std::string, std::uint32_t> reserved;    // session stream -> pending invitations
  std::map<std::string, std::uint32_t> registered;  // session stream -> active registrations
  std::map<std::string, std::uint32_t> uses;        // code stream -> uses not given back
  std::map<std::string, std::uint32_t> ever;        // code stream -> registrations with the code
  std::map<std::string, std::set<std::string>> pending_of_code;
  for (const auto* i : invitations) {
    if (i->status != InvitationStatus::pending) continue;
    ++reserved[session_stream(i->terms.org, i->terms.session).str()];
    if (i->terms.code)
      pending_of_code[code_stream(code_key_of(*i->terms.code)).str()].insert(i->terms.invitation.str());
  }
  for (const auto& [stream, r] : registrations) {
    if (r->status == RegistrationStatus::active) ++registered[session_stream(r->terms.org, r->terms.session).str()];
    if (!r->terms.code) continue;
    const std::string code = code_stream(code_key_of(*r->terms.code)).str();
    ++ever[code];
    if (!w.released.contains(stream)) ++uses[code];
  }

  for (const auto& [stream, code] : codes) {
    const auto& batch = w.store.get<BatchState>(batch_stream(code->org, code->batch));
    CHECK(batch.exists, cat(stream, " has no batch"));
    // Invariant 1.
    CHECK(code->uses <= batch.terms.max_uses,
          cat(stream, " uses ", num(code->uses), " > max_uses ", num(batch.terms.max_uses)));
    CHECK(code->uses == uses[stream],
          cat(stream, " uses ", num(code->uses), " but ", num(uses[stream]), " registrations hold a use"));
    CHECK(code->redemptions_ever == ever[stream],
          cat(stream, " redemptions_ever ", num(code->redemptions_ever), " but ", num(ever[stream]), " registrations"));
    // The pending list holds exactly the code's pending invitations.
    std::set<std::string> listed;
    for (const auto& p : code->pending) {
      const auto& inv = w.store.get<InvitationState>(invitation_stream(p.invitation));
      CHECK(inv.exists && inv.status == InvitationStatus::pending,
            cat(stream, " lists ", p.invitation.str(), " which is ", inv.exists ? to_string(inv.status) : "unknown"));
      CHECK(inv.terms.code && code_stream(code_key_of(*inv.terms.code)).str() == stream &&
                inv.terms.session == p.session && inv.terms.org == code->org,
            cat(stream, " lists ", p.invitation.str(), " which is for another code or session"));
      CHECK(listed.insert(p.invitation.str()).second, cat(stream, " lists ", p.invitation.str(), " twice"));
    }
    CHECK(listed == pending_of_code[stream], cat(stream, " does not list all its pending invitations"));
    CHECK(!code->deleted || (code->uses == 0 && code->pending.empty()), cat(stream, " deleted but in use"));
  }
  for (const auto& [stream, session] : sessions) {
    // Invariant 2.
    CHECK(session->occupied() <= session->capacity,
          cat(stream, " reserved ", num(session->reserved), " + registered ", num(session->registered), " > capacity ",
              num(session->capacity)));
    CHECK(session->reserved == reserved[stream],
          cat(stream, " reserved ", num(session->reserved), " but ", num(reserved[stream]), " pending invitations"));
    CHECK(session->registered == registered[stream], cat(stream, " registered ", num(session->registered), " but ",
                                                         num(registered[stream]), " active registrations"));
  }
}

// Folds accepted events and keeps the world's lists of what exists.
void accept(World& w, const Events& events) {
  w.store.given(events);
  for (const auto& e : events) {
    if (const auto* sent = std::get_if<InvitationSent>(&e.event)) w.invitations.push_back(sent->invitation);
    if (const auto* created = std::get_if<RegistrationCreated>(&e.event)) {
      w.registrations.emplace_back(created->org, created->registration);
    }
    if (std::holds_alternative<RegistrationRevoked>(e.event)) w.released.insert(e.stream.str());
    if (const auto* cancelled = std::get_if<RegistrationCancelled>(&e.event); cancelled && cancelled->code_reusable) {
      w.released.insert(e.stream.str());
    }
  }
}

void run(World& w, const std::vector<Step>& steps, bool copy_determinism) {
  Timestamp now = kT0;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    now = advance(w.store, now, std::get<6>(steps[i]));
    const Command command = build(w, steps[i], i, now);
    const auto r = w.store.when(command);
    RC_LOG() << i << ": " << show(command) << " -> " << show(r) << "\n";

    // Determinism: the same command against the same state, and against a copy.
    const auto again = w.store.when(command);
    CHECK(same(r, again), cat("second decision differs: ", show(again)));
    if (copy_determinism) {
      Store copy = w.store;
      const auto on_copy = copy.when(command);
      CHECK(same(r, on_copy), cat("decision on a copy differs: ", show(on_copy)));
    }

    if (!r) {
      check_rejected(w.store, command, r.error());
      continue;
    }
    const Store before = w.store;
    accept(w, r.value());
    check_accepted(before, w.store, command, r.value());
    check_store(w);
  }
}

RC_GTEST_PROP(LifecycleInvariants, HoldAfterEveryStepOfAnyCommandSequence, ()) {
  World w = gen_world();
  // Up to 200 steps: rapidcheck's sizes run 0..99, a container's length 0..size.
  const auto steps = *rc::gen::withSize([](int size) {
    return rc::gen::resize(std::min(200, 4 * size + 20), rc::gen::container<std::vector<Step>>(gen_step()));
  });
  check_store(w);
  run(w, steps, false);
}

RC_GTEST_PROP(LifecycleInvariants, DecideIsDeterministic, ()) {
  World w = gen_world();
  const auto steps = *rc::gen::container<std::vector<Step>>(gen_step());
  run(w, steps, true);
}

}  // namespace
