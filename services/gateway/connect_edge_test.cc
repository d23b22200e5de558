#include "services/gateway/connect_edge.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <httplib.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "htx/registry/v1/registry.pb.h"
#include "htx/type/v1/error.pb.h"

namespace htx::gateway {
namespace {

namespace pb = google::protobuf;
namespace rv1 = htx::registry::v1;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr char kGetOrganization[] = "/htx.registry.v1.RegistryService/GetOrganization";
constexpr char kCreateOrganization[] = "/htx.registry.v1.RegistryService/CreateOrganization";
constexpr char kImportRegistry[] = "/htx.registry.v1.RegistryService/ImportRegistry";
constexpr char kJson[] = "application/json";

const pb::ServiceDescriptor* Registry() {
  return rv1::GetOrganizationRequest::descriptor()->file()->FindServiceByName("RegistryService");
}

// Records each call and answers with `answer`, from another thread as the
// gateway would.
class FakeInvoker {
 public:
  ~FakeInvoker() {
    for (auto& thread : threads_) thread.join();
  }

  EdgeInvoker invoker() {
    return [this](EdgeCall call, std::function<void(EdgeResult)> done) {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back(std::move(call));
      threads_.emplace_back([done, answer = answer_] { done(answer); });
    };
  }

  void Answer(EdgeResult answer) {
    std::lock_guard<std::mutex> lock(mu_);
    answer_ = std::move(answer);
  }

