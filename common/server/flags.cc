#include "common/server/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0",
          "HOST:PORT to serve gRPC on (port 0 = any free port)");
ABSL_FLAG(std::string, data_dir, "", "directory of this service's RocksDB store (required)");
ABSL_FLAG(std::string, metrics_listen, "",
          "HOST:PORT for the Prometheus /metrics endpoint (empty = off)");
ABSL_FLAG(int, shutdown_grace_seconds, 10,
          "on SIGTERM, how long in-flight calls may take to finish");
ABSL_FLAG(std::string, registry_addr, "", "HOST:PORT of the registry service");
ABSL_FLAG(std::string, indicator_addr, "", "HOST:PORT of the indicator service");
ABSL_FLAG(std::string, budget_addr, "", "HOST:PORT of the budget service");
ABSL_FLAG(std::string, reporting_addr, "", "HOST:PORT of the reporting service");
ABSL_FLAG(std::string, internal_key_file, "",
          "file with the suite's internal key (hex): services accept only principals signed "
          "with it, the gateway and the tools sign with it (required)");
