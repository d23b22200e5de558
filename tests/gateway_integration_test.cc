// The gateway in front of a real registry, both over real gRPC on port 0 with
// temp RocksDB stores: identity, forwarding without re-encoding, streams,
// refusals, the audit chain, limits, and the registry's own check of the
// principal when reached without the gateway.
#include <httplib.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/server/caller.h"
#include "common/server/health_client.h"
#include "common/testing/testing.h"
#include "gtest/gtest.h"
#include "htx/gateway/v1/audit.grpc.pb.h"
#include "htx/reporting/v1/reporting.grpc.pb.h"
#include "services/gateway/gateway_harness.h"
#include "tests/gateway_test_data.h"

namespace htx::gateway {
namespace {

using ::htx::testing::Context;
using ::htx::testing::StatusIs;
using ::htx::testing::StatusIsWithReason;
using ::htx::testing::TestPrincipal;

class GatewayTest : public ::testing::Test {
 protected:
  explicit GatewayTest(GatewayHarness::Options options = {}) : harness_(options) {
    SeedRegistry(harness_.registry());
  }

  rv1::RegistryService::Stub& stub() {
    if (!stub_) stub_ = rv1::RegistryService::NewStub(harness_.channel());
    return *stub_;
  }

  grpc::Status GetAs(const std::string& token, const std::string& name, rv1::Organization* out) {
    rv1::GetOrganizationRequest request;
    request.set_name(name);
    return stub().GetOrganization(GatewayHarness::WithToken(token).get(), request, out);
  }

  std::vector<v1::AuditRecord> AuditRecords() {
    v1::ListAuditRecordsRequest request;
    request.set_page_size(1000);
    absl::StatusOr<v1::ListAuditRecordsResponse> response = harness_.audit().List(request);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return {};
    return {response->records().begin(), response->records().end()};
  }

