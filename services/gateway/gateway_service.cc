#include "services/gateway/gateway_service.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <deque>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/server/caller.h"
#include "common/server/log.h"
#include "common/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "htx/budget/v1/budget.grpc.pb.h"
#include "htx/indicator/v1/indicator.grpc.pb.h"
#include "htx/registry/v1/registry.grpc.pb.h"
#include "htx/reporting/v1/reporting.grpc.pb.h"

namespace htx::gateway {
namespace {

using grpc::ByteBuffer;

// The services behind the gateway. Each is found through a message of its
// file, which also makes the linker keep the generated descriptors.
const std::vector<const google::protobuf::ServiceDescriptor*>& BackendDescriptors() {
  static const auto* services = new std::vector<const google::protobuf::ServiceDescriptor*>{
      registry::v1::GetUnitRequest::descriptor()->file()->FindServiceByName("RegistryService"),
      indicator::v1::GetTableRequest::descriptor()->file()->FindServiceByName("IndicatorService"),
      budget::v1::GetNeedRequest::descriptor()->file()->FindServiceByName("BudgetService"),
      reporting::v1::GetCampaignRequest::descriptor()->file()->FindServiceByName(
          "ReportingService"),
  };
  return *services;
}

absl::string_view Metadata(const grpc::CallbackServerContext& context, absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return {};
  return absl::string_view(it->second.data(), it->second.size());
}

std::string NewRequestId() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  absl::MutexLock lock(&mu);
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(*gen));
}

// A caller-supplied request id is kept when it is short printable ASCII, so
// that it cannot break log lines.
std::string RequestIdOf(absl::string_view given) {
  if (given.empty() || given.size() > 64) return NewRequestId();
  for (char c : given) {
    if (c < 0x21 || c > 0x7e) return NewRequestId();
  }
  return std::string(given);
}

bool IsInfinite(std::chrono::system_clock::time_point deadline) {
  return deadline > std::chrono::system_clock::now() + std::chrono::hours(24 * 365);
}

// The client side of a forwarded call: the caller's deadline (or the default)
// and cancellation carried over, the request id and the signed principal added.
std::unique_ptr<grpc::ClientContext> ForwardContext(const grpc::CallbackServerContext* server,
                                                    absl::Duration default_deadline,
                                                    const auth::InternalKey& key,
                                                    const Gateway::Admission& admission) {
  std::unique_ptr<grpc::ClientContext> context =
      server != nullptr ? grpc::ClientContext::FromCallbackServerContext(*server)
                        : std::make_unique<grpc::ClientContext>();
  if (server == nullptr || IsInfinite(server->deadline())) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + default_deadline));
  }
  context->AddMetadata("x-request-id", admission.principal.request_id());
  server::AttachPrincipal(context.get(), key, admission.principal);
  return context;
}

std::string CodeName(const absl::Status& status) { return absl::StatusCodeToString(status.code()); }

// Leaves the in-flight count when the call is over, whichever way it ends.
class InflightSlot {
 public:
  explicit InflightSlot(Gateway* gateway) : gateway_(gateway) {}
  ~InflightSlot() {
    if (gateway_ != nullptr) gateway_->LeaveCall();
  }
  InflightSlot(const InflightSlot&) = delete;
  InflightSlot& operator=(const InflightSlot&) = delete;

 private:
  Gateway* gateway_;
};

absl::Status Overloaded() {
  return Error(absl::StatusCode::kResourceExhausted, "OVERLOADED",
               "the gateway has too many calls in flight; retry with backoff",
               {{"retry_after_ms", "100"}});
}

}  // namespace

