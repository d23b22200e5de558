#include "services/gateway/audit_service.h"

#include <utility>

#include "absl/status/statusor.h"
#include "common/status/status.h"

namespace htx::gateway {

AuditService::AuditService(AuditLog* log, Admit admit) : log_(log), admit_(std::move(admit)) {}

// Reads run inline on the callback thread: they never wait on fsync.
template <typename Response, typename Read>
grpc::ServerUnaryReactor* AuditService::Answer(grpc::CallbackServerContext* context,
                                               absl::string_view full_method, Response* response,
                                               Read read) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status admitted = admit_(context, full_method); !admitted.ok()) {
    reactor->Finish(ToGrpcStatus(admitted));
    return reactor;
  }
  absl::StatusOr<Response> result = read();
  if (result.ok()) *response = *std::move(result);
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

grpc::ServerUnaryReactor* AuditService::ListAuditRecords(grpc::CallbackServerContext* context,
                                                         const v1::ListAuditRecordsRequest* request,
                                                         v1::ListAuditRecordsResponse* response) {
  return Answer(context, kListMethod, response, [&] { return log_->List(*request); });
}

grpc::ServerUnaryReactor* AuditService::VerifyAuditLog(grpc::CallbackServerContext* context,
                                                       const v1::VerifyAuditLogRequest* request,
                                                       v1::VerifyAuditLogResponse* response) {
  return Answer(context, kVerifyMethod, response, [&] { return log_->Verify(*request); });
}

}  // namespace htx::gateway