  GatewayHarness harness_;
  std::unique_ptr<rv1::RegistryService::Stub> stub_;
};

TEST_F(GatewayTest, ForwardsAReadAndAnswersWhatTheServiceAnswers) {
  rv1::Organization through_gateway;
  HTX_ASSERT_OK(GetAs(harness_.Token(auth::v1::ROLE_PROVINCE_EDITOR, kHanoi), kOwnOrganization,
                      &through_gateway));
  rv1::GetOrganizationRequest request;
  request.set_name(kOwnOrganization);
  rv1::Organization direct;
  HTX_ASSERT_OK(harness_.registry().stub().GetOrganization(Context().get(), request, &direct));
  EXPECT_EQ(through_gateway.SerializeAsString(), direct.SerializeAsString());
  // Reads are not audited.
  EXPECT_TRUE(AuditRecords().empty());
}

TEST_F(GatewayTest, PassesServiceErrorsThroughWithTheirReason) {
  rv1::Organization out;
  grpc::Status missing = GetAs(harness_.Token(auth::v1::ROLE_PROVINCE_EDITOR, kHanoi),
                               "provinces/01/organizations/0199999999", &out);
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  grpc::Status malformed = GetAs(harness_.Token(auth::v1::ROLE_MINISTRY_ADMIN, ""),
                                 "provinces/01/organisations/x", &out);
  EXPECT_THAT(malformed, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FromGrpcStatus(malformed).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorMetadata(FromGrpcStatus(malformed), "field"), "name");
}

TEST_F(GatewayTest, RefusesMissingAndBadCredentialsNamingWhich) {
  rv1::GetOrganizationRequest request;
  request.set_name(kOwnOrganization);
  rv1::Organization out;
  EXPECT_THAT(stub().GetOrganization(Context().get(), request, &out),
              StatusIsWithReason(absl::StatusCode::kUnauthenticated, "CREDENTIALS_MISSING"));
  EXPECT_THAT(GetAs("not.a.token", kOwnOrganization, &out),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(
      GetAs(harness_.ForeignToken(auth::v1::ROLE_MINISTRY_ADMIN, ""), kOwnOrganization, &out),
      StatusIsWithReason(absl::StatusCode::kUnauthenticated, "TOKEN_SIGNATURE"));
  EXPECT_THAT(GetAs(harness_.Token(auth::v1::ROLE_MINISTRY_ADMIN, "", {}, -absl::Hours(1)),
                    kOwnOrganization, &out),
              StatusIsWithReason(absl::StatusCode::kUnauthenticated, "TOKEN_EXPIRED"));
  auto context = Context();
  context->AddMetadata("x-api-key", "no-such-key");
  EXPECT_THAT(stub().GetOrganization(context.get(), request, &out),
              StatusIsWithReason(absl::StatusCode::kUnauthenticated, "API_KEY_UNKNOWN"));
  // Every refusal is in the audit log, as anonymous.
  std::vector<v1::AuditRecord> records = AuditRecords();
  ASSERT_EQ(records.size(), 5u);
  for (const v1::AuditRecord& record : records) {
    EXPECT_EQ(record.decision(), v1::DECISION_DENIED);
    EXPECT_EQ(record.subject(), "anonymous");
    EXPECT_EQ(record.code(), "UNAUTHENTICATED");
  }
}

TEST_F(GatewayTest, AForgedPrincipalHeaderFromACallerIsIgnored) {
  // A caller who copies the internal header format gains nothing: the gateway
  // trusts only the credential and signs the principal itself.
  auth::InternalKey::Signed forged =
      testing::TestInternalKey().Sign(TestPrincipal(auth::v1::ROLE_MINISTRY_ADMIN));
  auto context = Context();
  context->AddMetadata(auth::kPrincipalHeader, forged.principal);
  context->AddMetadata(auth::kPrincipalSignatureHeader, forged.signature);
  rv1::GetOrganizationRequest request;
  request.set_name(kOwnOrganization);
  rv1::Organization out;
  EXPECT_THAT(stub().GetOrganization(context.get(), request, &out),
              StatusIsWithReason(absl::StatusCode::kUnauthenticated, "CREDENTIALS_MISSING"));
}

TEST_F(GatewayTest, ApiKeysAreAcceptedForMachineClients) {
  const std::string key =
      harness_.AddApiKey("so-nong-nghiep", auth::v1::ROLE_DEPARTMENT_INTEGRATION, kHanoi,
                         {"/htx.registry.v1.RegistryService/GetOrganization"});
  rv1::GetOrganizationRequest request;
  request.set_name(kOwnOrganization);
  rv1::Organization out;
  auto granted = Context();
  granted->AddMetadata("x-api-key", key);
  HTX_EXPECT_OK(stub().GetOrganization(granted.get(), request, &out));
  EXPECT_EQ(out.name(), kOwnOrganization);

  rv1::ListOrganizationsRequest list;
  list.set_parent(kHanoi);
  rv1::ListOrganizationsResponse listed;
  auto not_granted = Context();
  not_granted->AddMetadata("x-api-key", key);
  EXPECT_THAT(stub().ListOrganizations(not_granted.get(), list, &listed),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "METHOD_NOT_GRANTED"));
}

TEST_F(GatewayTest, MutatingCallsAndRefusalsAreAuditedInAnIntactChain) {
  const std::string editor = harness_.Token(auth::v1::ROLE_COMMUNE_EDITOR, kOwnCommune);
  rv1::Organization created;
  auto context = GatewayHarness::WithToken(editor);
  context->AddMetadata("x-request-id", "req-create-1");
  HTX_ASSERT_OK(
      stub().CreateOrganization(context.get(), CreateRequest("0100000104", kOwnCommune), &created));
  EXPECT_THAT(stub().CreateOrganization(GatewayHarness::WithToken(editor).get(),
                                        CreateRequest("0100000107", kOtherCommune), &created),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));

  std::vector<v1::AuditRecord> records = AuditRecords();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].decision(), v1::DECISION_ALLOWED);
  EXPECT_EQ(records[0].code(), "OK");
  EXPECT_EQ(records[0].request_id(), "req-create-1");
  EXPECT_EQ(records[0].method(), "/htx.registry.v1.RegistryService/CreateOrganization");
  EXPECT_EQ(records[0].role(), auth::v1::ROLE_COMMUNE_EDITOR);
  EXPECT_EQ(records[1].decision(), v1::DECISION_DENIED);
  EXPECT_EQ(records[1].reason(), "OUT_OF_SCOPE");
  EXPECT_EQ(records[1].previous_hash(), records[0].hash());

  // Auditors read and verify the chain over gRPC; editors may not.
  auto audit = v1::AuditService::NewStub(harness_.channel());
  v1::VerifyAuditLogRequest verify;
  v1::VerifyAuditLogResponse verified;
  HTX_ASSERT_OK(audit->VerifyAuditLog(
      GatewayHarness::WithToken(harness_.Token(auth::v1::ROLE_AUDITOR, "")).get(), verify,
      &verified));
  EXPECT_TRUE(verified.intact());
  EXPECT_EQ(verified.records_checked(), 2u);
  EXPECT_THAT(audit->VerifyAuditLog(GatewayHarness::WithToken(editor).get(), verify, &verified),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED"));
}