// A service registered under the real name of one of the four services, with
// every method a raw (bytes) callback method: the server routes calls, health
// and reflection list the service, and no message is re-encoded.
class Gateway::ProxyService : public grpc::Service {
 public:
  ProxyService(Gateway* gateway, const google::protobuf::ServiceDescriptor* service,
               grpc::GenericStub* stub)
      : name_(service->full_name()) {
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      Route& route = routes_.emplace_back();
      route.method = absl::StrCat("/", name_, "/", method->name());
      route.descriptor = method;
      route.policy = auth::FindMethodPolicy(route.method);
      route.stub = stub;
      route.streaming = method->client_streaming() || method->server_streaming();
      // Every stream is served as bidi: on the wire the kinds do not differ,
      // and one bridge then serves all of them.
      AddMethod(new grpc::internal::RpcServiceMethod(route.method.c_str(),
                                                     route.streaming
                                                         ? grpc::internal::RpcMethod::BIDI_STREAMING
                                                         : grpc::internal::RpcMethod::NORMAL_RPC,
                                                     nullptr));
      const Route* r = &route;
      if (route.streaming) {
        MarkMethodRawCallback(i, new grpc::internal::CallbackBidiHandler<ByteBuffer, ByteBuffer>(
                                     [gateway, r](grpc::CallbackServerContext* context) {
                                       return gateway->Stream(context, *r);
                                     }));
      } else {
        MarkMethodRawCallback(i, new grpc::internal::CallbackUnaryHandler<ByteBuffer, ByteBuffer>(
                                     [gateway, r](grpc::CallbackServerContext* context,
                                                  const ByteBuffer* request, ByteBuffer* response) {
                                       return gateway->Unary(context, *r, request, response);
                                     }));
      }
    }
  }

  const std::string& name() const { return name_; }
  const std::deque<Route>& routes() const { return routes_; }

 private:
  std::string name_;
  std::deque<Route> routes_;  // stable addresses: handlers and method names point here
};

Gateway::Gateway(GatewayOptions options)
    : options_(std::move(options)), limiter_(options_.rate_limit) {
  for (const google::protobuf::ServiceDescriptor* service : BackendDescriptors()) {
    auto backend = options_.backends.find(service->full_name());
    // A service without an address still gets its routes: its calls are
    // checked and then answered UNAVAILABLE by the unconnectable channel.
    const std::string target =
        backend == options_.backends.end() ? "unix:/nonexistent" : backend->second;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);  // the service's own limits apply
    // No retry policy is configured, and the retry filter would copy every
    // forwarded message to be able to replay it.
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    stubs_.push_back(std::make_unique<grpc::GenericStub>(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args)));
    proxies_.push_back(std::make_unique<ProxyService>(this, service, stubs_.back().get()));
    for (const Route& route : proxies_.back()->routes()) {
      if (!route.streaming) edge_routes_.emplace(route.method, route);
    }
  }
  audit_service_ = std::make_unique<AuditService>(
      options_.audit, [this](grpc::CallbackServerContext* context, absl::string_view method) {
        Presented presented = PresentedBy(*context);
        Admission admission = Identify(presented);
        if (admission.status.ok()) {
          admission.status = auth::Authorize(admission.principal, method, {});
          admission.audit = !admission.status.ok();
        }
        // The answer need not wait: the refusal changes nothing.
        Route route;
        route.method = std::string(method);
        AuditThen(route, presented, admission, admission.status, [] {});
        return admission.status;
      });
}

Gateway::~Gateway() = default;

std::vector<grpc::Service*> Gateway::services() {
  std::vector<grpc::Service*> services;
  for (auto& proxy : proxies_) services.push_back(proxy.get());
  services.push_back(audit_service_.get());
  return services;
}

std::vector<std::string> Gateway::service_names() const {
  std::vector<std::string> names;
  for (const auto& proxy : proxies_) names.push_back(proxy->name());
  names.push_back("htx.gateway.v1.AuditService");
  return names;
}

std::vector<const google::protobuf::ServiceDescriptor*> Gateway::proxied_services() const {
  return BackendDescriptors();
}

