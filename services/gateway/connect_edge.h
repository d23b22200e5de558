// The JSON edge: the Connect protocol's unary form over HTTP/1.1
// (POST /{package}.{Service}/{Method}, Content-Type: application/json), for
// callers that cannot speak gRPC, plus GET /openapi.json describing it. The
// edge only translates: JSON is parsed into the method's request message
// (unknown fields refused, named), handed to the gateway's invoker as bytes,
// and the answer is printed back as JSON or as a Connect error.
#ifndef HTX_SERVICES_GATEWAY_CONNECT_EDGE_H_
#define HTX_SERVICES_GATEWAY_CONNECT_EDGE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"

namespace htx::gateway {

// One unary call as the edge hands it to the gateway.
struct EdgeCall {
  std::string method;   // "/htx.registry.v1.RegistryService/GetOrganization"
  std::string request;  // the serialized request message
  // Lower-case HTTP header names → values: authorization, x-api-key,
  // x-request-id, connect-timeout-ms, ...
  std::map<std::string, std::string> headers;
  std::string peer;  // "ip:port"
};

// The outcome: a status (with ErrorInfo reason and metadata, see
// common/status) and, when OK, the serialized response message.
struct EdgeResult {
  absl::Status status;
  std::string response;
  // Extra response headers, e.g. "retry-after" on RESOURCE_EXHAUSTED.
  std::map<std::string, std::string> headers;
};

// Runs the call through the gateway (identity, authorization, limits, audit,
// forwarding); `done` is called exactly once, on any thread.
using EdgeInvoker = std::function<void(EdgeCall call, std::function<void(EdgeResult)> done)>;

struct ConnectEdgeOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT, port 0 picks a free one
  // Requests with a larger body are refused (RESOURCE_EXHAUSTED / 413).
  size_t max_body_bytes = 4 << 20;
  int threads = 8;
  // The services whose unary methods the edge serves and documents.
  std::vector<const google::protobuf::ServiceDescriptor*> services;
};

class ConnectEdge {
 public:
  static absl::StatusOr<std::unique_ptr<ConnectEdge>> Start(ConnectEdgeOptions options,
                                                            EdgeInvoker invoker);
  ~ConnectEdge();  // stops
  int port() const;
  void Stop();

 private:
  class Impl;
  explicit ConnectEdge(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The OpenAPI 3.0 document of the edge for these services: one POST path per
// unary method, request and response schemas from the message descriptors
// (proto3 JSON mapping), the Connect error schema, bearer and API-key security.
std::string OpenApiDocument(
    const std::vector<const google::protobuf::ServiceDescriptor*>& services);

}  // namespace htx::gateway

#endif  // HTX_SERVICES_GATEWAY_CONNECT_EDGE_H_
