#include "tessera/api/handler.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "idempotency.h"
#include "routes.h"
#include "tessera/api/errc.h"
#include "tessera/api/problem.h"

namespace tessera::api {
namespace {

using detail::Call;
using detail::json;

struct Route {
  http::verb method;
  std::vector<std::string_view> pattern;  // "*" matches any one segment
  detail::Routed (*handle)(Call&);
};

// Every operation of the API.
const std::vector<Route>& routes() {
  using http::verb;
  using namespace detail;
  static const std::vector<Route> table = {
      {verb::post, {"v1", "orgs", "*", "contracts"}, create_contract},
      {verb::get, {"v1", "orgs", "*", "contracts", "*"}, get_contract},
      {verb::patch, {"v1", "orgs", "*", "contracts", "*"}, configure_contract},
      {verb::get, {"v1", "orgs", "*", "contracts", "*", "summary"}, contract_summary},
      {verb::post, {"v1", "orgs", "*", "contracts", "*", "batches"}, generate_batch},
      {verb::get, {"v1", "orgs", "*", "contracts", "*", "participants"}, download_participants},
      {verb::get, {"v1", "orgs", "*", "batches", "*"}, get_batch},
      {verb::post, {"v1", "orgs", "*", "contracts", "*", "participants"}, upload_participants},
      {verb::post, {"v1", "orgs", "*", "sessions"}, create_session},
      {verb::get, {"v1", "orgs", "*", "sessions", "*"}, get_session},
      {verb::patch, {"v1", "orgs", "*", "sessions", "*"}, change_session},
      {verb::get, {"v1", "orgs", "*", "sessions", "*", "seats"}, session_seats},
      {verb::get, {"v1", "orgs", "*", "sessions", "*", "roster"}, session_roster},
      {verb::post, {"v1", "orgs", "*", "sessions", "*", "invitations"}, invite},
      {verb::get, {"v1", "orgs", "*", "codes"}, list_codes},
      {verb::get, {"v1", "orgs", "*", "codes", "*"}, get_code},
      {verb::patch, {"v1", "orgs", "*", "codes", "*"}, edit_code},
      {verb::delete_, {"v1", "orgs", "*", "codes", "*"}, delete_code},
      {verb::post, {"v1", "orgs", "*", "codes", "*", "assign"}, assign_code},
      {verb::post, {"v1", "orgs", "*", "codes", "*", "archive"}, archive_code},
      {verb::get, {"v1", "orgs", "*", "invitations", "*"}, get_invitation},
      {verb::post, {"v1", "orgs", "*", "invitations", "*", "resend"}, resend_invitation},
      {verb::post, {"v1", "orgs", "*", "invitations", "*", "cancel"}, cancel_invitation},
      {verb::post, {"v1", "claims", "*"}, claim},
      {verb::post, {"v1", "orgs", "*", "redemptions"}, redeem},
      {verb::get, {"v1", "orgs", "*", "registrations", "*"}, get_registration},
      {verb::patch, {"v1", "orgs", "*", "registrations", "*"}, change_registration},
      {verb::post, {"v1", "orgs", "*", "registrations", "*", "cancel"}, cancel_registration},
      {verb::post, {"v1", "orgs", "*", "registrations", "*", "revoke"}, revoke_registration},
  };
  return table;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; '+' stays '+' in paths and means ' ' in queries.
std::string decode(std::string_view text, bool query) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else if (query && text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// A request target split into decoded path segments and query parameters.
// `exact` is false when the path could be spelled another way (an empty
// segment, as in `//v1` or a trailing slash; a `.` or `..` segment, even
// percent-encoded): such a path names no route, so that one resource never
// has two idempotency scopes.
struct Target {
  std::vector<std::string> path;
  std::map<std::string, std::string> query;
  bool exact = true;
};

Target split(const Request& request) {
  const std::string_view target(request.target().data(), request.target().size());
  const auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  Target out;
  if (!path.starts_with('/')) out.exact = false;
  path.remove_prefix(std::min<std::size_t>(1, path.size()));
  for (bool more = !path.empty() || !out.exact; more;) {
    const auto slash = path.find('/');
    std::string segment = decode(path.substr(0, slash), false);
    if (segment.empty() || segment == "." || segment == "..") out.exact = false;
    out.path.push_back(std::move(segment));
    more = slash != std::string_view::npos;
    path = more ? path.substr(slash + 1) : std::string_view();
  }
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const auto eq = pair.find('=');
      if (!pair.empty()) {
        out.query[decode(pair.substr(0, eq), true)] =
            eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1), true);
      }
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
  }
  return out;
}

bool matches(const Route& route, const std::vector<std::string>& path) {
  if (route.pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (route.pattern[i] != "*" && route.pattern[i] != path[i]) return false;
  }
  return true;
}

Response healthz() { return detail::json_response(http::status::ok, {{"status", "ok"}}); }

Response status(const Services& services) {
  json body = services.status ? services.status() : json::object();
  if (services.pipeline != nullptr) body["log_position"] = services.pipeline->head().value;
  body["projection_position"] = services.models.checkpoint().value;
  return detail::json_response(http::status::ok, body);
}

Response metrics(const Services& services) {
  std::vector<Metric> figures;
  if (services.pipeline != nullptr) {  // a query-only replica has no log
    figures.push_back({"tessera_log_position", "Position of the latest durable event in the log (events in the log).",
                       Metric::Kind::gauge, static_cast<double>(services.pipeline->head().value)});
    const auto written = services.pipeline->log_stats();
    figures.push_back({"tessera_log_group_commits_total",
                       "Group commits (batches of appends) the log wrote, or tried to, since it opened.",
                       Metric::Kind::counter, static_cast<double>(written.batches_written)});
    figures.push_back({"tessera_log_syncs_total", "Write-ahead log fsyncs since the log opened.", Metric::Kind::counter,
                       static_cast<double>(written.synced_writes)});
    figures.push_back({"tessera_log_sync_seconds_total",
                       "Time spent in those fsyncs; over tessera_log_syncs_total, the disk's sync latency, "
                       "which paces group commit.",
                       Metric::Kind::counter, std::chrono::duration<double>(written.sync_time).count()});
  }
  figures.push_back({"tessera_projection_position", "Position of the last event the read models have applied.",
                     Metric::Kind::gauge, static_cast<double>(services.models.checkpoint().value)});
  if (services.metrics) {
    for (auto& metric : services.metrics()) figures.push_back(std::move(metric));
  }
  Response response{http::status::ok, 11};
  response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  response.body() = prometheus_text(figures);
  response.prepare_payload();
  return response;
}

// Redemptions and claims are where codes and tokens get guessed.
bool guessable(const Route& route) { return route.handle == detail::redeem || route.handle == detail::claim; }

// A refusal a guesser meets: the code or token names nothing.
bool is_guess(const Error& error) {
  return error == domain::errc::code_unknown || error == domain::errc::code_malformed ||
         error == domain::errc::invitation_unknown;
}

detail::Routed run_limited(const Route& route, Call& call, GuessLimiter& guesses, const std::string& client) {
  const auto now = GuessLimiter::Clock::now();
  std::chrono::seconds retry_after{0};
  if (!guesses.allowed(client, now, retry_after)) {
    Response response = detail::problem_for(
        Error(errc::rate_limited, "too many unknown or malformed codes from this address: slow down"));
    response.set(http::field::retry_after, std::to_string(retry_after.count()));
    co_return response;
  }
  detail::Answer answer = co_await route.handle(call);
  if (!answer && is_guess(answer.error())) guesses.failed(client, now);
  co_return answer;
}

Response answer_of(detail::Answer answer) {
  return answer ? std::move(answer).value() : detail::problem_for(answer.error());
}

// The answer to a request; `call` is made of it, in this frame, for the
// routes to borrow.
detail::Task<Response> answer_to(const Services& services, std::atomic<std::uint64_t>& accepted_up_to, Request request,
                                 std::string client, boost::asio::any_io_executor executor) {
  Target target = split(request);
  Call call{services, request, std::move(executor), accepted_up_to, std::move(target.path), std::move(target.query),
            {}};
  if (!target.exact) co_return detail::problem_for(Error(errc::route_unknown, "no such resource"));
  if (call.path.size() >= 3 && call.path[0] == "v1" && call.path[1] == "orgs") call.org = domain::OrgId{call.path[2]};
  if (request.method() == http::verb::get && call.path == std::vector<std::string>{"healthz"}) co_return healthz();
  if (request.method() == http::verb::get && call.path == std::vector<std::string>{"v1", "status"}) {
    co_return status(services);
  }
  if (request.method() == http::verb::get && call.path == std::vector<std::string>{"metrics"}) {
    co_return metrics(services);
  }
  // Query-only: the write routes are not served, though their paths are known.
  const bool writable = services.pipeline != nullptr;
  bool known = false;
  std::string allowed;
  for (const auto& route : routes()) {
    if (!matches(route, call.path)) continue;
    known = true;
    if (!writable && route.method != http::verb::get) continue;
    if (route.method == request.method()) {
      auto run = [&route, &services, &client](Call& c) -> detail::Routed {
        return guessable(route) ? run_limited(route, c, services.guesses, client) : route.handle(c);
      };
      // A retry with a recorded answer is answered before any limit or route.
      detail::Routed routed = request.method() == http::verb::post ? detail::run_idempotent(call, run) : run(call);
      detail::Answer answer = co_await routed;
      co_return answer_of(std::move(answer));
    }
    if (!allowed.empty()) allowed += ", ";
    allowed += std::string(http::to_string(route.method));
  }
  if (known) {
    Response response = detail::problem_for(
        Error(errc::method_not_allowed,
              writable ? "this resource answers " + allowed
                       : "this server is a read-only replica (tessera-projector): send writes to tesserad"));
    response.set(http::field::allow, allowed);
    co_return response;
  }
  co_return detail::problem_for(Error(errc::route_unknown, "no such resource"));
}

// answer_to(), with an exception that escapes a route (a bug) answered as
// 500 `internal` rather than taking the server down.
detail::Task<Response> answer_safely(const Services& services, std::atomic<std::uint64_t>& accepted_up_to,
                                     Request request, std::string client, boost::asio::any_io_executor executor) {
  const bool keep_alive = request.keep_alive();
  std::optional<Response> response;
  try {
    response = co_await answer_to(services, accepted_up_to, std::move(request), std::move(client), std::move(executor));
  } catch (const std::exception& e) {
    response = detail::problem_for(Error(errc::internal, std::string("the request failed: ") + e.what()));
  }
  response->keep_alive(keep_alive);
  response->set(http::field::server, "tesserad");
  co_return std::move(*response);
}

}  // namespace

Handler::Handler(Services services)
    : services_(std::move(services)),
      accepted_up_to_(services_.pipeline != nullptr ? services_.pipeline->head().value : 0) {}

void Handler::handle(Request request, std::string client, boost::asio::any_io_executor executor,
                     Respond respond) const {
  start(answer_safely(services_, accepted_up_to_, std::move(request), std::move(client), std::move(executor)),
        std::move(respond));
}

}  // namespace tessera::api