bool Gateway::EnterCall() {
  if (inflight_.fetch_add(1, std::memory_order_relaxed) >= options_.max_inflight_calls) {
    inflight_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void Gateway::LeaveCall() { inflight_.fetch_sub(1, std::memory_order_relaxed); }

Presented PresentedBy(const grpc::CallbackServerContext& context) {
  Presented presented;
  presented.authorization = std::string(Metadata(context, "authorization"));
  presented.api_key = std::string(Metadata(context, "x-api-key"));
  presented.request_id = RequestIdOf(Metadata(context, "x-request-id"));
  presented.peer = context.peer();
  presented.channel = "grpc";
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const grpc::string_ref& cn : auth->FindPropertyValues("x509_common_name")) {
      presented.certificate_cn.assign(cn.data(), cn.size());
    }
  }
  return presented;
}

absl::StatusOr<auth::Principal> Gateway::Authenticate(const Presented& presented) const {
  if (!presented.authorization.empty()) {
    absl::string_view value = presented.authorization;
    if (!absl::StartsWithIgnoreCase(value, "bearer ")) {
      return Error(absl::StatusCode::kUnauthenticated, "CREDENTIALS_MALFORMED",
                   "authorization: expected \"Bearer <token>\"", {{"field", "authorization"}});
    }
    if (options_.jwt == nullptr) {
      return Error(absl::StatusCode::kUnauthenticated, "TOKENS_DISABLED",
                   "authorization: this gateway accepts no bearer tokens",
                   {{"field", "authorization"}});
    }
    const std::string token(value.substr(7));
    const absl::Time now = absl::Now();
    {
      absl::MutexLock lock(&token_mu_);
      auto it = token_cache_.find(token);
      if (it != token_cache_.end() && it->second.until > now) return it->second.principal;
    }
    absl::StatusOr<auth::Principal> principal = options_.jwt->Verify(token);
    if (principal.ok()) {
      absl::MutexLock lock(&token_mu_);
      if (token_cache_.size() >= 10000) token_cache_.clear();  // bounded; refills on demand
      token_cache_[token] = CachedPrincipal{*principal, now + kTokenCacheTtl};
    }
    return principal;
  }
  if (!presented.api_key.empty()) {
    if (options_.identities == nullptr) {
      return Error(absl::StatusCode::kUnauthenticated, "API_KEYS_DISABLED",
                   "x-api-key: this gateway accepts no API keys", {{"field", "x-api-key"}});
    }
    return options_.identities->FindApiKey(presented.api_key);
  }
  if (!presented.certificate_cn.empty()) {
    if (options_.identities == nullptr) {
      return Error(absl::StatusCode::kUnauthenticated, "CERTIFICATES_DISABLED",
                   "client certificate: this gateway maps no certificates");
    }
    return options_.identities->FindCertificate(presented.certificate_cn);
  }
  return Error(absl::StatusCode::kUnauthenticated, "CREDENTIALS_MISSING",
               "no credential: send \"authorization: Bearer <JWT>\", \"x-api-key: <key>\" or a "
               "client certificate");
}

Gateway::Admission Gateway::Identify(const Presented& presented) {
  Admission admission;
  absl::StatusOr<auth::Principal> principal = Authenticate(presented);
  if (!principal.ok()) {
    // Failed attempts are limited per peer address, so that a flood of bad
    // credentials cannot flood the audit log either.
    absl::string_view peer = presented.peer;
    peer = peer.substr(0, peer.rfind(':'));
    if (absl::Status limited = limiter_.Take(absl::StrCat("peer:", peer)); !limited.ok()) {
      admission.status = limited;
      return admission;
    }
    admission.status = principal.status();
    admission.audit = true;
    return admission;
  }
  admission.principal = *std::move(principal);
  admission.principal.set_request_id(presented.request_id);
  admission.status = limiter_.Take(admission.principal.subject());
  return admission;
}

