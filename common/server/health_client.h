// A grpc.health.v1.Health/Check client and a reflection service lister. Debian's gRPC ships no
// health.proto, so the two tiny messages are encoded by hand over the generic stub.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace htx::server {

enum class Health { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };

// The serving status of `service` ("" = the whole server), or the call's error.
absl::StatusOr<Health> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& service, absl::Duration timeout);

// Polls until SERVING or the timeout passes.
bool WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
                      absl::Duration timeout);

// The services a server lists through reflection
// (grpc.reflection.v1alpha.ServerReflection, also encoded by hand).
absl::StatusOr<std::vector<std::string>> ListServices(const std::shared_ptr<grpc::Channel>& channel,
                                                      absl::Duration timeout = absl::Seconds(5));

}  // namespace htx::server
