// The store and clock of the services' test harnesses.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/storage/store.h"

namespace htx::testing {

// 23/11/2026 noon in Vietnam: "today" in tests.
absl::Time TestNow();

// Opens a store at `path` with `column_families` whose clock stands still at
// `now`; aborts when it cannot (a test without its store has nothing to test).
// `sync` false skips the fsync per group commit: for comparison benchmarks.
std::unique_ptr<storage::Store> OpenTestStore(const std::string& path,
                                              std::vector<std::string> column_families,
                                              absl::Time now, bool sync = true);

}  // namespace htx::testing
