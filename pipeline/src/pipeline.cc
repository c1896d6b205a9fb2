#include "tessera/pipeline/pipeline.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "aggregate_cache.h"
#include "tessera/codec/json.h"
#include "tessera/domain/streams.h"

namespace tessera::pipeline {

using detail::AggregateCache;
using detail::as;
using detail::Loaded;
namespace d = domain;

namespace {

// Commands taken into one group commit at most; bounds one write batch's size
// and the latency of the commands behind it.
constexpr std::size_t kMaxCommandsPerBatch = 4096;

Refusal refusal(const d::Rejection& r) { return Refusal{make_error_code(r.code), r.detail}; }
Refusal refusal(std::error_code code) { return Refusal{code, code.message()}; }

}  // namespace

class Pipeline::Sequencer {
 public:
  Sequencer(eventstore::Log& log, const Sources& sources) : log_(log), sources_(sources), cache_(log) {
    thread_ = std::thread([this] { run(); });
  }

  ~Sequencer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  std::future<Outcome> submit(d::Command command) {
    std::promise<Outcome> promise;
    auto future = promise.get_future();
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(Pending{std::move(command), std::move(promise)});
    }
    wake_.notify_one();
    return future;
  }

 private:
  struct Pending {
    d::Command command;
    std::promise<Outcome> promise;
  };

  // A command decided in this batch, waiting for the write.
  struct Decided {
    std::size_t pending_index;
    eventstore::AppendRequest request;
    d::Events events;
  };

  void run() {
    std::vector<Pending> batch;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        while (!queue_.empty() && batch.size() < kMaxCommandsPerBatch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      process(batch);
      batch.clear();
    }
  }

  void process(std::vector<Pending>& batch) {
    std::vector<Decided> decided;
    std::vector<d::StreamId> touched;
    const d::Timestamp now = sources_.now();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto events = decide(batch[i].command, now);
      if (!events) {
        batch[i].promise.set_value(events.error());
        continue;
      }
      auto request = to_request(events.value(), now, touched);
      if (!request) {
        batch[i].promise.set_value(refusal(request.error()));
        continue;
      }
      decided.push_back(Decided{i, std::move(request).value(), std::move(events).value()});
    }
    if (decided.empty()) return;

    std::vector<eventstore::AppendRequest> requests;
    requests.reserve(decided.size());
    for (auto& item : decided) requests.push_back(std::move(item.request));
    auto results = log_.append_batch(requests);

