// Asio and Beast, compiled once for the whole project (see concierge/net/asio.hpp).
#include <utility>

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
