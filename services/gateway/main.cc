// htx-gateway: the suite's front door (gRPC and Connect JSON).
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/server/flags.h"
#include "common/server/log.h"
#include "common/server/server.h"
#include "common/storage/store.h"
#include "services/gateway/gateway_service.h"

ABSL_FLAG(std::string, http_listen, "127.0.0.1:0",
          "HOST:PORT of the Connect JSON edge and /openapi.json (empty = off)");
ABSL_FLAG(std::string, jwt_keys_dir, "",
          "directory of PEM public keys named {kid}.pem (empty = bearer tokens refused)");
ABSL_FLAG(std::string, jwt_issuer, "htx-plan", "required `iss` of bearer tokens");
ABSL_FLAG(std::string, jwt_audience, "htx-gateway", "required `aud` of bearer tokens");
ABSL_FLAG(std::string, identities_file, "",
          "API keys (hashed) and client certificate names with their roles (empty = none)");
ABSL_FLAG(double, rate_per_second, 200, "calls per second per principal (0 = unlimited)");
ABSL_FLAG(double, rate_burst, 400, "burst of calls per principal");
ABSL_FLAG(int, max_inflight_calls, 10000, "calls in flight beyond which calls are refused");
ABSL_FLAG(int, max_concurrent_streams, 256, "concurrent calls per connection");
ABSL_FLAG(int, max_message_bytes, 4 << 20, "largest request message accepted");
ABSL_FLAG(int, default_deadline_seconds, 30, "deadline of calls that carry none");
ABSL_FLAG(std::string, tls_cert, "", "PEM server certificate: serve TLS (empty = plaintext)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, client_ca, "",
          "PEM CA bundle: require client certificates signed by it (mTLS)");

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "htx-gateway: %s\n", message.c_str());
  return 1;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "htx-gateway --listen=HOST:PORT --data_dir=DIR --internal_key_file=F --registry_addr=...");
  absl::ParseCommandLine(argc, argv);
  htx::server::BlockStopSignals();
  htx::server::SetLogService("htx-gateway");
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) return Fail("--data_dir is required");

  auto key = htx::auth::InternalKey::FromFile(absl::GetFlag(FLAGS_internal_key_file));
  if (!key.ok()) return Fail(std::string(key.status().message()));

  std::unique_ptr<htx::auth::JwtVerifier> jwt;
  if (!absl::GetFlag(FLAGS_jwt_keys_dir).empty()) {
    htx::auth::JwtOptions jwt_options;
    jwt_options.keys_dir = absl::GetFlag(FLAGS_jwt_keys_dir);
    jwt_options.issuer = absl::GetFlag(FLAGS_jwt_issuer);
    jwt_options.audience = absl::GetFlag(FLAGS_jwt_audience);
    auto created = htx::auth::JwtVerifier::Create(jwt_options);
    if (!created.ok()) return Fail(created.status().ToString());
    jwt = *std::move(created);
  }
  std::unique_ptr<htx::auth::IdentityFile> identities;
  if (!absl::GetFlag(FLAGS_identities_file).empty()) {
    auto opened = htx::auth::IdentityFile::Open(absl::GetFlag(FLAGS_identities_file));
    if (!opened.ok()) return Fail(opened.status().ToString());
    identities = *std::move(opened);
  }

  htx::storage::StoreOptions store_options;
  store_options.path = data_dir;
  store_options.column_families = {htx::gateway::AuditLog::kFamily};
  auto store = htx::storage::Store::Open(store_options);
  if (!store.ok()) return Fail(store.status().ToString());
  auto audit = htx::gateway::AuditLog::Open(store->get());
  if (!audit.ok()) return Fail(audit.status().ToString());

  htx::gateway::GatewayOptions options;
  options.backends = {
      {"htx.registry.v1.RegistryService", absl::GetFlag(FLAGS_registry_addr)},
      {"htx.indicator.v1.IndicatorService", absl::GetFlag(FLAGS_indicator_addr)},
      {"htx.budget.v1.BudgetService", absl::GetFlag(FLAGS_budget_addr)},
      {"htx.reporting.v1.ReportingService", absl::GetFlag(FLAGS_reporting_addr)},
  };
  for (auto it = options.backends.begin(); it != options.backends.end();) {
    it = it->second.empty() ? options.backends.erase(it) : std::next(it);
  }
  options.jwt = jwt.get();
  options.identities = identities.get();
  options.internal_key = *std::move(key);
  options.rate_limit = {absl::GetFlag(FLAGS_rate_per_second), absl::GetFlag(FLAGS_rate_burst)};
  options.max_inflight_calls = absl::GetFlag(FLAGS_max_inflight_calls);
  options.default_deadline = absl::Seconds(absl::GetFlag(FLAGS_default_deadline_seconds));
  options.audit = audit->get();
  htx::gateway::Gateway gateway(std::move(options));

  htx::server::ServerOptions server_options;
  server_options.listen = absl::GetFlag(FLAGS_listen);
  server_options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  server_options.max_receive_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  server_options.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  if (!absl::GetFlag(FLAGS_tls_cert).empty()) {
    grpc::SslServerCredentialsOptions tls;
    grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
    if (!ReadFile(absl::GetFlag(FLAGS_tls_cert), &pair.cert_chain) ||
        !ReadFile(absl::GetFlag(FLAGS_tls_key), &pair.private_key)) {
      return Fail("--tls_cert/--tls_key: cannot read");
    }
    tls.pem_key_cert_pairs.push_back(pair);
    if (!absl::GetFlag(FLAGS_client_ca).empty()) {
      if (!ReadFile(absl::GetFlag(FLAGS_client_ca), &tls.pem_root_certs)) {
        return Fail("--client_ca: cannot read");
      }
      // A certificate is asked for and verified when sent; callers without
      // one may still use a token or an API key.
      tls.client_certificate_request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    server_options.credentials = grpc::SslServerCredentials(tls);
  }
  auto server =
      htx::server::Server::Start(server_options, gateway.services(), gateway.service_names());
  if (!server.ok()) return Fail(server.status().ToString());

  std::unique_ptr<htx::gateway::ConnectEdge> edge;
  if (!absl::GetFlag(FLAGS_http_listen).empty()) {
    htx::gateway::ConnectEdgeOptions edge_options;
    edge_options.listen = absl::GetFlag(FLAGS_http_listen);
    edge_options.max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_message_bytes));
    edge_options.services = gateway.proxied_services();
    auto started = htx::gateway::ConnectEdge::Start(edge_options, gateway.edge_invoker());
    if (!started.ok()) return Fail(started.status().ToString());
    edge = *std::move(started);
  }
  (*server)->SetServing(true);
  std::printf("htx-gateway listening on %s (gRPC)", (*server)->address().c_str());
  if (edge) std::printf(", http://127.0.0.1:%d (Connect JSON, /openapi.json)", edge->port());
  std::printf("\n");
  std::fflush(stdout);

  int signal = htx::server::WaitForStopSignal();
  std::printf("htx-gateway: signal %d, draining\n", signal);
  if (edge) edge->Stop();
  (*server)->Shutdown(absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  store->reset();
  std::printf("htx-gateway: stopped\n");
  return 0;
}
