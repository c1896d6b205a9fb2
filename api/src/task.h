// Internal: Task<T>, the coroutine a request is handled in, so that waiting
// for the log or the read models holds no thread.
//
// A Task starts suspended. Awaited (`co_await task`), it runs until its own
// first wait, and the awaiting coroutine resumes with its value once it
// returns. At the top of a request, start() runs one and hands its value to a
// callback. A Task is owned by whoever holds it: destroying one that never
// ran frees its frame. Exceptions travel to the awaiting coroutine; one that
// escapes a started Task is a bug, and terminates.
//
// Two GCC 12 miscompilations to steer clear of (both seen here, the second
// under ASan):
//  - a co_await inside an `if` condition or a `?:` operand: the resumed
//    coroutine runs into a trap (SIGILL). Await into a variable, then test it.
//  - a temporary of another type converted into a coroutine's by-value
//    parameter (`execute(call, d::ArchiveCode{...})`, into domain::Command):
//    the parameter's strings point into the caller's frame. Pass a coroutine
//    named values (std::move them) or values of the parameter's own type.
//
// Threading: a Task runs on whichever thread resumes it; the awaitables that
// suspend it (submitted(), models_reached() in call.h) resume it on the
// request's executor.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <utility>

namespace tessera::api::detail {

template <class T>
class [[nodiscard]] Task {
 public:
  struct promise_type {
    std::optional<T> value;
    std::exception_ptr failure;
    std::coroutine_handle<> awaiting;              // set when awaited
    std::move_only_function<void(T)> on_finished;  // set when started

    Task get_return_object() { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }

    struct Finished {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> self) noexcept {
        promise_type& promise = self.promise();
        if (promise.awaiting) return promise.awaiting;
        if (promise.failure) std::terminate();
        auto finished = std::move(promise.on_finished);
        T result = std::move(*promise.value);
        self.destroy();
        finished(std::move(result));
        return std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    Finished final_suspend() noexcept { return {}; }

    template <class U>
    void return_value(U&& v) {
      value.emplace(std::forward<U>(v));
    }
    void unhandled_exception() noexcept { failure = std::current_exception(); }
  };

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    handle_.promise().awaiting = awaiting;
    return handle_;
  }
  T await_resume() {
    promise_type& promise = handle_.promise();
    if (promise.failure) std::rethrow_exception(promise.failure);
    return std::move(*promise.value);
  }

  // Runs `task` from here until its first wait; `finished` gets its value,
  // on the thread that resumed it last. The task's frame frees itself.
  friend void start(Task task, std::move_only_function<void(T)> finished) {
    auto handle = std::exchange(task.handle_, {});
    handle.promise().on_finished = std::move(finished);
    handle.resume();
  }

 private:
  explicit Task(std::coroutine_handle<promise_type> handle) : handle_(handle) {}
  std::coroutine_handle<promise_type> handle_;
};

}  // namespace tessera::api::detail
