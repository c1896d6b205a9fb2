// The HTTP message types of the API (Boost.Beast, string bodies).
#pragma once

#include <utility>  // Boost 1.74's asio needs it first on GCC 12

#include <boost/beast/http.hpp>

namespace tessera::api {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

}  // namespace tessera::api
