// The start-up banner sevenport prints on stdout once every listener is bound.
#pragma once

#include "config/config.hpp"
#include "server/server.hpp"

namespace sevenport::server {

// Prints what a person needs to point a mail client at `server`, then "Ready.". `scenario` is the
// active scenario, or nullptr.
void print_banner(const Server& server, const config::ScenarioInfo* scenario);

}  // namespace sevenport::server
