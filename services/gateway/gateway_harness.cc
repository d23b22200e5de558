#include "services/gateway/gateway_harness.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace htx::gateway {
namespace {

constexpr char kIssuer[] = "htx-test";
constexpr char kAudience[] = "htx-gateway";

template <typename T>
T OrDie(absl::StatusOr<T> value, const char* what) {
  if (!value.ok()) {
    std::fprintf(stderr, "gateway harness: %s: %s\n", what, value.status().ToString().c_str());
    std::abort();
  }
  return *std::move(value);
}

std::string Claims(auth::Role role, const std::string& scope,
                   const std::vector<std::string>& methods, absl::Duration ttl) {
  google::protobuf::Struct claims;
  auto& fields = *claims.mutable_fields();
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  fields["iss"].set_string_value(kIssuer);
  fields["aud"].set_string_value(kAudience);
  fields["sub"].set_string_value(absl::StrCat(auth::RoleName(role), "@", scope));
  fields["iat"].set_number_value(static_cast<double>(now));
  fields["exp"].set_number_value(static_cast<double>(now + absl::ToInt64Seconds(ttl)));
  fields["role"].set_string_value(auth::RoleName(role));
  fields["scope"].set_string_value(scope);
  auto* list = fields["methods"].mutable_list_value();
  for (const std::string& m : methods) list->add_values()->set_string_value(m);
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(claims, &json);
  return json;
}

}  // namespace

GatewayHarness::GatewayHarness(Options options) {
  signing_ = OrDie(auth::GenerateKeyPair("ES256"), "key pair");
  const std::string keys_dir = dir_.Sub("jwt-keys");
  std::filesystem::create_directories(keys_dir);
  std::ofstream(keys_dir + "/test-1.pem") << signing_.public_pem;
  identities_path_ = dir_.Sub("identities.txt");
  std::ofstream(identities_path_) << "# test identities\n";

  auth::JwtOptions jwt_options;
  jwt_options.keys_dir = keys_dir;
  jwt_options.issuer = kIssuer;
  jwt_options.audience = kAudience;
  jwt_ = OrDie(auth::JwtVerifier::Create(jwt_options), "jwt verifier");
  identities_ =
      OrDie(auth::IdentityFile::Open(identities_path_, absl::ZeroDuration()), "identities file");

  storage::StoreOptions store_options;
  store_options.path = dir_.Sub("gateway");
  store_options.column_families = {AuditLog::kFamily};
  store_ = OrDie(storage::Store::Open(store_options), "gateway store");
  audit_ = OrDie(AuditLog::Open(store_.get()), "audit log");

  GatewayOptions gateway_options;
  // The services verify the principal with testing::TestInternalKey(), the
  // key the gateway signs with.
  gateway_options.backends = {{"htx.registry.v1.RegistryService", registry_.address()},
                              {"htx.indicator.v1.IndicatorService", indicator_.address()},
                              {"htx.budget.v1.BudgetService", budget_.address()}};
  for (const auto& [service, address] : options.backend_addresses) {
    gateway_options.backends[service] = address;
  }
  gateway_options.jwt = jwt_.get();
  gateway_options.identities = identities_.get();
  gateway_options.internal_key = testing::TestInternalKey();
  gateway_options.rate_limit = options.rate_limit;
  gateway_options.max_inflight_calls = options.max_inflight_calls;
  gateway_options.default_deadline = options.default_deadline;
  gateway_options.audit = audit_.get();
  gateway_ = std::make_unique<Gateway>(std::move(gateway_options));
  server_ = std::make_unique<testing::InProcessServer>(gateway_->services(),
                                                       gateway_->service_names(), options.server);
  channel_ = server_->UnsignedChannel();

  ConnectEdgeOptions edge_options;
  edge_options.services = gateway_->proxied_services();
  edge_ = OrDie(ConnectEdge::Start(edge_options, gateway_->edge_invoker()), "edge");
}

GatewayHarness::~GatewayHarness() {
  edge_.reset();
  server_.reset();
}

std::string GatewayHarness::Token(auth::Role role, const std::string& scope,
                                  const std::vector<std::string>& methods,
                                  absl::Duration ttl) const {
  return OrDie(
      auth::SignJwt(signing_.private_pem, "ES256", "test-1", Claims(role, scope, methods, ttl)),
      "sign");
}

std::string GatewayHarness::ForeignToken(auth::Role role, const std::string& scope) const {
  auth::KeyPair other = OrDie(auth::GenerateKeyPair("ES256"), "key pair");
  return OrDie(
      auth::SignJwt(other.private_pem, "ES256", "test-1", Claims(role, scope, {}, absl::Hours(1))),
      "sign");
}

std::string GatewayHarness::AddApiKey(const std::string& name, auth::Role role,
                                      const std::string& scope,
                                      const std::vector<std::string>& methods) {
  const std::string key = absl::StrCat("test-key-", name, "-", auth::InternalKey::GenerateHex());
  std::ofstream(identities_path_, std::ios::app)
      << "key:" << auth::HashApiKey(key) << " " << name << " " << auth::RoleName(role) << " "
      << (scope.empty() ? "-" : scope) << " " << absl::StrJoin(methods, ",") << "\n";
  return key;
}

std::string GatewayHarness::AddCertificate(const std::string& common_name, const std::string& name,
                                           auth::Role role, const std::string& scope) {
  std::ofstream(identities_path_, std::ios::app)
      << "cert:" << common_name << " " << name << " " << auth::RoleName(role) << " "
      << (scope.empty() ? "-" : scope) << "\n";
  return absl::StrCat("cert:", name);
}

std::unique_ptr<grpc::ClientContext> GatewayHarness::WithToken(const std::string& token) {
  std::unique_ptr<grpc::ClientContext> context = testing::Context();
  context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  return context;
}

}  // namespace htx::gateway
