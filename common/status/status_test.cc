#include "common/status/status.h"

#include <grpcpp/support/status.h>

#include "gtest/gtest.h"

namespace htx {
namespace {

TEST(StatusTest, ReasonAndFieldSurviveTheTripThroughGrpc) {
  absl::Status original = InvalidField("organization.sector", "unknown value 9");
  grpc::Status wire = ToGrpcStatus(original);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(wire.error_message(), "organization.sector: unknown value 9");
  absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.message(), original.message());
  EXPECT_EQ(ErrorReason(back), "INVALID_FIELD");
  EXPECT_EQ(ErrorMetadata(back, "field"), "organization.sector");
}

TEST(StatusTest, PlainStatusGetsTheCodeAsReason) {
  absl::Status back = FromGrpcStatus(ToGrpcStatus(absl::NotFoundError("x")));
  EXPECT_EQ(back.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorReason(back), "NOT_FOUND");
  EXPECT_TRUE(FromGrpcStatus(ToGrpcStatus(absl::OkStatus())).ok());
}

TEST(StatusTest, HelpersUseTheirCanonicalCodes) {
  EXPECT_EQ(RequiredField("f").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(RequiredField("f")), "FIELD_REQUIRED");
  EXPECT_EQ(NotFound("provinces/99").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorMetadata(NotFound("provinces/99"), "resource"), "provinces/99");
  EXPECT_EQ(AlreadyExists("x").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(FailedPrecondition("R", "m").code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace htx
