// The gateway in front of a real registry, indicator and budget service, all
// on port 0 with temp stores, with a fresh ES256 signing key and an identities
// file: the fixture of the gateway's integration tests and benchmarks.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/auth/credentials.h"
#include "common/storage/store.h"
#include "common/testing/testing.h"
#include "services/budget/budget_harness.h"
#include "services/gateway/gateway_service.h"
#include "services/indicator/indicator_harness.h"
#include "services/registry/registry_harness.h"

namespace htx::gateway {

class GatewayHarness {
 public:
  struct Options {
    RateLimit rate_limit = {0, 0};  // unlimited unless a test asks
    int max_inflight_calls = 10000;
    absl::Duration default_deadline = absl::Seconds(30);
    // The gateway's server: message size and stream limits, TLS.
    server::ServerOptions server;
    // Services forwarded to these addresses instead of the harness's own
    // (e.g. a stand-in that holds its calls).
    std::map<std::string, std::string> backend_addresses;
  };
  GatewayHarness() : GatewayHarness(Options{}) {}
  explicit GatewayHarness(Options options);
  ~GatewayHarness();

  registry::RegistryHarness& registry() { return registry_; }
  // The indicator and budget services behind the gateway (their registry is
  // their own FakeRegistry, not registry()). The reporting service has no
  // backend here: calls to it answer UNAVAILABLE once allowed.
  indicator::IndicatorHarness& indicator() { return indicator_; }
  budget::BudgetHarness& budget() { return budget_; }
  // Plain channel to the gateway: callers add their own credentials.
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  const std::string& address() const { return server_->address(); }
  int http_port() const { return edge_->port(); }
  AuditLog& audit() { return *audit_; }

  // A bearer token of the harness's issuer for `role` in `scope`.
  std::string Token(auth::Role role, const std::string& scope,
                    const std::vector<std::string>& methods = {},
                    absl::Duration ttl = absl::Hours(1)) const;
  // A token as above, signed by a key the gateway does not know.
  std::string ForeignToken(auth::Role role, const std::string& scope) const;
  // Registers a new API key for `role` in `scope` and returns it.
  std::string AddApiKey(const std::string& name, auth::Role role, const std::string& scope,
                        const std::vector<std::string>& methods = {});
  // Maps client certificates of `common_name` to `role` in `scope` and
  // returns the subject they authenticate as ("cert:{name}").
  std::string AddCertificate(const std::string& common_name, const std::string& name,
                             auth::Role role, const std::string& scope);
  // A client context with a deadline and `authorization: Bearer <token>`.
  static std::unique_ptr<grpc::ClientContext> WithToken(const std::string& token);

 private:
  testing::TempDir dir_;
  registry::RegistryHarness registry_;
  indicator::IndicatorHarness indicator_;
  budget::BudgetHarness budget_;
  auth::KeyPair signing_;
  std::string identities_path_;
  std::unique_ptr<auth::JwtVerifier> jwt_;
  std::unique_ptr<auth::IdentityFile> identities_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<testing::InProcessServer> server_;
  std::unique_ptr<ConnectEdge> edge_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace htx::gateway
