#include "common/server/calls.h"

#include "absl/strings/str_cat.h"
#include "common/server/log.h"

namespace htx::server {

absl::Status NotReady(absl::string_view what) {
  return Error(absl::StatusCode::kUnavailable, "NOT_READY",
               absl::StrCat(what, " is starting; retry shortly"));
}

void LogRefusal(const absl::StatusOr<auth::Principal>& caller, absl::string_view full_method,
                const absl::Status& refused) {
  Log("warn", "call refused",
      {{"request_id", caller.ok() ? caller->request_id() : std::string()},
       {"subject", caller.ok() ? caller->subject() : std::string()},
       {"method", full_method},
       {"error", refused.ToString()}});
}

}  // namespace htx::server
