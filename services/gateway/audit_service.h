// The gRPC face of the audit log, on the callback API. Who may read it is the
// gateway's decision, passed in as `admit`.
#ifndef HTX_SERVICES_GATEWAY_AUDIT_SERVICE_H_
#define HTX_SERVICES_GATEWAY_AUDIT_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <functional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "htx/gateway/v1/audit.grpc.pb.h"
#include "services/gateway/audit_log.h"

namespace htx::gateway {

class AuditService final : public v1::AuditService::CallbackService {
 public:
  // Authenticates the caller of `full_method` (e.g.
  // "/htx.gateway.v1.AuditService/ListAuditRecords") and checks its role; a
  // non-OK status is the call's answer.
  using Admit =
      std::function<absl::Status(grpc::CallbackServerContext*, absl::string_view full_method)>;

  static constexpr char kListMethod[] = "/htx.gateway.v1.AuditService/ListAuditRecords";
  static constexpr char kVerifyMethod[] = "/htx.gateway.v1.AuditService/VerifyAuditLog";

  // `log` outlives the service.
  AuditService(AuditLog* log, Admit admit);

  grpc::ServerUnaryReactor* ListAuditRecords(grpc::CallbackServerContext* context,
                                             const v1::ListAuditRecordsRequest* request,
                                             v1::ListAuditRecordsResponse* response) override;
  grpc::ServerUnaryReactor* VerifyAuditLog(grpc::CallbackServerContext* context,
                                           const v1::VerifyAuditLogRequest* request,
                                           v1::VerifyAuditLogResponse* response) override;

 private:
  template <typename Response, typename Read>
  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context,
                                   absl::string_view full_method, Response* response, Read read);

  AuditLog* log_;
  Admit admit_;
};

}  // namespace htx::gateway

#endif  // HTX_SERVICES_GATEWAY_AUDIT_SERVICE_H_
