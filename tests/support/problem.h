// Test support: an HTTP answer read as an RFC 9457 problem, the way a client
// tells one refusal from another: by its status and the last segment of its
// `type` (".../problems/code-exhausted" is "code-exhausted").
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "http_client.h"

namespace tessera::test_support {

// The last segment of the body's `type`; "<no problem type>" when the body is
// no JSON object with a string `type`, which no expected slug equals.
inline std::string problem_slug(const HttpResponse& r) {
  const auto body = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("type") || !body.at("type").is_string()) return "<no problem type>";
  const std::string type = body.at("type");
  return type.substr(type.rfind('/') + 1);
}

// A problem with this status and this slug, sent as application/problem+json.
inline ::testing::AssertionResult IsProblem(const HttpResponse& r, int status, std::string_view slug) {
  if (r.status != status || problem_slug(r) != slug) {
    return ::testing::AssertionFailure() << "expected " << status << " " << slug << ", got " << r.status << " "
                                         << r.body;
  }
  const auto type = r.headers.find("content-type");
  if (type == r.headers.end() || type->second != "application/problem+json") {
    return ::testing::AssertionFailure() << "a problem must be application/problem+json, got content-type "
                                         << (type == r.headers.end() ? "<none>" : type->second);
  }
  return ::testing::AssertionSuccess();
}

}  // namespace tessera::test_support