TEST_F(GatewayTest, StreamsAreForwardedAndEachMessageIsAuthorized) {
  const std::string editor = harness_.Token(auth::v1::ROLE_COMMUNE_EDITOR, kOwnCommune);
  auto context = GatewayHarness::WithToken(editor);
  auto stream = stub().ImportRegistry(context.get());
  rv1::ImportRegistryRequest own;
  rv1::ImportRow* row = own.add_rows();
  *row->mutable_organization() = SampleOrganization("0100000204", kOwnCommune);
  row->set_request_id("row-0100000204");
  ASSERT_TRUE(stream->Write(own));
  rv1::ImportRegistryResponse answer;
  ASSERT_TRUE(stream->Read(&answer));
  EXPECT_EQ(answer.applied(), 1);
  rv1::ImportRegistryRequest other;
  row = other.add_rows();
  *row->mutable_organization() = SampleOrganization("0100000207", kOtherCommune);
  row->set_request_id("row-0100000207");
  stream->Write(other);
  stream->WritesDone();
  while (stream->Read(&answer)) {
  }
  EXPECT_THAT(stream->Finish(),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));
  // The batch in scope was applied; the one outside was not.
  rv1::Organization out;
  HTX_EXPECT_OK(GetAs(editor, "provinces/01/organizations/0100000204", &out));
  EXPECT_THAT(GetAs(harness_.Token(auth::v1::ROLE_MINISTRY_ADMIN, ""),
                    "provinces/01/organizations/0100000207", &out),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(GatewayTest, HealthAndReflectionAnswerForTheGateway) {
  for (const char* service : {"", "htx.registry.v1.RegistryService",
                              "htx.indicator.v1.IndicatorService", "htx.budget.v1.BudgetService",
                              "htx.reporting.v1.ReportingService", "htx.gateway.v1.AuditService"}) {
    EXPECT_TRUE(server::WaitUntilServing(harness_.channel(), service, absl::Seconds(5))) << service;
  }
  absl::StatusOr<std::vector<std::string>> listed = server::ListServices(harness_.channel());
  HTX_ASSERT_OK(listed);
  for (const char* service :
       {"htx.registry.v1.RegistryService", "htx.indicator.v1.IndicatorService",
        "htx.budget.v1.BudgetService", "htx.reporting.v1.ReportingService"}) {
    EXPECT_NE(std::find(listed->begin(), listed->end(), service), listed->end()) << service;
  }
}

TEST_F(GatewayTest, AServiceWithoutABackendIsUnavailableAfterTheChecks) {
  // The harness runs no reporting service: a call is refused when out of
  // scope, and UNAVAILABLE only once allowed.
  htx::reporting::v1::ListSubmissionsRequest request;
  request.set_campaign("campaigns/ke-hoach-2026");
  request.set_parent(kHcmc);
  auto list_as = [&](const std::string& scope) {
    grpc::GenericStub reporting(harness_.channel());
    grpc::Slice slice(request.SerializeAsString());
    grpc::ByteBuffer bytes(&slice, 1);
    grpc::ByteBuffer reply;
    auto context = GatewayHarness::WithToken(harness_.Token(auth::v1::ROLE_PROVINCE_EDITOR, scope));
    grpc::Status status;
    absl::Notification done;
    reporting.UnaryCall(context.get(), "/htx.reporting.v1.ReportingService/ListSubmissions",
                        grpc::StubOptions(), &bytes, &reply, [&](grpc::Status s) {
                          status = s;
                          done.Notify();
                        });
    done.WaitForNotification();
    return status;
  };
  EXPECT_THAT(list_as(kHanoi),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));
  EXPECT_THAT(list_as(kHcmc), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(GatewayTest, ConnectJsonEdgeServesCurlStyleCalls) {
  httplib::Client http("127.0.0.1", harness_.http_port());
  httplib::Headers headers = {
      {"Authorization",
       absl::StrCat("Bearer ", harness_.Token(auth::v1::ROLE_PROVINCE_EDITOR, kHanoi))}};
  auto ok = http.Post("/htx.registry.v1.RegistryService/GetOrganization", headers,
                      absl::StrCat("{\"name\":\"", kOwnOrganization, "\"}"), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_NE(ok->body.find("\"registrationCode\":\"0100000004\""), std::string::npos) << ok->body;

  auto denied =
      http.Post("/htx.registry.v1.RegistryService/GetOrganization", headers,
                absl::StrCat("{\"name\":\"", kHcmcOrganization, "\"}"), "application/json");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
  EXPECT_NE(denied->body.find("\"code\":\"permission_denied\""), std::string::npos) << denied->body;

  auto anonymous =
      http.Post("/htx.registry.v1.RegistryService/GetOrganization",
                absl::StrCat("{\"name\":\"", kOwnOrganization, "\"}"), "application/json");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);

  auto unknown_field = http.Post("/htx.registry.v1.RegistryService/GetOrganization", headers,
                                 "{\"nmae\":\"x\"}", "application/json");
  ASSERT_TRUE(unknown_field);
  EXPECT_EQ(unknown_field->status, 400);
  EXPECT_NE(unknown_field->body.find("nmae"), std::string::npos) << unknown_field->body;

  auto openapi = http.Get("/openapi.json");
  ASSERT_TRUE(openapi);
  EXPECT_EQ(openapi->status, 200);
  EXPECT_NE(openapi->body.find("/htx.registry.v1.RegistryService/GetOrganization"),
            std::string::npos);
}

// ---- the registry's own check, reached without the gateway ----

TEST_F(GatewayTest, TheRegistryRefusesCallsWithoutAValidSignedPrincipal) {
  registry::RegistryHarness& registry = harness_.registry();
  rv1::GetOrganizationRequest request;
  request.set_name(kOwnOrganization);
  rv1::Organization out;
  auto unsigned_stub = rv1::RegistryService::NewStub(registry.UnsignedChannel());
  EXPECT_THAT(unsigned_stub->GetOrganization(Context().get(), request, &out),
              StatusIsWithReason(absl::StatusCode::kUnauthenticated, "PRINCIPAL_MISSING"));
  auto foreign = rv1::RegistryService::NewStub(server::SignedChannel(
      registry.address(),
      auth::InternalKey::FromBytes("a key that is not the suite's internal key"),
      TestPrincipal(auth::v1::ROLE_MINISTRY_ADMIN)));
  EXPECT_THAT(foreign->GetOrganization(Context().get(), request, &out),
              StatusIsWithReason(absl::StatusCode::kUnauthenticated, "PRINCIPAL_SIGNATURE"));
}

TEST_F(GatewayTest, TheRegistryChecksTheCommuneThatOwnsAnOrganisation) {
  // An organisation's name shows only its province, so the gateway lets a
  // commune editor of that province through; the registry, which knows the
  // owning commune, refuses when it is not the editor's.
  const auth::Principal editor = TestPrincipal(auth::v1::ROLE_COMMUNE_EDITOR, kOwnCommune);
  auto direct = rv1::RegistryService::NewStub(harness_.registry().ChannelAs(editor));
  rv1::GetOrganizationRequest own;
  own.set_name(kOwnOrganization);
  rv1::GetOrganizationRequest other;
  other.set_name(kOtherOrganization);
  rv1::Organization out;
  HTX_EXPECT_OK(direct->GetOrganization(Context().get(), own, &out));
  EXPECT_THAT(direct->GetOrganization(Context().get(), other, &out),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));

  const std::string token = harness_.Token(auth::v1::ROLE_COMMUNE_EDITOR, kOwnCommune);
  HTX_EXPECT_OK(GetAs(token, kOwnOrganization, &out));
  EXPECT_THAT(GetAs(token, kOtherOrganization, &out),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));

  rv1::UpdateOrganizationRequest update;
  update.mutable_organization()->set_name(kOtherOrganization);
  update.mutable_organization()->set_members(99);
  update.mutable_update_mask()->add_paths("members");
  EXPECT_THAT(direct->UpdateOrganization(Context().get(), update, &out),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));
  HTX_ASSERT_OK(harness_.registry().stub().GetOrganization(Context().get(), other, &out));
  EXPECT_EQ(out.members(), 30);
}

