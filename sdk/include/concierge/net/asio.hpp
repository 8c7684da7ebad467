#pragma once
// The one way to include Asio and Beast in concierge. Both are compiled once, in the concierge_net shared library
// (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are set on that target and propagate to
// everything linking it), so a file that includes this pays only for the templates it instantiates.
#include <utility>  // Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace concierge::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
}  // namespace concierge::net
