#include "common/server/tool.h"

#include "absl/strings/str_cat.h"
#include "common/server/caller.h"
#include "common/status/status.h"

namespace htx::server {

absl::StatusOr<std::shared_ptr<grpc::Channel>> ToolChannel(const std::string& addr,
                                                           const std::string& token,
                                                           const std::string& internal_key_file,
                                                           absl::string_view tool) {
  if (!token.empty()) {
    return HeaderChannel(addr, {{"authorization", absl::StrCat("Bearer ", token)}});
  }
  absl::StatusOr<auth::InternalKey> key = auth::InternalKey::FromFile(internal_key_file);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--internal_key_file (or --token): ", key.status().message()));
  }
  return SignedChannel(addr, *std::move(key), OperatorPrincipal(tool));
}

std::unique_ptr<grpc::ClientContext> CallContext(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

int PrintFailure(absl::string_view tool, absl::string_view what, const absl::Status& status) {
  const std::string reason = ErrorReason(status);
  const std::string code = absl::StrCat(absl::StatusCodeToString(status.code()),
                                        reason.empty() ? "" : absl::StrCat(" (", reason, ")"));
  std::fprintf(stderr, "%s: %s: %s: %s\n", std::string(tool).c_str(), std::string(what).c_str(),
               code.c_str(), std::string(status.message()).c_str());
  return kExitError;
}

}  // namespace htx::server
