// The gateway: one front door for the four services. Each call is
// authenticated (JWT, API key or client certificate), rate limited per
// principal, authorized against the caller's area, audited when it changes
// something or is refused, and forwarded as bytes to the service that owns it,
// with the verified principal signed for the service to check again.
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/auth/credentials.h"
#include "common/auth/policy.h"
#include "services/gateway/audit_log.h"
#include "services/gateway/audit_service.h"
#include "services/gateway/connect_edge.h"
#include "services/gateway/rate_limiter.h"

namespace google::protobuf {
class MethodDescriptor;
}

namespace htx::gateway {

struct GatewayOptions {
  // Service full name ("htx.registry.v1.RegistryService") → "HOST:PORT" of the
  // process serving it.
  std::map<std::string, std::string> backends;
  // Null: bearer tokens are refused. Not owned.
  const auth::JwtVerifier* jwt = nullptr;
  // Null: API keys and client certificates are refused. Not owned.
  const auth::IdentityFile* identities = nullptr;
  // Signs the principal passed on to the services.
  auth::InternalKey internal_key = auth::InternalKey::FromBytes("");
  RateLimit rate_limit;
  // Calls without a deadline get this one; longer deadlines are kept.
  absl::Duration default_deadline = absl::Seconds(30);
  // Calls in flight beyond this are refused at once (RESOURCE_EXHAUSTED,
  // OVERLOADED), so that a flood cannot exhaust memory or threads.
  int max_inflight_calls = 10000;
  // Required; not owned.
  AuditLog* audit = nullptr;
};

// What a caller presented, from gRPC metadata or HTTP headers alike.
struct Presented {
  std::string authorization;   // "Bearer <jwt>"
  std::string api_key;         // x-api-key
  std::string certificate_cn;  // verified client certificate common name (mTLS)
  std::string request_id;      // x-request-id, or one made up by the gateway
  std::string peer;            // "ipv4:127.0.0.1:5555" or "ip:port"
  std::string channel;         // "grpc" or "connect"
};

// One method the gateway serves.
struct Route {
  std::string method;  // "/htx.registry.v1.RegistryService/GetOrganization"
  const google::protobuf::MethodDescriptor* descriptor = nullptr;
  const auth::MethodPolicy* policy = nullptr;  // null: unknown → denied
  grpc::GenericStub* stub = nullptr;
  bool streaming = false;
};

class Gateway {
 public:
  explicit Gateway(GatewayOptions options);
  ~Gateway();

  // The services to register on the gateway's server (the four proxies and the
  // audit service), and their names for health.
  std::vector<grpc::Service*> services();
  std::vector<std::string> service_names() const;
  std::vector<const google::protobuf::ServiceDescriptor*> proxied_services() const;
  // The JSON edge's way in: the same checks and forwarding as gRPC calls.
  EdgeInvoker edge_invoker();

  // The principal behind a credential, or UNAUTHENTICATED naming what failed.
  absl::StatusOr<auth::Principal> Authenticate(const Presented& presented) const;

  // Used by the proxies.
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, const Route& route,
                                  const grpc::ByteBuffer* request, grpc::ByteBuffer* response);
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Stream(
      grpc::CallbackServerContext* context, const Route& route);

  // The outcome of the checks before forwarding.
  struct Admission {
    absl::Status status;
    auth::Principal principal;
    std::vector<std::string> resources;  // the unit-scoped names the request carried
    bool audit = false;                  // record this call in the audit log
  };
  // Authentication and rate limit: once per call.
  Admission Identify(const Presented& presented);
  // Parsing and authorization of one request message (once per message on
  // streams); updates `admission`.
  void Check(const Route& route, const grpc::ByteBuffer& message, Admission& admission) const;
  void Check(const Route& route, const google::protobuf::Message& request,
             Admission& admission) const;

  // Records the call when admission.audit says so, then runs `then` (once the
  // record is durable, or failed to be; at once when nothing is recorded).
  void AuditThen(const Route& route, const Presented& presented, const Admission& admission,
                 const absl::Status& outcome, std::function<void()> then);

  // The checks and the forwarding every unary call gets, from gRPC or JSON
  // (after EnterCall): identity, limit, authorization, audit, then the
  // service. `request` and `response` live until `finish`, which gets the
  // outcome once it is recorded. `server` (null for JSON) passes its deadline
  // and cancellation on; `timeout`, when set, replaces the deadline.
  void Forward(const Route& route, Presented presented, const grpc::ByteBuffer* request,
               grpc::ByteBuffer* response, const grpc::CallbackServerContext* server,
               absl::optional<absl::Duration> timeout, std::function<void(grpc::Status)> finish);

  // Calls in flight, for load shedding.
  bool EnterCall();
  void LeaveCall();

 private:
  class ProxyService;
  GatewayOptions options_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::vector<std::unique_ptr<ProxyService>> proxies_;
  std::unique_ptr<AuditService> audit_service_;
  std::map<std::string, Route> edge_routes_;  // unary routes by method, for the edge
  RateLimiter limiter_;
  std::atomic<int> inflight_{0};

  // Verified bearer tokens, so that a client re-sending its token does not pay
  // a signature verification per call. Entries live kTokenCacheTtl: a removed
  // key or an expiring token takes effect at most that late.
  static constexpr absl::Duration kTokenCacheTtl = absl::Seconds(10);
  struct CachedPrincipal {
    auth::Principal principal;
    absl::Time until;
  };
  mutable absl::Mutex token_mu_;
  mutable absl::flat_hash_map<std::string, CachedPrincipal> token_cache_ ABSL_GUARDED_BY(token_mu_);
};

// The caller's credentials and ids as presented in gRPC metadata.
Presented PresentedBy(const grpc::CallbackServerContext& context);

}  // namespace htx::gateway
