// The gateway's append-only, hash-chained audit log in its own store. Each
// record's hash is SHA-256 over the previous record's hash and the record's
// other fields, so an edited, removed or reordered record breaks the chain.
#ifndef HTX_SERVICES_GATEWAY_AUDIT_LOG_H_
#define HTX_SERVICES_GATEWAY_AUDIT_LOG_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/storage/store.h"
#include "htx/gateway/v1/audit.pb.h"

namespace htx::gateway {

namespace v1 = ::htx::gateway::v1;

class AuditLog {
 public:
  // The column family the log keeps its records in (the caller opens the
  // store with it).
  static constexpr char kFamily[] = "audit";
  // `store` outlives the log.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(storage::Store* store);

  // Appends `record` (sequence, hash and previous_hash are assigned; time is
  // set from the store's clock when unset). `done` runs once the record is
  // durable, or with the error that prevented it; it may run on the writer
  // thread, so it must not block.
  void Append(v1::AuditRecord record, std::function<void(absl::Status)> done);

  // Reads run on the caller's thread against committed records.
  absl::StatusOr<v1::ListAuditRecordsResponse> List(
      const v1::ListAuditRecordsRequest& request) const;
  // A to_sequence past the last record is clamped to it; a from_sequence past
  // it checks nothing. A missing log head while records exist is reported
  // as a break too (it would let the tail be cut off unnoticed).
  absl::StatusOr<v1::VerifyAuditLogResponse> Verify(const v1::VerifyAuditLogRequest& request) const;

 private:
  explicit AuditLog(storage::Store* store);
  storage::Store* store_;
  storage::Family family_;
};

// The hash of `record` chained to `previous_hash` (fields `hash` and
// `previous_hash` of `record` are ignored).
std::string ChainHash(absl::string_view previous_hash, const v1::AuditRecord& record);

}  // namespace htx::gateway

#endif  // HTX_SERVICES_GATEWAY_AUDIT_LOG_H_
