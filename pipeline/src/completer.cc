#include "completer.h"

#include <algorithm>
#include <iterator>

namespace tessera::pipeline::detail {

Completer::Completer() : thread_([this] { run(); }) {}

Completer::~Completer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Completer::hand_over(std::vector<Answers> answers) {
  {
    std::lock_guard lock(mutex_);
    std::ranges::move(answers, std::back_inserter(queue_));
  }
  wake_.notify_one();
}

void Completer::run() {
  for (;;) {
    std::deque<Answers> taken;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      taken.swap(queue_);
    }
    for (auto& answers : taken) {
      for (auto& [on_answer, outcome] : answers) on_answer(std::move(outcome));
    }
  }
}

}  // namespace tessera::pipeline::detail
