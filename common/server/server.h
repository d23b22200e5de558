// Running a service process: the gRPC server on the callback API, health wired
// to real readiness, reflection, per-method metrics, and a graceful stop.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace grpc {
class Server;
class ServerCredentials;
class Service;
}  // namespace grpc

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace htx::server {

struct ServerOptions {
  // "HOST:PORT"; port 0 picks a free port (see Server::port()).
  std::string listen = "127.0.0.1:0";
  // "HOST:PORT" for the Prometheus /metrics endpoint; empty = none.
  std::string metrics_listen;
  // Largest request message accepted.
  int max_receive_message_bytes = 16 << 20;
  // Concurrent calls (HTTP/2 streams) per connection; 0 = gRPC's default.
  int max_concurrent_streams = 0;
  // TLS (and client-certificate) settings; null = plaintext.
  std::shared_ptr<grpc::ServerCredentials> credentials;
};

class Server {
 public:
  // Starts serving `services` (callback services; not owned, must outlive the
  // server). Health answers NOT_SERVING until SetServing(true).
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                                       std::vector<grpc::Service*> services,
                                                       std::vector<std::string> service_names);
  ~Server();

  int port() const { return port_; }
  // The port of the /metrics endpoint, 0 when there is none.
  int metrics_port() const;
  // "127.0.0.1:<port>" style address clients can dial.
  std::string address() const { return address_; }
  // Health status of the whole server and of each named service.
  void SetServing(bool serving);
  // NOT_SERVING, stop accepting calls, let in-flight calls finish until the
  // deadline (then cancel them), and return once the server has stopped.
  void Shutdown(absl::Duration grace);

 private:
  Server() = default;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<prometheus::Registry> metrics_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::vector<std::string> service_names_;
  int port_ = 0;
  std::string address_;
  bool stopped_ = false;
};

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts
// afterwards; call first thing in main.
void BlockStopSignals();
// Waits for SIGTERM or SIGINT (blocked by BlockStopSignals) and returns it.
int WaitForStopSignal();

}  // namespace htx::server
