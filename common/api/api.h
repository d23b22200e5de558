// Helpers every service's API layer shares: page sizes and opaque page tokens,
// etags, field masks, request ids, digests of messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/storage/store.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/message.h"

namespace htx::api {

inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

// 0 -> the default, above the cap -> the cap, negative -> INVALID_ARGUMENT.
absl::StatusOr<int> ResolvePageSize(int requested);

// A stable 64-bit digest of bytes (FNV-1a); the same on every run and machine,
// so it can be stored.
uint64_t Digest(absl::string_view bytes);
// Digest of a message's deterministic serialization.
uint64_t DigestMessage(const google::protobuf::Message& message);
// Digest of a List request with its page_token and page_size fields cleared:
// the identity of "the same query".
uint64_t QueryDigest(const google::protobuf::Message& request);

// A page token binds a position to the query it came from.
std::string EncodePageToken(uint64_t query_digest, absl::string_view position);
// "" for an empty token; INVALID_ARGUMENT naming page_token when the token is
// malformed or belongs to another query.
absl::StatusOr<std::string> DecodePageToken(absl::string_view token, uint64_t query_digest);

// The paging state of one List call: how many items, and where to start.
struct Page {
  int size = kDefaultPageSize;
  // The query's identity, bound into the tokens this page hands out.
  uint64_t query = 0;
  // Where the previous page stopped; "" for the first page.
  std::string position;
  // The next_page_token that resumes after `last_position`.
  std::string NextToken(absl::string_view last_position) const {
    return EncodePageToken(query, last_position);
  }
};
// Resolves page_size and decodes page_token of a List `request`, with the
// errors of ResolvePageSize and DecodePageToken.
absl::StatusOr<Page> StartPage(const google::protobuf::Message& request, int page_size,
                               absl::string_view page_token);

// The etag of a resource: a digest of it with its `etag` field cleared.
std::string ComputeEtag(const google::protobuf::Message& resource);
// Sets `resource`'s etag (as ComputeEtag) and returns its serialization, for
// a write path that stores the bytes: one serialization serves both.
std::string SerializeWithEtag(google::protobuf::Message* resource);
// OK when `given` is empty or equals `current`; ABORTED (STALE_ETAG) otherwise.
absl::Status CheckEtag(absl::string_view given, absl::string_view current);

// OK for an empty id (no idempotency) or 1..64 printable ASCII characters.
absl::Status ValidateRequestId(absl::string_view request_id,
                               absl::string_view field = "request_id");
// The key under which a method's request_id is kept; "" when id is empty.
std::string ScopedRequestId(absl::string_view method, absl::string_view request_id);

// A store write made idempotent by a caller's request_id (scoped to `method`):
// a retry of `request` replays `response`, another request with the same id is
// refused. `done` is left for the caller to set.
storage::WriteRequest IdempotentWrite(absl::string_view method, absl::string_view request_id,
                                      const google::protobuf::Message& request,
                                      google::protobuf::Message* response,
                                      std::function<absl::Status(storage::Txn&)> mutate);

// Copies the fields named in `mask` from `source` into `target`. Every path
// must be one of `updatable` or below one of them (e.g. "flags.high_tech"
// under "flags"); otherwise INVALID_ARGUMENT naming `mask_field`. An empty
// mask is INVALID_ARGUMENT too: updates say what they change.
absl::Status ApplyFieldMask(const google::protobuf::FieldMask& mask,
                            const google::protobuf::Message& source,
                            const std::vector<std::string>& updatable,
                            google::protobuf::Message* target,
                            absl::string_view mask_field = "update_mask");

}  // namespace htx::api
