// Internal: answer delivery. Fulfils the answers of synced batches on a
// thread of its own, in the order they were handed over. Waking each caller
// is a system call; meanwhile the syncer can sync the next batches. Handed
// answers are already final: the batch's sync is done (durable, or failed)
// before hand_over().
//
// Lifetime: the destructor answers everything still held, then stops.
// Threading: hand_over() from any thread; callbacks run on the completer's.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "tessera/pipeline/pipeline.h"

namespace tessera::pipeline::detail {

class Completer {
 public:
  // One job's answers, each with the callback it goes to.
  using Answers = std::vector<std::pair<Pipeline::AnswerCallback, result<Accepted>>>;

  Completer();
  ~Completer();
  Completer(const Completer&) = delete;
  Completer& operator=(const Completer&) = delete;

  // A sync's answers, a job's list each, in order; one wake-up for all.
  void hand_over(std::vector<Answers> answers);

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Answers> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tessera::pipeline::detail
