// One mapping between absl::Status (how the project's code reports errors) and
// grpc::Status (what callers see), carrying a machine-readable reason.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace grpc {
class Status;
}

namespace htx {

// Builds a status with an ErrorInfo-style reason, e.g.
//   Error(absl::StatusCode::kInvalidArgument, "FIELD_REQUIRED",
//         "organization.sector is required", {{"field", "organization.sector"}}).
absl::Status Error(
    absl::StatusCode code, absl::string_view reason, absl::string_view message,
    std::initializer_list<std::pair<absl::string_view, absl::string_view>> metadata = {});

// INVALID_ARGUMENT naming the field: "<field>: <problem>".
absl::Status InvalidField(absl::string_view field, absl::string_view problem,
                          absl::string_view reason = "INVALID_FIELD");
// INVALID_ARGUMENT for a required field that is missing.
absl::Status RequiredField(absl::string_view field);
// NOT_FOUND naming the resource.
absl::Status NotFound(absl::string_view resource);
// ALREADY_EXISTS naming the resource.
absl::Status AlreadyExists(absl::string_view resource);
// FAILED_PRECONDITION with a reason.
absl::Status FailedPrecondition(absl::string_view reason, absl::string_view message);

// The reason attached by Error(), or "" if none.
std::string ErrorReason(const absl::Status& status);
// A metadata value attached by Error(), or "".
std::string ErrorMetadata(const absl::Status& status, absl::string_view key);

// absl -> gRPC: same code and message; the reason travels as an
// htx.type.v1.ErrorStatus in the binary details.
grpc::Status ToGrpcStatus(const absl::Status& status);
// gRPC -> absl: the inverse, keeping the reason and metadata.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace htx
