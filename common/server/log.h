// Structured logs: one JSON object per line on stderr, so that log shippers
// parse them without patterns. Every line about a call carries its request_id.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace htx::server {

using LogFields = std::initializer_list<std::pair<absl::string_view, absl::string_view>>;

// {"time":"...","level":"info","service":"...","msg":"...",<fields>}
void Log(absl::string_view level, absl::string_view message, LogFields fields = {});
// The "service" of every line this process writes (its program name).
void SetLogService(absl::string_view service);

// A JSON string literal of `text`, quotes included. Text may echo a client's
// bytes (paths, field names), so invalid UTF-8 becomes U+FFFD and the output
// stays valid JSON.
std::string JsonQuote(absl::string_view text);

}  // namespace htx::server
