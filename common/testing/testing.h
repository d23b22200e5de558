// Test helpers shared by every service's tests: temporary directories, an
// in-process server on port 0, and status matchers.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/auth/credentials.h"
#include "common/auth/policy.h"
#include "common/server/server.h"
#include "common/status/status.h"
#include "gmock/gmock.h"

namespace htx::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // A path inside the directory.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The internal key of every test: services under test verify principals
// with it, test clients sign with it.
auth::InternalKey TestInternalKey();
// Writes TestInternalKey() as a key file (for a service started as a child
// process) and returns its path.
std::string WriteTestInternalKey(const TempDir& dir);
// A principal for tests: `role` scoped to `scope`.
auth::Principal TestPrincipal(auth::Role role, const std::string& scope = "");

// Starts `services` on 127.0.0.1:0, serving, and dials it.
class InProcessServer {
 public:
  // `options.listen` is ignored: always 127.0.0.1:0.
  InProcessServer(std::vector<grpc::Service*> services, std::vector<std::string> names,
                  server::ServerOptions options = {});
  ~InProcessServer();
  // Calls carry a ministry-wide principal signed with TestInternalKey().
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  // Calls carry `principal`.
  std::shared_ptr<grpc::Channel> ChannelAs(const auth::Principal& principal) const;
  // Calls carry no principal, as from a caller who bypassed the gateway.
  std::shared_ptr<grpc::Channel> UnsignedChannel() const;
  const std::string& address() const { return address_; }
  server::Server& server() { return *server_; }

 private:
  std::unique_ptr<server::Server> server_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
};

// A client context with a deadline, so that a hung server fails the test
// instead of hanging it.
std::unique_ptr<grpc::ClientContext> Context(int seconds = 10);

// Any status-like value as an absl::Status.
inline absl::Status ToAbsl(const absl::Status& status) { return status; }
inline absl::Status ToAbsl(const grpc::Status& status) { return FromGrpcStatus(status); }
template <typename T>
absl::Status ToAbsl(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// EXPECT_THAT(status, StatusIs(absl::StatusCode::kNotFound));
// Works on absl::Status, absl::StatusOr<T> and grpc::Status.
MATCHER_P(StatusIs, code, "has status code " + absl::StatusCodeToString(code)) {
  absl::Status status = ::htx::testing::ToAbsl(arg);
  *result_listener << "status is " << status.ToString();
  return status.code() == code;
}

// Also checks the ErrorInfo reason.
MATCHER_P2(StatusIsWithReason, code, reason,
           "has status code " + absl::StatusCodeToString(code) + " and reason " +
               std::string(reason)) {
  absl::Status status = ::htx::testing::ToAbsl(arg);
  *result_listener << "status is " << status.ToString() << " with reason "
                   << ::htx::ErrorReason(status);
  return status.code() == code && ::htx::ErrorReason(status) == reason;
}

// INVALID_ARGUMENT naming `field` in its ErrorInfo.
MATCHER_P(InvalidArgumentFor, field, "is INVALID_ARGUMENT naming " + std::string(field)) {
  absl::Status status = ::htx::testing::ToAbsl(arg);
  *result_listener << "status is " << status.ToString() << " naming field \""
                   << ::htx::ErrorMetadata(status, "field") << "\"";
  return status.code() == absl::StatusCode::kInvalidArgument &&
         ::htx::ErrorMetadata(status, "field") == field;
}

// ASSERT_OK(expr) for absl::Status / grpc::Status.
#define HTX_ASSERT_OK(expr)                                  \
  do {                                                       \
    absl::Status htx_status_ = ::htx::testing::ToAbsl(expr); \
    ASSERT_TRUE(htx_status_.ok()) << htx_status_.ToString(); \
  } while (false)

// EXPECT_OK(expr): the same, but the test goes on.
#define HTX_EXPECT_OK(expr)                                  \
  do {                                                       \
    absl::Status htx_status_ = ::htx::testing::ToAbsl(expr); \
    EXPECT_TRUE(htx_status_.ok()) << htx_status_.ToString(); \
  } while (false)

}  // namespace htx::testing
