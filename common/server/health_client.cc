#include "common/server/health_client.h"

#include <grpcpp/generic/generic_stub.h>

#include <future>
#include <thread>

#include "common/status/status.h"

namespace htx::server {

absl::StatusOr<Health> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& service, absl::Duration timeout) {
  // HealthCheckRequest { string service = 1; }
  std::string request;
  if (service.size() > 127) {  // the one-byte length below
    return absl::InvalidArgumentError("service: at most 127 bytes");
  }
  if (!service.empty()) {
    request.push_back(0x0a);
    request.push_back(static_cast<char>(service.size()));
    request += service;
  }
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::GenericStub stub(channel);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request_buffer,
                 &response_buffer, [&done](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return FromGrpcStatus(status);
  // HealthCheckResponse { ServingStatus status = 1; }: 0x08, then the value.
  std::vector<grpc::Slice> slices;
  if (!response_buffer.Dump(&slices).ok()) return absl::DataLossError("unreadable answer");
  std::string response;
  for (const grpc::Slice& s : slices) response.append(s.begin(), s.end());
  if (response.empty()) return Health::kUnknown;
  if (response.size() != 2 || response[0] != 0x08) {
    return absl::DataLossError("unexpected health answer");
  }
  return static_cast<Health>(response[1]);
}

bool WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
                      absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    absl::StatusOr<Health> health = CheckHealth(channel, service, absl::Seconds(1));
    if (health.ok() && *health == Health::kServing) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace htx::server