class GatewayLimitsTest : public GatewayTest {
 protected:
  GatewayLimitsTest() : GatewayTest(Options()) {}
  static GatewayHarness::Options Options() {
    GatewayHarness::Options options;
    options.rate_limit = {/*rate=*/1, /*burst=*/3};
    return options;
  }
};

TEST_F(GatewayLimitsTest, APrincipalOverItsRateIsToldWhenToRetry) {
  const std::string token = harness_.Token(auth::v1::ROLE_PROVINCE_EDITOR, kHanoi);
  rv1::Organization out;
  for (int i = 0; i < 3; ++i) HTX_ASSERT_OK(GetAs(token, kOwnOrganization, &out));
  grpc::Status limited = GetAs(token, kOwnOrganization, &out);
  EXPECT_THAT(limited, StatusIsWithReason(absl::StatusCode::kResourceExhausted, "RATE_LIMITED"));
  EXPECT_FALSE(ErrorMetadata(FromGrpcStatus(limited), "retry_after_ms").empty());
  // Another principal is not affected.
  HTX_EXPECT_OK(
      GetAs(harness_.Token(auth::v1::ROLE_PROVINCE_EDITOR, kHcmc), kHcmcOrganization, &out));
}

class GatewayOverloadTest : public GatewayTest {
 protected:
  GatewayOverloadTest() : GatewayTest(Options()) {}
  static GatewayHarness::Options Options() {
    GatewayHarness::Options options;
    options.max_inflight_calls = 2;
    options.default_deadline = absl::Milliseconds(500);
    options.server.max_receive_message_bytes = 64 << 10;
    return options;
  }
};

