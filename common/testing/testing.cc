#include "common/testing/testing.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/server/caller.h"
#include "gtest/gtest.h"

namespace htx::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/htx-test-XXXXXX";
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << pattern;
    std::abort();
  }
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

InProcessServer::InProcessServer(std::vector<grpc::Service*> services,
                                 std::vector<std::string> names, server::ServerOptions options) {
  options.listen = "127.0.0.1:0";
  auto started = server::Server::Start(options, std::move(services), std::move(names));
  if (!started.ok()) {
    ADD_FAILURE() << started.status();
    std::abort();
  }
  server_ = *std::move(started);
  server_->SetServing(true);
  address_ = server_->address();
  channel_ = ChannelAs(TestPrincipal(auth::v1::ROLE_MINISTRY_ADMIN));
}

std::shared_ptr<grpc::Channel> InProcessServer::ChannelAs(const auth::Principal& principal) const {
  return server::SignedChannel(address_, TestInternalKey(), principal);
}

std::shared_ptr<grpc::Channel> InProcessServer::UnsignedChannel() const {
  return grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
}

constexpr char kTestKey[] = "htx-plan test key, never used outside tests";

auth::InternalKey TestInternalKey() { return auth::InternalKey::FromBytes(kTestKey); }

std::string WriteTestInternalKey(const TempDir& dir) {
  const std::string path = dir.Sub("internal.key");
  std::ofstream(path) << absl::BytesToHexString(kTestKey) << "\n";
  return path;
}

auth::Principal TestPrincipal(auth::Role role, const std::string& scope) {
  auth::Principal principal;
  principal.set_subject(absl::StrCat("test:", auth::RoleName(role), "@", scope));
  principal.set_role(role);
  principal.set_scope(scope);
  return principal;
}

InProcessServer::~InProcessServer() { server_->Shutdown(absl::Seconds(5)); }

std::unique_ptr<grpc::ClientContext> Context(int seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

}  // namespace htx::testing