  std::vector<EdgeCall> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  EdgeResult answer_;
  std::vector<EdgeCall> calls_;
  std::vector<std::thread> threads_;
};

// A JSON body as a Struct, or a failed expectation.
pb::Struct ParseJson(const std::string& body) {
  pb::Struct parsed;
  auto status = pb::util::JsonStringToMessage(body, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in " << body;
  return parsed;
}

// The fields of a Connect error body and of its one ErrorInfo detail.
struct ConnectError {
  std::string code;
  std::string message;
  type::v1::ErrorInfo info;  // decoded from "value"
  std::string debug_reason;  // from "debug"
  std::string value;         // the base64 text itself
};

ConnectError ParseError(const std::string& body) {
  pb::Struct parsed = ParseJson(body);
  ConnectError error;
  error.code = parsed.fields().at("code").string_value();
  if (parsed.fields().count("message"))
    error.message = parsed.fields().at("message").string_value();
  const auto& details = parsed.fields().at("details").list_value().values();
  EXPECT_THAT(details, SizeIs(1));
  if (details.empty()) return error;
  const auto& detail = details[0].struct_value().fields();
  EXPECT_EQ(detail.at("type").string_value(), "htx.type.v1.ErrorInfo");
  error.value = detail.at("value").string_value();
  std::string bytes;
  EXPECT_TRUE(absl::Base64Unescape(error.value, &bytes));
  EXPECT_TRUE(error.info.ParseFromString(bytes));
  error.debug_reason = detail.at("debug").struct_value().fields().at("reason").string_value();
  return error;
}

class ConnectEdgeTest : public ::testing::Test {
 protected:
  void SetUp() override { StartEdge(); }

  void StartEdge(size_t max_body_bytes = 4 << 20) {
    edge_.reset();
    ConnectEdgeOptions options;
    options.services = {Registry()};
    options.max_body_bytes = max_body_bytes;
    options.threads = 2;
    auto edge = ConnectEdge::Start(options, fake_.invoker());
    ASSERT_TRUE(edge.ok()) << edge.status();
    edge_ = std::move(*edge);
    ASSERT_GT(edge_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", edge_->port());
    client_->set_read_timeout(10, 0);
  }

  httplib::Result Post(const std::string& path, const std::string& body,
                       const std::string& content_type = kJson, httplib::Headers headers = {}) {
    return client_->Post(path.c_str(), headers, body, content_type.c_str());
  }

  FakeInvoker fake_;  // outlives the edge, which may still hold its callbacks
  std::unique_ptr<ConnectEdge> edge_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ConnectEdgeTest, PostsJsonAndAnswersJson) {
  rv1::Organization organization;
  organization.set_name("provinces/01/organizations/HTX-1");
  organization.set_display_name("HTX Nông nghiệp Đông Anh");
  organization.set_members(12);
  organization.set_kind(rv1::ORGANIZATION_KIND_HTX);
  fake_.Answer({absl::OkStatus(), organization.SerializeAsString(), {}});

  auto res = Post(kGetOrganization, R"({"name": "provinces/01/organizations/HTX-1"})", kJson,
                  {{"Authorization", "Bearer token"},
                   {"Connect-Protocol-Version", "1"},
                   {"Connect-Timeout-Ms", "1500"},
                   {"X-Request-Id", "r-1"}});
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_THAT(res->get_header_value("Content-Type"), StartsWith(kJson));
  // proto3 JSON: lowerCamelCase names, int64 as a string, enums by name.
  EXPECT_THAT(res->body, HasSubstr(R"("displayName":"HTX Nông nghiệp Đông Anh")"));
  EXPECT_THAT(res->body, HasSubstr(R"("members":"12")"));
  EXPECT_THAT(res->body, HasSubstr(R"("kind":"ORGANIZATION_KIND_HTX")"));
  rv1::Organization answered;
  ASSERT_TRUE(pb::util::JsonStringToMessage(res->body, &answered).ok());
  EXPECT_TRUE(pb::util::MessageDifferencer::Equals(answered, organization));

  std::vector<EdgeCall> calls = fake_.calls();
  ASSERT_THAT(calls, SizeIs(1));
  EXPECT_EQ(calls[0].method, kGetOrganization);
  rv1::GetOrganizationRequest request;
  ASSERT_TRUE(request.ParseFromString(calls[0].request));
  EXPECT_EQ(request.name(), "provinces/01/organizations/HTX-1");
  EXPECT_EQ(calls[0].headers["authorization"], "Bearer token");
  EXPECT_EQ(calls[0].headers["connect-timeout-ms"], "1500");
  EXPECT_EQ(calls[0].headers["x-request-id"], "r-1");
  EXPECT_EQ(calls[0].headers.count("remote_addr"), 0u);
  EXPECT_THAT(calls[0].peer, StartsWith("127.0.0.1:"));
}

TEST_F(ConnectEdgeTest, EmptyBodyIsEmptyMessageAndCharsetIsAllowed) {
  fake_.Answer({absl::OkStatus(), "", {}});
  auto res = Post(kGetOrganization, "", "application/json; charset=utf-8");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->body, "{}");
  ASSERT_THAT(fake_.calls(), SizeIs(1));
  EXPECT_THAT(fake_.calls()[0].request, IsEmpty());
}

TEST_F(ConnectEdgeTest, BinaryProtoRoundTrips) {
  rv1::Organization organization;
  organization.set_name("provinces/01/organizations/HTX-2");
  fake_.Answer({absl::OkStatus(), organization.SerializeAsString(), {}});
  rv1::GetOrganizationRequest request;
  request.set_name("provinces/01/organizations/HTX-2");
  auto res = Post(kGetOrganization, request.SerializeAsString(), "application/proto");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/proto");
  rv1::Organization answered;
  ASSERT_TRUE(answered.ParseFromString(res->body));
  EXPECT_EQ(answered.name(), organization.name());
  ASSERT_THAT(fake_.calls(), SizeIs(1));
  EXPECT_EQ(fake_.calls()[0].request, request.SerializeAsString());
}

TEST_F(ConnectEdgeTest, UnknownJsonFieldIsInvalidArgumentNamingIt) {
  auto res = Post(kGetOrganization, R"({"name": "provinces/01", "bogusField": 1})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->get_header_value("Content-Type"), StartsWith(kJson));
  ConnectError error = ParseError(res->body);
  EXPECT_EQ(error.code, "invalid_argument");
  EXPECT_THAT(error.message, HasSubstr("bogusField"));
  EXPECT_EQ(error.info.reason(), "INVALID_JSON");
  EXPECT_EQ(error.info.metadata().at("field"), "bogusField");
  EXPECT_EQ(error.debug_reason, "INVALID_JSON");
  EXPECT_THAT(fake_.calls(), IsEmpty());
}

TEST_F(ConnectEdgeTest, NestedUnknownFieldIsNamedWithItsPath) {
  auto res = Post(kCreateOrganization,
                  R"({"parent": "provinces/01", "organization": {"displayName": "x", "oops": 1}})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  ConnectError error = ParseError(res->body);
  EXPECT_EQ(error.code, "invalid_argument");
  EXPECT_THAT(error.message, HasSubstr("oops"));
  EXPECT_EQ(error.info.metadata().at("field"), "organization.oops");
  EXPECT_THAT(fake_.calls(), IsEmpty());
}

TEST_F(ConnectEdgeTest, MalformedBodiesAreInvalidArgument) {
  for (const std::string& body :
       {std::string(R"({"name": )"), std::string("[]"), std::string(R"({"name": 5})"),
        std::string("{\"name\": \"\xff\xfe\"}"), std::string(1000, '[')}) {
    auto res = Post(kGetOrganization, body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body;
    EXPECT_EQ(ParseError(res->body).code, "invalid_argument") << body;
  }
  auto res = Post(kGetOrganization, "\xff\xff\xff", "application/proto");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(ParseError(res->body).info.reason(), "INVALID_PROTO");
  EXPECT_THAT(fake_.calls(), IsEmpty());
}

TEST_F(ConnectEdgeTest, WrongContentTypeIs415) {
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded",
                           "application/json; charset=latin1", "application/connect+json"}) {
    auto res = Post(kGetOrganization, R"({"name": "provinces/01"})", type);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 415) << type;
    EXPECT_THAT(ParseError(res->body).message, HasSubstr("application/json")) << type;
  }
  EXPECT_THAT(fake_.calls(), IsEmpty());
}

TEST_F(ConnectEdgeTest, ConnectHeadersAreChecked) {
  auto res = Post(kGetOrganization, "{}", kJson, {{"Connect-Protocol-Version", "2"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(ParseError(res->body).code, "invalid_argument");
  res = Post(kGetOrganization, "{}", kJson, {{"Connect-Timeout-Ms", "soon"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(ParseError(res->body).info.reason(), "INVALID_TIMEOUT");
  EXPECT_THAT(fake_.calls(), IsEmpty());
}

TEST_F(ConnectEdgeTest, UnsupportedContentEncodingIsUnimplemented) {
  auto res = Post(kGetOrganization, "x", kJson, {{"Content-Encoding", "zstd"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 501);
  ConnectError error = ParseError(res->body);
  EXPECT_EQ(error.code, "unimplemented");
  EXPECT_THAT(error.message, HasSubstr("gzip"));
  EXPECT_THAT(fake_.calls(), IsEmpty());
}

TEST_F(ConnectEdgeTest, StreamingMethodIsUnimplemented) {
  auto res = Post(kImportRegistry, "{}");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 501);
  ConnectError error = ParseError(res->body);
  EXPECT_EQ(error.code, "unimplemented");
  EXPECT_THAT(error.message, HasSubstr("gRPC"));
  EXPECT_THAT(fake_.calls(), IsEmpty());
}

TEST_F(ConnectEdgeTest, UnknownMethodIs404Unimplemented) {
  for (const std::string& path : {std::string("/htx.registry.v1.RegistryService/NoSuchMethod"),
                                  std::string("/htx.nothing.v1.NoService/GetOrganization"),
                                  std::string("/nope"), "/" + std::string(5000, 'a') + "/b"}) {
    auto res = Post(path, "{}");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404) << path.substr(0, 60);
    EXPECT_EQ(ParseError(res->body).code, "unimplemented") << path.substr(0, 60);
  }
  auto res = client_->Get(kGetOrganization);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(ParseError(res->body).code, "unimplemented");
  EXPECT_THAT(fake_.calls(), IsEmpty());
}

TEST_F(ConnectEdgeTest, PermissionDeniedIs403WithReason) {
  fake_.Answer({Error(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE",
                      "provinces/02 is outside the caller's scope", {{"resource", "provinces/02"}}),
                "",
                {}});
  auto res = Post(kGetOrganization, R"({"name": "provinces/02/organizations/X"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  ConnectError error = ParseError(res->body);
  EXPECT_EQ(error.code, "permission_denied");
  EXPECT_EQ(error.message, "provinces/02 is outside the caller's scope");
  EXPECT_EQ(error.info.reason(), "OUT_OF_SCOPE");
  EXPECT_EQ(error.info.metadata().at("resource"), "provinces/02");
  EXPECT_EQ(error.debug_reason, "OUT_OF_SCOPE");
  EXPECT_THAT(error.value, Not(HasSubstr("=")));  // unpadded, as the spec asks
}

TEST_F(ConnectEdgeTest, StatusWithoutReasonStillHasDetails) {
  fake_.Answer({absl::NotFoundError("provinces/01/organizations/X not found"), "", {}});
  auto res = Post(kGetOrganization, R"({"name": "provinces/01/organizations/X"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  ConnectError error = ParseError(res->body);
  EXPECT_EQ(error.code, "not_found");
  EXPECT_EQ(error.info.reason(), "NOT_FOUND");
}

TEST_F(ConnectEdgeTest, ResourceExhaustedIs429WithRetryAfter) {
  fake_.Answer({Error(absl::StatusCode::kResourceExhausted, "RATE_LIMITED", "slow down"),
                "",
                {{"retry-after", "7"}}});
  auto res = Post(kGetOrganization, "{}");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429);
  EXPECT_EQ(res->get_header_value("Retry-After"), "7");
  ConnectError error = ParseError(res->body);
  EXPECT_EQ(error.code, "resource_exhausted");
  EXPECT_EQ(error.info.reason(), "RATE_LIMITED");
}

TEST_F(ConnectEdgeTest, MalformedServiceAnswerIsInternal) {
  fake_.Answer({absl::OkStatus(), "\xff\xff\xff", {}});
  auto res = Post(kGetOrganization, "{}");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(ParseError(res->body).code, "internal");
}

TEST_F(ConnectEdgeTest, BodyOverTheLimitIs413) {
  StartEdge(/*max_body_bytes=*/64);
  std::string body = absl::StrCat(R"({"name": ")", std::string(100, 'x'), R"("})");
  auto res = Post(kGetOrganization, body);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(ParseError(res->body).code, "resource_exhausted");
  EXPECT_THAT(fake_.calls(), IsEmpty());
  // A body within the limit still goes through.
  res = Post(kGetOrganization, R"({"name": "provinces/01"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(ConnectEdgeTest, ServesOpenApi) {
  auto res = client_->Get("/openapi.json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Content-Type"), StartsWith(kJson));
  EXPECT_EQ(ParseJson(res->body).fields().at("openapi").string_value(), "3.0.3");
}

TEST_F(ConnectEdgeTest, PortInUseIsUnavailableNamingTheAddress) {
  ConnectEdgeOptions options;
  options.services = {Registry()};
  options.listen = absl::StrCat("127.0.0.1:", edge_->port());
  auto second = ConnectEdge::Start(options, fake_.invoker());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr(options.listen));

  options.listen = "no-port";
  EXPECT_EQ(ConnectEdge::Start(options, fake_.invoker()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ConnectEdgeTest, StopsRightAfterStart) {
  for (int i = 0; i < 5; ++i) {
    ConnectEdgeOptions options;
    options.services = {Registry()};
    auto edge = ConnectEdge::Start(options, fake_.invoker());
    ASSERT_TRUE(edge.ok()) << edge.status();
    (*edge)->Stop();
  }
}

}  // namespace
}  // namespace htx::gateway