void Gateway::Check(const Route& route, const google::protobuf::Message& request,
                    Admission& admission) const {
  std::vector<auth::Area> areas = auth::AreasOf(request);
  for (const auth::Area& area : areas) {
    if (admission.resources.size() < 16) admission.resources.push_back(area.unit);
  }
  admission.status = auth::Authorize(admission.principal, route.method, areas);
  const bool mutating = route.policy == nullptr || route.policy->action != auth::Action::kRead;
  admission.audit = !admission.status.ok() || mutating;
}

void Gateway::Check(const Route& route, const ByteBuffer& message, Admission& admission) const {
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(
          route.descriptor->input_type());
  std::unique_ptr<google::protobuf::Message> request(prototype->New());
  ByteBuffer copy(message);  // shares the slices; the reader needs a mutable buffer
  grpc::ProtoBufferReader reader(&copy);
  if (!request->ParseFromZeroCopyStream(&reader)) {
    admission.status =
        Error(absl::StatusCode::kInvalidArgument, "MALFORMED_MESSAGE",
              absl::StrCat("request: not a valid ", route.descriptor->input_type()->full_name()),
              {{"field", "request"}});
    admission.audit = true;
    return;
  }
  Check(route, *request, admission);
}

void Gateway::AuditThen(const Route& route, const Presented& presented, const Admission& admission,
                        const absl::Status& outcome, std::function<void()> done) {
  if (!admission.audit) {
    done();
    return;
  }
  const bool denied = !admission.status.ok();
  v1::AuditRecord record;
  record.set_subject(admission.principal.subject().empty() ? "anonymous"
                                                           : admission.principal.subject());
  record.set_role(admission.principal.role());
  record.set_method(route.method);
  for (const std::string& resource : admission.resources) record.add_resources(resource);
  record.set_decision(denied ? v1::DECISION_DENIED : v1::DECISION_ALLOWED);
  record.set_code(CodeName(outcome));
  record.set_reason(ErrorReason(outcome));
  record.set_request_id(presented.request_id);
  record.set_channel(presented.channel);
  record.set_peer(presented.peer);
  server::Log(denied ? "warn" : "info", denied ? "call refused" : "call forwarded",
              {{"request_id", presented.request_id},
               {"subject", record.subject()},
               {"method", route.method},
               {"code", record.code()},
               {"reason", record.reason()},
               {"resources", absl::StrJoin(admission.resources, ",")}});
  options_.audit->Append(std::move(record), [request_id = presented.request_id,
                                             done = std::move(done)](absl::Status status) {
    if (!status.ok()) {
      server::Log("error", "audit record not written",
                  {{"request_id", request_id}, {"error", status.ToString()}});
    }
    done();
  });
}

// ---- unary ----

grpc::ServerUnaryReactor* Gateway::Unary(grpc::CallbackServerContext* context, const Route& route,
                                         const ByteBuffer* request, ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!EnterCall()) {
    reactor->Finish(ToGrpcStatus(Overloaded()));
    return reactor;
  }
  Forward(route, PresentedBy(*context), request, response, context, absl::nullopt,
          [reactor](grpc::Status status) { reactor->Finish(status); });
  return reactor;
}

void Gateway::Forward(const Route& route, Presented presented, const ByteBuffer* request,
                      ByteBuffer* response, const grpc::CallbackServerContext* server,
                      absl::optional<absl::Duration> timeout,
                      std::function<void(grpc::Status)> finish) {
  struct Call {
    explicit Call(Gateway* g) : slot(g) {}
    InflightSlot slot;
    Presented presented;
    Admission admission;
    std::unique_ptr<grpc::ClientContext> client;
  };
  auto call = std::make_shared<Call>(this);
  call->presented = std::move(presented);
  call->admission = Identify(call->presented);
  if (call->admission.status.ok()) Check(route, *request, call->admission);
  if (!call->admission.status.ok()) {
    const absl::Status refusal = call->admission.status;
    AuditThen(route, call->presented, call->admission, refusal,
              [finish, refusal, call] { finish(ToGrpcStatus(refusal)); });
    return;
  }
  call->client =
      ForwardContext(server, options_.default_deadline, options_.internal_key, call->admission);
  if (timeout) call->client->set_deadline(absl::ToChronoTime(absl::Now() + *timeout));
  route.stub->UnaryCall(call->client.get(), route.method, grpc::StubOptions(), request, response,
                        [this, call, finish, &route](grpc::Status status) {
                          AuditThen(route, call->presented, call->admission, FromGrpcStatus(status),
                                    [finish, status, call] { finish(status); });
                        });
}

