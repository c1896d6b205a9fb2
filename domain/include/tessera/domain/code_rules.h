// What a code is, read from its own state and its batch's terms: its status
// and its effective values. The pipeline's decisions, the read models and
// the API's answers all call these, so a code reads the same everywhere.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace tessera::domain {

// Every status a code can show, in the order summaries list them.
enum class CodeStatus { available, assigned, used, archived };
inline constexpr std::array<CodeStatus, 4> kCodeStatuses = {CodeStatus::available, CodeStatus::assigned,
                                                            CodeStatus::used, CodeStatus::archived};

std::string_view to_string(CodeStatus status);
// The status a slug names ("used"); nullopt for anything else.
std::optional<CodeStatus> parse_code_status(std::string_view slug);

// What a code's status follows from.
struct CodeStatusFacts {
  bool archived = false;
  std::uint32_t uses = 0;
  std::uint32_t max_uses = 1;  // the batch's
  bool assigned = false;       // bound to a participant
};

// Every use is taken (a use freed by a cancel under the reuse policy counts
// as untaken again).
bool exhausted(const CodeStatusFacts& facts);

// archived if archived; else used when every use is taken; else assigned
// when someone is bound to it; else available.
CodeStatus code_status(const CodeStatusFacts& facts);

// Whether a refused assignment of a code says only that the code is no
// longer free (someone was given it, used it up, archived or deleted it
// since the caller picked it): a bulk assignment from a pool then tries the
// next code, where any other refusal is the row's own.
bool taken_meanwhile(const std::error_code& refusal);

// A code's own value of a term (price, note, validity), else its batch's:
// an edit of a code overrides the terms it was generated with.
template <class T>
std::optional<T> own_else_batch(const std::optional<T>& own, const std::optional<T>& batch) {
  return own ? own : batch;
}

}  // namespace tessera::domain
