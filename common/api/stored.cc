#include "common/api/stored.h"

#include "absl/strings/numbers.h"
#include "common/status/status.h"

namespace htx::api {

Reader StoreReader(const storage::Store& store) {
  Reader reader;
  reader.get = [&store](storage::Family family, absl::string_view key) {
    return store.Get(family, key);
  };
  reader.scan = [&store](storage::Family family, absl::string_view prefix,
                         const storage::ScanFn& fn) { return store.Scan(family, prefix, "", fn); };
  return reader;
}

Reader TxnReader(storage::Txn& txn) {
  Reader reader;
  reader.get = [&txn](storage::Family family, absl::string_view key) {
    return txn.Get(family, key);
  };
  reader.scan = [&txn](storage::Family family, absl::string_view prefix,
                       const storage::ScanFn& fn) { return txn.Scan(family, prefix, fn); };
  return reader;
}

absl::Status Corrupt(absl::string_view what, absl::string_view key) {
  return Error(absl::StatusCode::kDataLoss, "CORRUPT_RECORD",
               absl::StrCat(what, " record ", key, " does not parse"));
}

absl::StatusOr<size_t> IndexPosition(const Page& page) {
  size_t start = 0;
  if (!page.position.empty() && !absl::SimpleAtoi(page.position, &start)) {
    return InvalidField("page_token", "malformed", "INVALID_PAGE_TOKEN");
  }
  return start;
}

}  // namespace htx::api
