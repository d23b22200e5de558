// Flags shared by every service binary.
#pragma once

#include <string>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, listen);
ABSL_DECLARE_FLAG(std::string, data_dir);
ABSL_DECLARE_FLAG(std::string, metrics_listen);
ABSL_DECLARE_FLAG(int, shutdown_grace_seconds);
ABSL_DECLARE_FLAG(std::string, registry_addr);
ABSL_DECLARE_FLAG(std::string, indicator_addr);
ABSL_DECLARE_FLAG(std::string, budget_addr);
ABSL_DECLARE_FLAG(std::string, reporting_addr);
ABSL_DECLARE_FLAG(std::string, internal_key_file);
