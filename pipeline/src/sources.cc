#include <openssl/rand.h>

#include <pthread.h>

#include <array>
#include <atomic>
#include <chrono>
#include <stdexcept>

#include "tessera/pipeline/pipeline.h"

namespace tessera::pipeline {
namespace {

std::atomic<unsigned> forks_seen{0};

// Changes in a child after every fork(), so per-process caches can tell.
unsigned process_generation() {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, [] { forks_seen.fetch_add(1, std::memory_order_relaxed); });
    return true;
  }();
  (void)registered;
  return forks_seen.load(std::memory_order_relaxed) + 1;
}

}  // namespace

Sources system_sources() {
  return Sources{
      .now =
          [] {
            const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
            return domain::Timestamp{std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count()};
          },
      .random_u64 =
          [] {
            // Drawn from OpenSSL's CSPRNG 4 KiB at a time: a call per value
            // cost a twelfth of a million-code batch. Per thread, so callers
            // need no lock; each value is handed out once, and a forked
            // child refills rather than repeat its parent's values.
            thread_local std::array<std::uint64_t, 512> pool;
            thread_local std::size_t next = pool.size();
            thread_local unsigned filled_in = 0;
            const unsigned process = process_generation();
            if (next == pool.size() || filled_in != process) {
              filled_in = process;
              if (RAND_bytes(reinterpret_cast<unsigned char*>(pool.data()), sizeof pool) != 1) {
                // Without entropy no code or id can be trusted: stop rather than guess.
                throw std::runtime_error("the CSPRNG failed");
              }
              next = 0;
            }
            return pool[next++];
          },
  };
}

}  // namespace tessera::pipeline
