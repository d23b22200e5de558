// The services' half of the identity hand-off: the gateway verifies a caller's
// credential and passes the principal on, signed with the suite's internal
// key; a service accepts only such a principal, so a service reached directly
// (by mistake or on purpose) is no hole. The same key lets the suite's own
// tools and services sign the calls they make.
#pragma once

#include <grpcpp/support/channel_arguments.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/credentials.h"
#include "common/auth/policy.h"
#include "google/protobuf/message.h"

namespace grpc {
class Channel;
class ClientContext;
class ServerContextBase;
}  // namespace grpc

namespace htx::server {

// How long a signed principal stays valid: long enough for a call to reach
// the service, short enough that a captured header is soon useless.
inline constexpr absl::Duration kPrincipalLifetime = absl::Seconds(60);

class CallerCheck {
 public:
  explicit CallerCheck(
      auth::InternalKey key, std::function<absl::Time()> clock = [] { return absl::Now(); })
      : key_(std::move(key)), clock_(std::move(clock)) {}

  // The verified principal of the call, or UNAUTHENTICATED naming what is
  // missing or wrong.
  absl::StatusOr<auth::Principal> Caller(const grpc::ServerContextBase& context) const;
  // Caller(), then the policy for `full_method` over the areas `request` names:
  // the principal, UNAUTHENTICATED or PERMISSION_DENIED.
  absl::StatusOr<auth::Principal> Authorize(const grpc::ServerContextBase& context,
                                            absl::string_view full_method,
                                            const google::protobuf::Message& request) const;

 private:
  auth::InternalKey key_;
  std::function<absl::Time()> clock_;
};

// Adds `principal`, signed and valid for kPrincipalLifetime, to one call.
void AttachPrincipal(grpc::ClientContext* context, const auth::InternalKey& key,
                     auth::Principal principal);

// A channel whose every call carries `principal`, freshly signed per call: for
// the suite's own tools, tests and service-to-service calls.
// `args` may keep channels apart (distinct args: distinct connections).
std::shared_ptr<grpc::Channel> SignedChannel(const std::string& target, auth::InternalKey key,
                                             auth::Principal principal,
                                             const grpc::ChannelArguments& args = {});

// A channel whose every call carries `headers` (e.g. "authorization":
// "Bearer ..." for calls through the gateway).
std::shared_ptr<grpc::Channel> HeaderChannel(
    const std::string& target, std::vector<std::pair<std::string, std::string>> headers,
    const grpc::ChannelArguments& args = {});

// The principal of the suite's command-line tools: ministry-wide.
auth::Principal OperatorPrincipal(absl::string_view tool);

}  // namespace htx::server