    bool any_failed = false;
    for (std::size_t k = 0; k < decided.size(); ++k) {
      auto& promise = batch[decided[k].pending_index].promise;
      if (results[k]) {
        promise.set_value(Accepted{results[k].value(), std::move(decided[k].events)});
      } else {
        any_failed = true;
        spdlog::warn("append refused: {}", results[k].error().message());
        promise.set_value(refusal(results[k].error()));
      }
    }
    // Later decisions in the batch may rest on a failed one: reload what it touched.
    if (any_failed) {
      for (const auto& stream : touched) cache_.forget(stream);
    }
  }

  // Loads each aggregate the command needs, then asks the domain.
  boost::outcome_v2::basic_result<d::Events, Refusal, boost::outcome_v2::policy::terminate> decide(
      d::Command& command, d::Timestamp now) {
    using R = boost::outcome_v2::basic_result<d::Events, Refusal, boost::outcome_v2::policy::terminate>;
    auto lift = [](d::Result<d::Events> r) -> R {
      if (r) return std::move(r).value();
      return refusal(r.error());
    };
    auto load = [&](const d::StreamId& stream) -> eventstore::result<Loaded*> { return cache_.load(stream); };

    return std::visit(
        [&](auto& c) -> R {
          using C = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<C, d::CreateContract>) {
            auto contract = load(d::contract_stream(c.org, c.contract));
            if (!contract) return refusal(contract.error());
            return lift(d::decide(c, as<d::ContractState>(*contract.value())));
          } else if constexpr (std::is_same_v<C, d::CreateSession>) {
            auto session = load(d::session_stream(c.org, c.session));
            if (!session) return refusal(session.error());
            Loaded none;
            Loaded* contract = &none;
            if (c.contract) {
              auto loaded = load(d::contract_stream(c.org, *c.contract));
              if (!loaded) return refusal(loaded.error());
              contract = loaded.value();
            }
            return lift(d::decide(c, as<d::SessionState>(*session.value()), as<d::ContractState>(*contract)));
          } else if constexpr (std::is_same_v<C, d::GenerateBatch>) {
            auto batch = load(d::batch_stream(c.org, c.batch));
            auto contract = load(d::contract_stream(c.org, c.contract));
            if (!batch) return refusal(batch.error());
            if (!contract) return refusal(contract.error());
            Loaded none;
            Loaded* session = &none;
            if (c.session) {
              auto loaded = load(d::session_stream(c.org, *c.session));
              if (!loaded) return refusal(loaded.error());
              session = loaded.value();
            }
            if (auto drawn = draw_codes(c); !drawn) return refusal(drawn.error());
            return lift(d::decide(c, as<d::BatchState>(*batch.value()), as<d::ContractState>(*contract.value()),
                                  as<d::SessionState>(*session)));
          } else {
            static_assert(std::is_same_v<C, d::Redeem>);
            c.now = now;
            return decide_redeem(c);
          }
        },
        command);
  }

  boost::outcome_v2::basic_result<d::Events, Refusal, boost::outcome_v2::policy::terminate> decide_redeem(
      const d::Redeem& c) {
    Loaded none;
    auto code = cache_.load(d::code_stream(c.code_key));
    if (!code) return refusal(code.error());
    const auto& code_state = as<d::CodeState>(*code.value());
    Loaded* batch = &none;
    Loaded* contract = &none;
    Loaded* session = &none;
    if (code_state.exists && code_state.org == c.org) {
      auto loaded_batch = cache_.load(d::batch_stream(c.org, code_state.batch));
      if (!loaded_batch) return refusal(loaded_batch.error());
      batch = loaded_batch.value();
      const auto& terms = as<d::BatchState>(*batch).terms;
      auto loaded_contract = cache_.load(d::contract_stream(c.org, terms.contract));
      if (!loaded_contract) return refusal(loaded_contract.error());
      contract = loaded_contract.value();
      if (const auto session_id = c.session ? c.session : terms.session) {
        auto loaded_session = cache_.load(d::session_stream(c.org, *session_id));
        if (!loaded_session) return refusal(loaded_session.error());
        session = loaded_session.value();
      }
    }
    auto registration = cache_.load(d::registration_stream(c.org, c.registration));
    if (!registration) return refusal(registration.error());
    auto decided = d::decide(c, d::RedeemContext{code_state, as<d::BatchState>(*batch),
                                                 as<d::ContractState>(*contract), as<d::SessionState>(*session),
                                                 as<d::RegistrationState>(*registration.value())});
    if (!decided) return refusal(decided.error());
    return std::move(decided).value();
  }

  // Fresh code values for a batch: random, and new to the store and to the
  // decisions not yet written. The log's expected-version check (a code
  // stream must not exist) makes uniqueness hold even against other writers.
  eventstore::result<void> draw_codes(d::GenerateBatch& c) {
    const std::size_t wanted = c.participants.empty() ? c.quantity : c.participants.size();
    if (wanted > d::kMaxBatchQuantity || (!c.prefix.empty() && !d::valid_prefix(c.prefix))) {
      return eventstore::outcome::success();  // decide() rejects it with the reason
    }
    std::unordered_set<std::string> drawn;
    drawn.reserve(wanted);
    c.codes.clear();
    c.codes.reserve(wanted);
    while (c.codes.size() < wanted) {
      d::CodeValue code = d::make_code(sources_.random_u64(), c.prefix);
      if (drawn.contains(code.key)) continue;
      const d::StreamId stream = d::code_stream(code.key);
      auto exists = cache_.exists(stream);
      if (!exists) return exists.error();
      if (exists.value()) continue;
      cache_.adopt_empty(stream);
      drawn.insert(code.key);
      c.codes.push_back(std::move(code));
    }
    return eventstore::outcome::success();
  }

  // Turns decided events into one atomic append, each stream expected at the
  // version the decision saw, and folds them into the cache.
  eventstore::result<eventstore::AppendRequest> to_request(const d::Events& events, d::Timestamp now,
                                                            std::vector<d::StreamId>& touched) {
    eventstore::AppendRequest request;
    request.recorded_at_micros = now.micros;
    std::unordered_map<std::string, std::size_t> write_of_stream;
    for (const auto& e : events) {
      auto loaded = cache_.load(e.stream);
      if (!loaded) return loaded.error();
      auto [it, inserted] = write_of_stream.try_emplace(e.stream.str(), request.writes.size());
      if (inserted) {
        request.writes.push_back(eventstore::StreamWrite{e.stream.str(), loaded.value()->version, {}});
        touched.push_back(e.stream);
      }
      request.writes[it->second].events.push_back(eventstore::ProposedEvent{
          std::string(d::event_type(e.event)), d::kEventSchemaVersion, codec::encode_event(e.event)});
    }
    for (const auto& e : events) {
      Loaded* loaded = cache_.load(e.stream).value();
      loaded->state = d::evolve(std::move(loaded->state), e.event);
      ++loaded->version.value;
    }
    return request;
  }

  eventstore::Log& log_;
  const Sources& sources_;
  AggregateCache cache_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

Pipeline::Pipeline(eventstore::Log& log, Sources sources)
    : sources_(std::move(sources)), sequencer_(std::make_unique<Sequencer>(log, sources_)) {}

Pipeline::~Pipeline() = default;

std::future<Outcome> Pipeline::submit(d::Command command) { return sequencer_->submit(std::move(command)); }

domain::Timestamp Pipeline::now() const { return sources_.now(); }

std::string Pipeline::new_id() {
  static constexpr std::string_view kSymbols = "0123456789abcdefghjkmnpqrstvwxyz";
  std::string id;
  for (int word = 0; word < 2; ++word) {
    std::uint64_t bits = sources_.random_u64();
    for (int i = 0; i < 10; ++i, bits >>= 5U) id.push_back(kSymbols[bits & 31U]);
  }
  return id;
}

}  // namespace tessera::pipeline
