#include "common/server/service_main.h"

#include <grpcpp/grpcpp.h>

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/server/flags.h"
#include "common/server/log.h"
#include "common/server/server.h"

namespace htx::server {

int RunServiceProcess(const ServiceProcess& process, int argc, char** argv) {
  const char* program = process.program.c_str();
  absl::SetProgramUsageMessage(process.usage);
  absl::ParseCommandLine(argc, argv);
  BlockStopSignals();
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) {
    std::fprintf(stderr, "%s: --data_dir is required\n", program);
    return 2;
  }

  SetLogService(process.program);
  absl::StatusOr<auth::InternalKey> key =
      auth::InternalKey::FromFile(absl::GetFlag(FLAGS_internal_key_file));
  if (!key.ok()) {
    std::fprintf(stderr, "%s: --internal_key_file: %s\n", program,
                 std::string(key.status().message()).c_str());
    return 2;
  }
  std::unique_ptr<grpc::Service> service = process.make_service(CallerCheck(*key));
  ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(options, {service.get()}, {process.service_name});
  if (!server.ok()) {
    std::fprintf(stderr, "%s: %s\n", program, server.status().ToString().c_str());
    return 1;
  }

  storage::StoreOptions store_options;
  store_options.path = data_dir;
  store_options.column_families = process.column_families;
  absl::StatusOr<std::unique_ptr<storage::Store>> store = storage::Store::Open(store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "%s: %s\n", program, store.status().ToString().c_str());
    return 1;
  }
  std::shared_ptr<void> backend = process.attach(*service, **store, *key);
  (*server)->SetServing(true);
  std::printf("%s listening on %s\n", program, (*server)->address().c_str());
  std::fflush(stdout);

  int signal = WaitForStopSignal();
  std::printf("%s: signal %d, draining\n", program, signal);
  (*server)->Shutdown(absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  store->reset();  // drains queued writes (which use the backend), then closes the database
  backend.reset();
  std::printf("%s: stopped\n", program);
  return 0;
}

}  // namespace htx::server
