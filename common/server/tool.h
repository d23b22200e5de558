// What the suite's command-line tools share: how they reach a service (as an
// operator signing with the internal key, or through the gateway with a
// token), deadlines, error printing, and bulk loading over a row stream.
#pragma once

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "htx/type/v1/row_result.pb.h"

namespace htx::server {

inline constexpr int kExitError = 1;  // a call failed
inline constexpr int kExitUsage = 2;  // the command line is wrong

// With a token, calls go through the gateway as its principal; without, the
// tool talks to the service directly as an operator (`tool`) and signs its
// calls with the internal key read from `internal_key_file`.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ToolChannel(const std::string& addr,
                                                           const std::string& token,
                                                           const std::string& internal_key_file,
                                                           absl::string_view tool);

// Every call has a deadline: a hung server fails the command instead of
// hanging it.
std::unique_ptr<grpc::ClientContext> CallContext(absl::Duration timeout);

// The wait-ready command: 0 once `service` at `addr` reports SERVING within
// `timeout_seconds`, else kExitError after saying so.
int WaitReady(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
              absl::string_view addr, int timeout_seconds);

// Prints "tool: what: CODE (REASON): message" to stderr; returns kExitError.
int PrintFailure(absl::string_view tool, absl::string_view what, const absl::Status& status);

// ---- text for terminals (tables in Vietnamese) ----

// "FINDING_OUTCOME_FAILED" with prefix "FINDING_OUTCOME_" -> "FAILED".
std::string Suffix(const std::string& enum_name, absl::string_view prefix);
// The last segment of a resource name.
std::string LastSegment(absl::string_view name);
// Display width of UTF-8 text: one column per code point but combining marks
// (Vietnamese written decomposed lines up like precomposed text).
size_t Width(absl::string_view text);
// `text` cut to `width` columns on a character boundary (keeping a letter's
// combining marks), ending in "…" when cut.
std::string Truncate(absl::string_view text, size_t width);
std::string PadRight(absl::string_view text, size_t width);
std::string PadLeft(absl::string_view text, size_t width);

struct RowTotals {
  int applied = 0;
  int already_applied = 0;
  int rejected = 0;
};

// Streams `rows` in batches of `batch_size` with one batch in flight: write a
// batch, read its answer (sent once its good rows are durable), repeat.
// `on_rejected` gets the index in `rows` of each rejected row. `Request` has
// `rows`; `Response` has applied / already_applied / rejected / results.
template <typename Request, typename Response, typename Row>
grpc::Status StreamRows(grpc::ClientReaderWriter<Request, Response>& stream,
                        const std::vector<Row>& rows, size_t batch_size, const Request& prototype,
                        const std::function<void(size_t, const type::v1::RowResult&)>& on_rejected,
                        RowTotals* totals) {
  size_t answered = 0;
  for (size_t start = 0; start < rows.size(); start += batch_size) {
    Request request = prototype;
    for (size_t i = start; i < std::min(rows.size(), start + batch_size); ++i) {
      *request.add_rows() = rows[i];
    }
    Response response;
    if (!stream.Write(request) || !stream.Read(&response)) break;  // Finish says why
    answered = std::min(rows.size(), start + batch_size);
    totals->applied += response.applied();
    totals->already_applied += response.already_applied();
    totals->rejected += response.rejected();
    for (const type::v1::RowResult& result : response.results()) {
      if (result.outcome() == type::v1::RowResult::OUTCOME_REJECTED) {
        on_rejected(start + static_cast<size_t>(result.index()), result);
      }
    }
  }
  stream.WritesDone();
  grpc::Status status = stream.Finish();
  if (status.ok() && answered < rows.size()) {
    return grpc::Status(grpc::StatusCode::UNKNOWN,
                        "the server closed the stream before answering every batch");
  }
  return status;
}

}  // namespace htx::server
