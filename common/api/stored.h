// Reading a service's own stored records: through the committed store (plain
// reads) or through a mutation's Txn (so that checks see the writes queued
// before them in the group), parsed, with DATA_LOSS for a record that does not
// parse; and paging over lists built in memory.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/api/api.h"
#include "common/storage/store.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace htx::api {

struct Reader {
  std::function<absl::StatusOr<std::optional<std::string>>(storage::Family, absl::string_view)> get;
  std::function<absl::Status(storage::Family, absl::string_view prefix, const storage::ScanFn&)>
      scan;
};
Reader StoreReader(const storage::Store& store);
Reader TxnReader(storage::Txn& txn);

// DATA_LOSS (CORRUPT_RECORD) naming the record.
absl::Status Corrupt(absl::string_view what, absl::string_view key);

template <typename Message>
absl::Status ParseStored(absl::string_view bytes, absl::string_view what, absl::string_view key,
                         Message* message) {
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Corrupt(what, key);
  }
  return absl::OkStatus();
}

// The record at `key`: false when absent.
template <typename Message>
absl::StatusOr<bool> ReadStored(const Reader& read, storage::Family family, absl::string_view key,
                                absl::string_view what, Message* message) {
  absl::StatusOr<std::optional<std::string>> bytes = read.get(family, key);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return false;
  if (absl::Status s = ParseStored(**bytes, what, key, message); !s.ok()) return s;
  return true;
}

// Visits the records of type Message under `prefix`, parsed: `fn(key,
// record)` returns false to stop. DATA_LOSS naming `what` at the first record
// that does not parse.
template <typename Message, typename Fn>
absl::Status ScanStored(const Reader& read, storage::Family family, absl::string_view prefix,
                        absl::string_view what, Fn fn) {
  absl::Status parsed;
  absl::Status scanned =
      read.scan(family, prefix, [&](absl::string_view key, absl::string_view bytes) {
        Message record;
        parsed = ParseStored(bytes, what, key, &record);
        if (!parsed.ok()) return false;
        return fn(key, std::move(record));
      });
  if (!scanned.ok()) return scanned;
  return parsed;
}

// Where a page over an in-memory list starts. Positions are indexes, which is
// sound when the order depends only on a catalog version.
absl::StatusOr<size_t> IndexPosition(const Page& page);

// Adds `present(item)` to `out` for the items of `all` from `start` on that
// `keep` accepts, a page at most; sets `*next_page_token` where the next page
// starts when one follows.
template <typename Items, typename Keep, typename Present, typename Out>
void PageByIndex(const Page& page, size_t start, Items& all, Keep keep, Present present,
                 google::protobuf::RepeatedPtrField<Out>* out, std::string* next_page_token) {
  for (size_t i = start; i < all.size(); ++i) {
    if (!keep(all[i])) continue;
    if (out->size() == page.size) {
      *next_page_token = page.NextToken(absl::StrCat(i));
      return;
    }
    *out->Add() = present(all[i]);
  }
}

}  // namespace htx::api
