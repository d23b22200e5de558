#include "common/status/status.h"

#include <grpcpp/support/status.h>

#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "htx/type/v1/error.pb.h"

namespace htx {
namespace {

constexpr char kDomain[] = "htx.gov.vn";
constexpr absl::string_view kErrorInfoUrl = "type.googleapis.com/htx.type.v1.ErrorInfo";

std::optional<type::v1::ErrorInfo> GetInfo(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrorInfoUrl);
  if (!payload) return std::nullopt;
  type::v1::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return std::nullopt;
  return info;
}

absl::Status WithInfo(absl::Status status, const type::v1::ErrorInfo& info) {
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

}  // namespace

absl::Status Error(
    absl::StatusCode code, absl::string_view reason, absl::string_view message,
    std::initializer_list<std::pair<absl::string_view, absl::string_view>> metadata) {
  type::v1::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(kDomain);
  for (const auto& [key, value] : metadata) {
    (*info.mutable_metadata())[std::string(key)] = std::string(value);
  }
  return WithInfo(absl::Status(code, message), info);
}

absl::Status InvalidField(absl::string_view field, absl::string_view problem,
                          absl::string_view reason) {
  return Error(absl::StatusCode::kInvalidArgument, reason, absl::StrCat(field, ": ", problem),
               {{"field", field}});
}

absl::Status RequiredField(absl::string_view field) {
  return InvalidField(field, "required", "FIELD_REQUIRED");
}

absl::Status NotFound(absl::string_view resource) {
  return Error(absl::StatusCode::kNotFound, "RESOURCE_NOT_FOUND",
               absl::StrCat(resource, " not found"), {{"resource", resource}});
}

absl::Status AlreadyExists(absl::string_view resource) {
  return Error(absl::StatusCode::kAlreadyExists, "RESOURCE_EXISTS",
               absl::StrCat(resource, " already exists"), {{"resource", resource}});
}

absl::Status FailedPrecondition(absl::string_view reason, absl::string_view message) {
  return Error(absl::StatusCode::kFailedPrecondition, reason, message);
}

std::string ErrorReason(const absl::Status& status) {
  auto info = GetInfo(status);
  return info ? info->reason() : "";
}

std::string ErrorMetadata(const absl::Status& status, absl::string_view key) {
  auto info = GetInfo(status);
  if (!info) return "";
  auto it = info->metadata().find(std::string(key));
  return it == info->metadata().end() ? "" : it->second;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  type::v1::ErrorStatus details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(std::string(status.message()));
  type::v1::ErrorInfo info;
  if (auto attached = GetInfo(status)) {
    info = *attached;
  } else {
    info.set_reason(absl::StatusCodeToString(status.code()));
    info.set_domain(kDomain);
  }
  details.add_details()->PackFrom(info);
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  type::v1::ErrorStatus details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      type::v1::ErrorInfo info;
      if (any.UnpackTo(&info)) return WithInfo(result, info);
    }
  }
  return result;
}

}  // namespace htx
