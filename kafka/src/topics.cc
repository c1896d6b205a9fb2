#include "tessera/kafka/topics.h"

#include "tessera/domain/streams.h"

namespace tessera::kafka {
namespace {

// English plurals, as far as aggregate names need them: "batch" -> "batches",
// "address" -> "addresses", "policy" -> "policies", otherwise add "s".
std::string plural(std::string_view word) {
  std::string out(word);
  const auto ends_with = [&](std::string_view suffix) { return word.ends_with(suffix); };
  if (ends_with("s") || ends_with("x") || ends_with("z") || ends_with("ch") || ends_with("sh")) {
    out += "es";
  } else if (word.size() >= 2 && word.back() == 'y' &&
             std::string_view("aeiou").find(word[word.size() - 2]) == std::string_view::npos) {
    out.back() = 'i';
    out += "es";
  } else {
    out += 's';
  }
  return out;
}

}  // namespace

std::string topic_for_category(std::string_view category) { return "tessera." + plural(category); }

std::string topic_for_stream(std::string_view stream) { return topic_for_category(domain::stream_category(stream)); }

}  // namespace tessera::kafka
