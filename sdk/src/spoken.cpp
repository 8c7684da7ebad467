#include "concierge/spoken.hpp"
