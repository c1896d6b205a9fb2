// Test support: a blocking HTTP/1.1 client over a real socket (Boost.Beast),
// one connection per request, JSON in and out.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tessera::test_support {

// Percent-encodes all but RFC 3986's unreserved characters, for path segments
// and query values (a code's check symbol may be '*', '~', '$' or '=').
std::string percent_encode(std::string_view text);

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
  // "" when the answer has no such header, which compares like an empty one.
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {}

  HttpResponse get(const std::string& target) const { return send("GET", target, "", {}); }
  HttpResponse post(const std::string& target, const nlohmann::json& body) const {
    return send("POST", target, body.dump(), {{"content-type", "application/json"}});
  }
  // Any method, any raw body, extra headers.
  HttpResponse send(const std::string& method, const std::string& target, const std::string& body,
                    const std::map<std::string, std::string>& headers) const;

 private:
  std::string host_;
  std::uint16_t port_;
};

}  // namespace tessera::test_support
