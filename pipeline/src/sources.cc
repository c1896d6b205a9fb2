#include <openssl/rand.h>

#include <chrono>
#include <stdexcept>

#include "tessera/pipeline/pipeline.h"

namespace tessera::pipeline {

Sources system_sources() {
  return Sources{
      .now =
          [] {
            const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
            return domain::Timestamp{std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count()};
          },
      .random_u64 =
          [] {
            std::uint64_t value = 0;
            if (RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value) != 1) {
              // Without entropy no code or id can be trusted: stop rather than guess.
              throw std::runtime_error("the CSPRNG failed");
            }
            return value;
          },
  };
}

}  // namespace tessera::pipeline