// ---- streams ----

namespace {

// Bridges a caller's stream to the service's: each message from the caller is
// authorized, then written to the service; each answer is written back. One
// message in flight each way is the stream's back-pressure.
class StreamBridge final : public grpc::ServerBidiReactor<ByteBuffer, ByteBuffer> {
 public:
  StreamBridge(Gateway* gateway, grpc::CallbackServerContext* context, const Route& route,
               const GatewayOptions& options)
      : gateway_(gateway), route_(route), slot_(nullptr), backend_(this) {
    if (!gateway->EnterCall()) {
      Finish(ToGrpcStatus(Overloaded()));
      return;
    }
    slot_ = std::make_unique<InflightSlot>(gateway);
    presented_ = PresentedBy(*context);
    admission_ = gateway->Identify(presented_);
    if (!admission_.status.ok()) {
      FinishRefused(admission_.status);
      return;
    }
    client_ = ForwardContext(context, options.default_deadline, options.internal_key, admission_);
    route.stub->PrepareBidiStreamingCall(client_.get(), route.method, grpc::StubOptions(),
                                         &backend_);
    backend_started_ = true;
    backend_.AddHold();  // released once this side issues no more backend operations
    backend_.StartRead(&answer_);
    backend_.StartCall();
    StartRead(&message_);
  }

  // Caller → gateway.
  void OnReadDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    if (hold_released_) return;
    if (!ok) {  // the caller closed its side, or the call is over
      backend_.StartWritesDone();
      ReleaseHold();
      return;
    }
    gateway_->Check(route_, message_, admission_);
    if (!admission_.status.ok()) {
      refusal_ = admission_.status;
      client_->TryCancel();
      ReleaseHold();
      return;
    }
    backend_.StartWrite(&message_);
  }

  // Gateway → caller.
  void OnWriteDone(bool ok) override {
    if (ok) {
      backend_.StartRead(&answer_);
    } else {
      absl::MutexLock lock(&mu_);
      client_->TryCancel();
      ReleaseHold();
    }
    backend_.RemoveHold();  // the write's own hold, taken in Backend::OnReadDone
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (client_ != nullptr) client_->TryCancel();
    ReleaseHold();
  }

  void OnDone() override { delete this; }

 private:
  class Backend final : public grpc::ClientBidiReactor<ByteBuffer, ByteBuffer> {
   public:
    explicit Backend(StreamBridge* bridge) : bridge_(bridge) {}
    void OnWriteDone(bool ok) override {
      if (ok) {
        bridge_->StartRead(&bridge_->message_);
      } else {
        bridge_->BackendStopped();
      }
    }
    void OnReadDone(bool ok) override {
      if (ok) {
        // The backend must outlive the caller-side write, whose completion
        // starts the next backend read.
        AddHold();
        bridge_->StartWrite(&bridge_->answer_);
      } else {
        bridge_->BackendStopped();
      }
    }
    void OnDone(const grpc::Status& status) override { bridge_->BackendDone(status); }

   private:
    StreamBridge* bridge_;
  };

  // The service ended its side (or broke): stop waiting for the caller, so
  // that the service's status reaches the caller at once.
  void BackendStopped() {
    absl::MutexLock lock(&mu_);
    ReleaseHold();
  }

