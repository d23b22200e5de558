#include "common/server/server.h"

#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/server/health_client.h"
#include "gtest/gtest.h"

namespace htx::server {
namespace {

// GET /metrics over a plain socket (the exposer speaks HTTP/1.1).
std::string FetchMetrics(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return "";
  }
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (write(fd, request.data(), request.size()) < 0) return "";
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
  close(fd);
  return response;
}

// One exchange on the reflection stream: list_services (field 7, empty).
std::string ListServicesByReflection(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue queue;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  void* tag;
  bool ok = false;
  auto step = [&] { return queue.Next(&tag, &ok) && ok; };
  call->StartCall(reinterpret_cast<void*>(1));
  if (!step()) return "";
  const std::string request("\x3a\x00", 2);
  grpc::Slice slice(request);
  grpc::ByteBuffer buffer(&slice, 1);
  call->Write(buffer, reinterpret_cast<void*>(2));
  if (!step()) return "";
  grpc::ByteBuffer answer;
  call->Read(&answer, reinterpret_cast<void*>(3));
  if (!step()) return "";
  call->WritesDone(reinterpret_cast<void*>(4));
  step();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step();
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (answer.Dump(&slices).ok()) {
    for (const auto& s : slices) bytes.append(s.begin(), s.end());
  }
  return bytes;
}

TEST(ServerTest, HealthFollowsServingAndShutdown) {
  ServerOptions options;
  auto server = Server::Start(options, {}, {"htx.example.v1.Example"});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  auto channel = grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(*CheckHealth(channel, "htx.example.v1.Example", absl::Seconds(5)), Health::kNotServing);
  (*server)->SetServing(true);
  EXPECT_EQ(*CheckHealth(channel, "htx.example.v1.Example", absl::Seconds(5)), Health::kServing);
  EXPECT_EQ(*CheckHealth(channel, "", absl::Seconds(5)), Health::kServing);
  EXPECT_EQ(CheckHealth(channel, std::string(128, 'x'), absl::Seconds(5)).status().code(),
            absl::StatusCode::kInvalidArgument);
  (*server)->Shutdown(absl::Seconds(1));
  EXPECT_FALSE(CheckHealth(channel, "", absl::Seconds(1)).ok());
}

TEST(ServerTest, MetricsCountCallsByMethodAndCode) {
  ServerOptions options;
  options.metrics_listen = "127.0.0.1:0";
  auto server = Server::Start(options, {}, {});
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->SetServing(true);
  ASSERT_GT((*server)->metrics_port(), 0);
  auto channel = grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(CheckHealth(channel, "", absl::Seconds(5)).ok());
  ASSERT_FALSE(CheckHealth(channel, "unknown.Service", absl::Seconds(5)).ok());
  std::string metrics = FetchMetrics((*server)->metrics_port());
  EXPECT_NE(
      metrics.find("htx_rpc_calls_total{code=\"0\",method=\"/grpc.health.v1.Health/Check\"} 1"),
      std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find("htx_rpc_calls_total{code=\"5\",method=\"/grpc.health.v1.Health/Check\"} 1"),
      std::string::npos);
  EXPECT_NE(
      metrics.find("htx_rpc_duration_seconds_count{method=\"/grpc.health.v1.Health/Check\"} 2"),
      std::string::npos);
}

TEST(ServerTest, ReflectionListsTheServices) {
  auto server = Server::Start(ServerOptions{}, {}, {});
  ASSERT_TRUE(server.ok());
  auto channel = grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials());
  std::string services = ListServicesByReflection(channel);
  EXPECT_NE(services.find("grpc.health.v1.Health"), std::string::npos) << services;
}

TEST(ServerTest, BadListenAddressFailsAtStart) {
  ServerOptions options;
  options.listen = "256.1.1.1:1";
  EXPECT_FALSE(Server::Start(options, {}, {}).ok());
  options.listen = "127.0.0.1:0";
  options.metrics_listen = "not-an-address";
  EXPECT_FALSE(Server::Start(options, {}, {}).ok());
}

}  // namespace
}  // namespace htx::server