TEST_F(GatewayOverloadTest, CallsBeyondTheInFlightCapAreRefusedAndTheGatewayStaysUp) {
  const std::string token = harness_.Token(auth::v1::ROLE_PROVINCE_EDITOR, kHanoi);
  const std::string admin = harness_.Token(auth::v1::ROLE_MINISTRY_ADMIN, "");
  // Two open streams hold the two in-flight slots; one round trip on each
  // makes sure both have reached the service through the gateway.
  auto open_stream = [&](std::unique_ptr<grpc::ClientContext>& context) {
    context = GatewayHarness::WithToken(admin);
    auto stream = stub().ImportRegistry(context.get());
    rv1::ImportRegistryResponse answer;
    EXPECT_TRUE(stream->Write(rv1::ImportRegistryRequest()) && stream->Read(&answer));
    return stream;
  };
  std::unique_ptr<grpc::ClientContext> first_context;
  auto first = open_stream(first_context);
  std::unique_ptr<grpc::ClientContext> second_context;
  auto second = open_stream(second_context);
  rv1::Organization out;
  grpc::Status refused = GetAs(token, kOwnOrganization, &out);
  EXPECT_THAT(refused, StatusIsWithReason(absl::StatusCode::kResourceExhausted, "OVERLOADED"));
  EXPECT_TRUE(server::WaitUntilServing(harness_.channel(), "", absl::Seconds(2)));
  // Cancelling a stream gives its slot back.
  first_context->TryCancel();
  EXPECT_THAT(first->Finish(), StatusIs(absl::StatusCode::kCancelled));
  grpc::Status after;
  for (int i = 0; i < 100; ++i) {
    after = GetAs(token, kOwnOrganization, &out);
    if (after.ok()) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  HTX_EXPECT_OK(after);
  second_context->TryCancel();
  second->Finish();
}

TEST_F(GatewayOverloadTest, ACallWithoutADeadlineGetsTheDefaultOne) {
  // An idle stream without a deadline ends when the gateway's default runs out.
  auto context = Context();
  context->set_deadline(std::chrono::system_clock::time_point::max());
  context->AddMetadata("authorization",
                       "Bearer " + harness_.Token(auth::v1::ROLE_PROVINCE_EDITOR, kHanoi));
  const absl::Time start = absl::Now();
  auto stream = stub().ImportRegistry(context.get());
  rv1::ImportRegistryResponse answer;
  EXPECT_FALSE(stream->Read(&answer));
  EXPECT_THAT(stream->Finish(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(GatewayOverloadTest, AMessageOverTheSizeLimitIsRefused) {
  rv1::GetOrganizationRequest request;
  request.set_name(std::string(100 << 10, 'x'));
  rv1::Organization out;
  EXPECT_THAT(
      stub().GetOrganization(
          GatewayHarness::WithToken(harness_.Token(auth::v1::ROLE_MINISTRY_ADMIN, "")).get(),
          request, &out),
      StatusIs(absl::StatusCode::kResourceExhausted));
}

// A registry stand-in that holds every GetOrganization until its caller gives
// up, and records the deadline each call arrived with and each cancellation.
class HoldingRegistry final : public rv1::RegistryService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetOrganization(grpc::CallbackServerContext* context,
                                            const rv1::GetOrganizationRequest*,
                                            rv1::Organization*) override {
    {
      absl::MutexLock lock(&mu_);
      deadlines_.push_back(absl::FromChrono(context->deadline()));
    }
    class Held final : public grpc::ServerUnaryReactor {
     public:
      explicit Held(HoldingRegistry* owner) : owner_(owner) {}
      void OnCancel() override {
        owner_->Cancelled();
        Finish(grpc::Status::CANCELLED);
      }
      void OnDone() override { delete this; }

     private:
      HoldingRegistry* owner_;
    };
    return new Held(this);
  }

  // Waits (up to 5 s) until `calls` calls have arrived; their deadlines.
  std::vector<absl::Time> Deadlines(size_t calls) {
    absl::MutexLock lock(&mu_);
    auto arrived = [&] { return deadlines_.size() >= calls; };
    mu_.AwaitWithTimeout(absl::Condition(&arrived), absl::Seconds(5));
    return deadlines_;
  }
  // Waits (up to 5 s) until `calls` calls were cancelled; how many were.
  int Cancellations(int calls) {
    absl::MutexLock lock(&mu_);
    auto enough = [&] { return cancelled_ >= calls; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(5));
    return cancelled_;
  }

 private:
  void Cancelled() {
    absl::MutexLock lock(&mu_);
    ++cancelled_;
  }
  absl::Mutex mu_;
  std::vector<absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
  int cancelled_ ABSL_GUARDED_BY(mu_) = 0;
};

class GatewayDeadlineTest : public ::testing::Test {
 protected:
  static GatewayHarness::Options Options(const std::string& registry) {
    GatewayHarness::Options options;
    options.default_deadline = absl::Milliseconds(800);
    options.backend_addresses = {{"htx.registry.v1.RegistryService", registry}};
    return options;
  }

  // GetOrganization through the gateway as a province editor, with `context`.
  grpc::Status Get(grpc::ClientContext* context) {
    context->AddMetadata("authorization",
                         "Bearer " + harness_.Token(auth::v1::ROLE_PROVINCE_EDITOR, kHanoi));
    rv1::GetOrganizationRequest request;
    request.set_name(kOwnOrganization);
    rv1::Organization out;
    return stub_->GetOrganization(context, request, &out);
  }

  HoldingRegistry holding_;
  testing::InProcessServer registry_{{&holding_}, {"htx.registry.v1.RegistryService"}};
  GatewayHarness harness_{Options(registry_.address())};
  std::unique_ptr<rv1::RegistryService::Stub> stub_ =
      rv1::RegistryService::NewStub(harness_.channel());
};

TEST_F(GatewayDeadlineTest, AUnaryCallsDeadlineReachesTheServiceWhichSeesItExpire) {
  grpc::ClientContext context;
  const absl::Time start = absl::Now();
  context.set_deadline(absl::ToChronoTime(start + absl::Milliseconds(300)));
  EXPECT_THAT(Get(&context), StatusIs(absl::StatusCode::kDeadlineExceeded));
  std::vector<absl::Time> deadlines = holding_.Deadlines(1);
  ASSERT_EQ(deadlines.size(), 1u);
  // The caller's deadline, not the gateway's default of 800 ms.
  EXPECT_GT(deadlines[0], start);
  EXPECT_LE(deadlines[0], start + absl::Milliseconds(350));
  EXPECT_EQ(holding_.Cancellations(1), 1);
}

TEST_F(GatewayDeadlineTest, ACallWithoutADeadlineReachesTheServiceWithTheDefaultOne) {
  grpc::ClientContext context;  // no deadline
  const absl::Time start = absl::Now();
  EXPECT_THAT(Get(&context), StatusIs(absl::StatusCode::kDeadlineExceeded));
  std::vector<absl::Time> deadlines = holding_.Deadlines(1);
  ASSERT_EQ(deadlines.size(), 1u);
  EXPECT_GT(deadlines[0], start + absl::Milliseconds(500));
  EXPECT_LE(deadlines[0], start + absl::Milliseconds(900));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(GatewayDeadlineTest, ACallerWhoCancelsCancelsTheServicesCallToo) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  grpc::Status status;
  std::thread call([&] { status = Get(&context); });
  ASSERT_EQ(holding_.Deadlines(1).size(), 1u);  // the call is held in the service
  context.TryCancel();
  call.join();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(holding_.Cancellations(1), 1);
}

}  // namespace
}  // namespace htx::gateway
