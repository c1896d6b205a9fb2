// Property: whatever the sequence of redemptions, cancellations, revocations
// and capacity changes, decided one after the other against the state folded
// from the events accepted so far, after every step
//   invariant 1: every code's uses <= its max_uses, and
//   invariant 2: every session's reserved + registered <= its capacity,
// and each decision agrees with a simple model (accepted exactly when a use
// and a seat are left; otherwise code-exhausted, then session-full).

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "given_when_then.h"
#include "tessera/domain/decide.h"
#include "tessera/domain/streams.h"
#include "text.h"

namespace {

using tessera::test_support::cat;

using namespace tessera::domain;
using tessera::result;

const OrgId kOrg{"acme"};
const ContractId kContract{"c1"};

using Store = tessera::test_support::Given;

struct ActiveRegistration {
  RegistrationId id;
  std::size_t code;
  std::size_t session;
};

std::string show(const result<Events>& r) {
  return r ? std::string("accepted") : std::string(r.error().code.message());
}

RC_GTEST_PROP(RedemptionInvariants, UsesAndSeatsNeverExceedTheirLimits, ()) {
  const auto n_sessions = *rc::gen::inRange<std::size_t>(1, 4);
  const auto n_codes = *rc::gen::inRange<std::size_t>(1, 6);
  const auto n_people = *rc::gen::inRange<std::size_t>(1, 8);
  const auto capacities =
      *rc::gen::container<std::vector<std::uint32_t>>(n_sessions, rc::gen::inRange<std::uint32_t>(0, 6));
  const auto max_uses = *rc::gen::container<std::vector<std::uint32_t>>(n_codes, rc::gen::inRange<std::uint32_t>(1, 5));
  const bool reuse = *rc::gen::arbitrary<bool>();
  // (kind, code, session, person, target): kind 0..5 redeem, 6 change capacity, 7..8 cancel, 9 revoke.
  using Step = std::tuple<int, std::size_t, std::size_t, std::size_t, std::size_t>;
  const auto steps = *rc::gen::container<std::vector<Step>>(rc::gen::tuple(
      rc::gen::inRange(0, 10), rc::gen::inRange<std::size_t>(0, n_codes), rc::gen::inRange<std::size_t>(0, n_sessions),
      rc::gen::inRange<std::size_t>(0, n_people), rc::gen::inRange<std::size_t>(0, 1000)));

  Store store;
  store.run(CreateContract{kOrg, kContract, "Contract", reuse, std::nullopt}).value();
  std::vector<SessionId> sessions;
  for (std::size_t s = 0; s < n_sessions; ++s) {
    sessions.emplace_back(cat("s", std::to_string(s)));
    store.run(CreateSession{kOrg, sessions.back(), "Session", capacities[s], kContract, std::nullopt}).value();
  }
  std::vector<CodeValue> codes;
  for (std::size_t c = 0; c < n_codes; ++c) {
    GenerateBatch g;
    g.org = kOrg;
    g.batch = BatchId(cat("b", std::to_string(c)));
    g.contract = kContract;
    g.quantity = 1;
    g.max_uses = max_uses[c];
    g.codes = {make_code(1000 + c, "")};
    codes.push_back(g.codes.front());
    store.run(g).value();
  }

  // The model.
  std::vector<std::uint32_t> uses(n_codes, 0);
  std::vector<std::uint32_t> registered(n_sessions, 0);
  std::vector<std::uint32_t> capacity(capacities);
  std::vector<ActiveRegistration> active;

  const Timestamp now{1'800'000'000'000'000};

  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto [kind, c, s, p, target] = steps[i];
    if (kind <= 5) {
      const Redeem cmd{kOrg,
                       codes[c].key,
                       Participant{cat("p", std::to_string(p), "@example.com"), "", "", "", ""},
                       sessions[s],
                       RegistrationId(cat("r", std::to_string(i))),
                       now};
      const auto r = store.when(cmd);
      std::string expected = "accepted";
      if (uses[c] >= max_uses[c]) {
        expected = "code-exhausted";
      } else if (registered[s] >= capacity[s]) {
        expected = "session-full";
      }
      RC_ASSERT(show(r) == expected);
      if (r) {
        store.given(r.value());
        ++uses[c];
        ++registered[s];
        active.push_back({cmd.registration, c, s});
      }
    } else if (kind == 6) {
      const auto wanted = static_cast<std::uint32_t>(target % 7);
      const auto r = store.when(ChangeCapacity{kOrg, sessions[s], wanted});
      RC_ASSERT(show(r) == std::string(wanted < registered[s] ? "capacity-below-occupancy" : "accepted"));
      if (r) {
        store.given(r.value());
        capacity[s] = wanted;
      }
    } else if (!active.empty()) {
      const std::size_t k = target % active.size();
      const ActiveRegistration reg = active[k];
      const auto r = kind <= 8 ? store.when(CancelRegistration{kOrg, reg.id, now})
                               : store.when(RevokeRegistration{kOrg, reg.id, now});
      RC_ASSERT(show(r) == std::string("accepted"));
      store.given(r.value());
      --registered[reg.session];
      if (kind == 9 || reuse) --uses[reg.code];
      active.erase(active.begin() + static_cast<std::ptrdiff_t>(k));
    }

    // After every step: the invariants, and the folded state agrees with the model.
    for (std::size_t cc = 0; cc < n_codes; ++cc) {
      const auto& code = store.get<CodeState>(code_stream(codes[cc].key));
      RC_ASSERT(code.uses <= max_uses[cc]);
      RC_ASSERT(code.uses == uses[cc]);
    }
    for (std::size_t ss = 0; ss < n_sessions; ++ss) {
      const auto& session = store.get<SessionState>(session_stream(kOrg, sessions[ss]));
      RC_ASSERT(session.occupied() <= session.capacity);
      RC_ASSERT(session.registered == registered[ss]);
      RC_ASSERT(session.capacity == capacity[ss]);
    }
  }
}

}  // namespace
