// The life of a service process, the same for every service: flags and the
// internal key; the gRPC server up first (health NOT_SERVING, calls
// UNAVAILABLE) while the store opens; the backend attached and SERVING; then,
// on SIGTERM or SIGINT, draining, the last writes committed, the store closed.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/auth/credentials.h"
#include "common/server/caller.h"
#include "common/storage/store.h"

namespace htx::server {

struct ServiceProcess {
  std::string program;       // "htx-budget": messages and logs
  std::string usage;         // the --help line
  std::string service_name;  // "htx.budget.v1.BudgetService": health
  std::vector<std::string> column_families;
  // The gRPC service, checking its callers with `callers`.
  std::function<std::unique_ptr<grpc::Service>(CallerCheck callers)> make_service;
  // Builds the backend over the open store and attaches it to `service`;
  // what it returns (the backend and what it uses) lives until the store has
  // drained and closed. `key` signs calls to other services.
  std::function<std::shared_ptr<void>(grpc::Service& service, storage::Store& store,
                                      const auth::InternalKey& key)>
      attach;
};

// Runs the process to its end; returns main's exit code (2 for bad flags, 1
// when the server or the store cannot start).
int RunServiceProcess(const ServiceProcess& process, int argc, char** argv);

// The same for a service class `Service` (constructed from a CallerCheck):
// `attach(Service&, storage::Store&, const auth::InternalKey&)` builds and
// attaches its backend and returns what must live until the store closes.
template <typename Service, typename Attach>
int RunService(ServiceProcess process, int argc, char** argv, Attach attach) {
  process.make_service = [](CallerCheck callers) -> std::unique_ptr<grpc::Service> {
    return std::make_unique<Service>(std::move(callers));
  };
  process.attach = [attach = std::move(attach)](grpc::Service& service, storage::Store& store,
                                                const auth::InternalKey& key) {
    return std::shared_ptr<void>(attach(static_cast<Service&>(service), store, key));
  };
  return RunServiceProcess(process, argc, argv);
}

}  // namespace htx::server