  void ReleaseHold() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (hold_released_ || !backend_started_) return;
    hold_released_ = true;
    backend_.RemoveHold();
  }

  void BackendDone(const grpc::Status& status) {
    absl::Status refusal;
    {
      absl::MutexLock lock(&mu_);
      refusal = refusal_;
    }
    if (!refusal.ok()) {
      FinishRefused(refusal);
      return;
    }
    gateway_->AuditThen(route_, presented_, admission_, FromGrpcStatus(status),
                        [this, status] { Finish(status); });
  }

  void FinishRefused(const absl::Status& refusal) {
    admission_.status = refusal;
    gateway_->AuditThen(route_, presented_, admission_, refusal,
                        [this, refusal] { Finish(ToGrpcStatus(refusal)); });
  }

  Gateway* gateway_;
  const Route& route_;
  std::unique_ptr<InflightSlot> slot_;
  Presented presented_;
  Gateway::Admission admission_;
  std::unique_ptr<grpc::ClientContext> client_;
  Backend backend_;
  ByteBuffer message_;
  ByteBuffer answer_;
  absl::Mutex mu_;
  bool backend_started_ = false;
  bool hold_released_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status refusal_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::ServerBidiReactor<ByteBuffer, ByteBuffer>* Gateway::Stream(
    grpc::CallbackServerContext* context, const Route& route) {
  return new StreamBridge(this, context, route, options_);
}

// ---- the JSON edge ----

EdgeInvoker Gateway::edge_invoker() {
  return [this](EdgeCall call, std::function<void(EdgeResult)> done) {
    auto route_it = edge_routes_.find(call.method);
    if (route_it == edge_routes_.end()) {
      done(EdgeResult{Error(absl::StatusCode::kUnimplemented, "UNKNOWN_METHOD",
                            absl::StrCat(call.method, " is not a unary method of this gateway")),
                      {},
                      {}});
      return;
    }
    const Route& route = route_it->second;
    if (!EnterCall()) {
      done(EdgeResult{Overloaded(), {}, {{"retry-after", "1"}}});
      return;
    }
    auto header = [&call](const char* name) -> std::string {
      auto it = call.headers.find(name);
      return it == call.headers.end() ? std::string() : it->second;
    };
    Presented presented;
    presented.authorization = header("authorization");
    presented.api_key = header("x-api-key");
    presented.request_id = RequestIdOf(header("x-request-id"));
    presented.peer = call.peer;
    presented.channel = "connect";
    absl::optional<absl::Duration> timeout;
    int64_t timeout_ms = 0;
    if (absl::SimpleAtoi(header("connect-timeout-ms"), &timeout_ms) && timeout_ms > 0) {
      timeout = absl::Milliseconds(timeout_ms);
    }
    // The buffers live until the answer is sent.
    struct Buffers {
      ByteBuffer request;
      ByteBuffer response;
    };
    auto buffers = std::make_shared<Buffers>();
    grpc::Slice slice(call.request);
    buffers->request = ByteBuffer(&slice, 1);
    Forward(route, std::move(presented), &buffers->request, &buffers->response, nullptr, timeout,
            [done, buffers](grpc::Status status) {
              EdgeResult result{FromGrpcStatus(status), {}, {}};
              if (status.ok()) {
                std::vector<grpc::Slice> slices;
                buffers->response.Dump(&slices);
                for (const grpc::Slice& s : slices) {
                  result.response.append(reinterpret_cast<const char*>(s.begin()), s.size());
                }
              }
              int64_t retry_ms = 0;
              if (absl::SimpleAtoi(ErrorMetadata(result.status, "retry_after_ms"), &retry_ms)) {
                result.headers["retry-after"] = absl::StrCat((retry_ms + 999) / 1000);
              }
              done(std::move(result));
            });
  };
}

}  // namespace htx::gateway
