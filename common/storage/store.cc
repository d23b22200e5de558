#include "common/storage/store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <future>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status/status.h"
#include "common/storage/keys.h"
#include "google/protobuf/util/time_util.h"

namespace htx::storage {
namespace {

constexpr char kChangesFamily[] = "htx.changes";
constexpr char kRequestsFamily[] = "htx.requests";

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  absl::StatusCode code = status.IsCorruption() ? absl::StatusCode::kDataLoss
                          : status.IsBusy() || status.IsTryAgain() || status.IsTimedOut()
                              ? absl::StatusCode::kUnavailable
                              : absl::StatusCode::kInternal;
  return Error(code, "STORAGE_ERROR", absl::StrCat(what, ": ", status.ToString()));
}

absl::Status ParseInto(absl::string_view bytes, absl::string_view key,
                       google::protobuf::Message* message) {
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Error(
        absl::StatusCode::kDataLoss, "CORRUPT_RECORD",
        absl::StrCat("stored record ", key, " does not parse as ", message->GetTypeName()));
  }
  return absl::OkStatus();
}

// Get's answer parsed into `message`: false when absent.
absl::StatusOr<bool> ParseIfFound(absl::StatusOr<std::optional<std::string>> value,
                                  absl::string_view key, google::protobuf::Message* message) {
  if (!value.ok()) return value.status();
  if (!value->has_value()) return false;
  if (absl::Status parsed = ParseInto(**value, key, message); !parsed.ok()) return parsed;
  return true;
}

// An idempotency record: the request digest, then the response bytes.
std::string EncodeRequestRecord(uint64_t digest, const std::string& response) {
  return absl::StrCat(EncodeUint64(digest), response);
}

bool HasPrefix(const rocksdb::Slice& key, absl::string_view prefix) {
  return key.size() >= prefix.size() && absl::string_view(key.data(), prefix.size()) == prefix;
}

}  // namespace

// ---- Txn -------------------------------------------------------------------

absl::StatusOr<std::optional<std::string>> Txn::Get(Family family, absl::string_view key) {
  std::string value;
  rocksdb::Status status =
      batch_->GetFromBatchAndDB(store_->db_.get(), rocksdb::ReadOptions(), family.handle_,
                                rocksdb::Slice(key.data(), key.size()), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) return FromRocks(status, "read");
  return value;
}

absl::StatusOr<bool> Txn::GetProto(Family family, absl::string_view key,
                                   google::protobuf::Message* message) {
  return ParseIfFound(Get(family, key), key, message);
}

void Txn::Put(Family family, absl::string_view key, absl::string_view value) {
  batch_->Put(family.handle_, rocksdb::Slice(key.data(), key.size()),
              rocksdb::Slice(value.data(), value.size()));
}

void Txn::PutProto(Family family, absl::string_view key, const google::protobuf::Message& message) {
  Put(family, key, message.SerializeAsString());
}

void Txn::Delete(Family family, absl::string_view key) {
  batch_->Delete(family.handle_, rocksdb::Slice(key.data(), key.size()));
}

absl::Status Txn::Scan(Family family, absl::string_view prefix, const ScanFn& fn) {
  rocksdb::ReadOptions read_options;
  std::unique_ptr<rocksdb::Iterator> it(batch_->NewIteratorWithBase(
      family.handle_, store_->db_->NewIterator(read_options, family.handle_)));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
       it->Valid() && HasPrefix(it->key(), prefix); it->Next()) {
    if (!fn(absl::string_view(it->key().data(), it->key().size()),
            absl::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status(), "scan");
}

uint64_t Txn::RecordChange(absl::string_view resource, type::v1::ChangeKind kind,
                           const google::protobuf::Message* resource_after) {
  type::v1::Change change;
  uint64_t sequence = store_->next_sequence_++;
  change.set_sequence(sequence);
  *change.mutable_commit_time() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now_));
  change.set_resource(std::string(resource));
  change.set_kind(kind);
  if (resource_after != nullptr) {
    change.mutable_resource_after()->PackFrom(*resource_after);
  }
  change.set_request_id(request_id_);
  std::string key = EncodeUint64(sequence);
  batch_->Put(store_->changes_, key, change.SerializeAsString());
  return sequence;
}

// ---- Store -----------------------------------------------------------------

Store::Store(StoreOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(StoreOptions options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("store path is empty");
  }
  std::unique_ptr<Store> store(new Store(std::move(options)));
  if (absl::Status opened = store->OpenDb(); !opened.ok()) return opened;
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

absl::Status Store::OpenDb() {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  std::vector<std::string> names = options_.column_families;
  names.push_back(kChangesFamily);
  names.push_back(kRequestsFamily);
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  rocksdb::DB* db = nullptr;
  rocksdb::Status status =
      rocksdb::DB::Open(db_options, options_.path, descriptors, &handles_, &db);
  if (!status.ok()) return FromRocks(status, "open " + options_.path);
  db_.reset(db);
  for (size_t i = 1; i < handles_.size(); ++i) {
    families_[names[i - 1]] = handles_[i];
  }
  changes_ = families_[kChangesFamily];
  requests_ = families_[kRequestsFamily];

  // The change log's last key is the last sequence ever committed.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), changes_));
  it->SeekToLast();
  if (it->Valid()) {
    committed_sequence_ = DecodeUint64(absl::string_view(it->key().data(), it->key().size()));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "read change log");
  next_sequence_ = committed_sequence_ + 1;
  return absl::OkStatus();
}

Store::~Store() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (db_) {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      db_->DestroyColumnFamilyHandle(handle);
    }
    db_->Close();
  }
}

Family Store::family(absl::string_view name) const {
  auto it = families_.find(name);
  if (it == families_.end()) {
    // A column family the service did not declare is a programming error.
    std::fprintf(stderr, "unknown column family %.*s\n", static_cast<int>(name.size()),
                 name.data());
    std::abort();
  }
  return Family(it->second);
}

absl::StatusOr<std::optional<std::string>> Store::Get(Family family, absl::string_view key) const {
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), family.handle_,
                                    rocksdb::Slice(key.data(), key.size()), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) return FromRocks(status, "read");
  return value;
}

absl::StatusOr<bool> Store::GetProto(Family family, absl::string_view key,
                                     google::protobuf::Message* message) const {
  return ParseIfFound(Get(family, key), key, message);
}

absl::Status Store::Scan(Family family, absl::string_view prefix, absl::string_view start_after,
                         const ScanFn& fn) const {
  rocksdb::ReadOptions read_options;
  // Bounding the iterator lets RocksDB skip files outside the prefix.
  std::string upper = std::string(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) {
    upper.pop_back();
  }
  rocksdb::Slice upper_slice;
  if (!upper.empty()) {
    upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
    upper_slice = rocksdb::Slice(upper);
    read_options.iterate_upper_bound = &upper_slice;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, family.handle_));
  if (start_after.empty()) {
    it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
  } else {
    it->Seek(rocksdb::Slice(start_after.data(), start_after.size()));
    if (it->Valid() && it->key() == rocksdb::Slice(start_after.data(), start_after.size())) {
      it->Next();
    }
  }
  for (; it->Valid() && HasPrefix(it->key(), prefix); it->Next()) {
    if (!fn(absl::string_view(it->key().data(), it->key().size()),
            absl::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status(), "scan");
}

void Store::Submit(WriteRequest request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(request));
      cv_.notify_one();
      return;
    }
  }
  request.done(Error(absl::StatusCode::kUnavailable, "SHUTTING_DOWN", "the store is closing"),
               false);
}

absl::Status Store::Write(WriteRequest request, bool* replayed) {
  std::promise<std::pair<absl::Status, bool>> outcome;
  auto future = outcome.get_future();
  request.done = [&outcome](absl::Status status, bool was_replayed) {
    outcome.set_value({std::move(status), was_replayed});
  };
  Submit(std::move(request));
  auto [status, was_replayed] = future.get();
  if (replayed != nullptr) *replayed = was_replayed;
  return status;
}

void Store::WriterLoop() {
  std::vector<WriteRequest> group;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is done
      while (!queue_.empty() && group.size() < options_.max_group_size) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitGroup(group);
    group.clear();
  }
}

void Store::CommitGroup(std::vector<WriteRequest>& group) {
  rocksdb::WriteBatchWithIndex batch(rocksdb::BytewiseComparator(), 0,
                                     /*overwrite_key=*/true);
  Txn txn(this, &batch, options_.clock());
  const uint64_t first_sequence = next_sequence_;
  std::vector<absl::Status> outcomes(group.size());
  std::vector<bool> replayed(group.size(), false);

  for (size_t i = 0; i < group.size(); ++i) {
    WriteRequest& request = group[i];
    if (!request.request_id.empty()) {
      absl::StatusOr<std::optional<std::string>> record =
          txn.Get(Family(requests_), request.request_id);
      if (!record.ok()) {
        outcomes[i] = record.status();
        continue;
      }
      if (record->has_value()) {
        const std::string& bytes = **record;
        if (DecodeUint64(bytes) != request.request_digest) {
          outcomes[i] = InvalidField("request_id", "already used for a different request",
                                     "REQUEST_ID_REUSED");
        } else if (request.response != nullptr) {
          outcomes[i] =
              ParseInto(absl::string_view(bytes).substr(8), request.request_id, request.response);
        }
        replayed[i] = outcomes[i].ok();
        continue;
      }
    }
    batch.SetSavePoint();
    const uint64_t sequence_before = next_sequence_;
    txn.request_id_ = request.request_id;
    outcomes[i] = request.mutate(txn);
    if (!outcomes[i].ok()) {
      batch.RollbackToSavePoint();
      next_sequence_ = sequence_before;
      continue;
    }
    if (!request.request_id.empty()) {
      batch.Put(
          requests_, request.request_id,
          EncodeRequestRecord(request.request_digest, request.response != nullptr
                                                          ? request.response->SerializeAsString()
                                                          : std::string()));
    }
  }

  if (batch.GetWriteBatch()->Count() > 0) {
    rocksdb::WriteOptions write_options;
    write_options.sync = options_.sync;
    absl::Status written = FromRocks(db_->Write(write_options, batch.GetWriteBatch()), "commit");
    if (!written.ok()) {
      // Nothing of the group is durable: no mutation may be acknowledged.
      next_sequence_ = first_sequence;
      for (size_t i = 0; i < group.size(); ++i) {
        if (outcomes[i].ok() && !replayed[i]) {
          outcomes[i] = Error(absl::StatusCode::kUnavailable, "STORAGE_ERROR", written.message());
        }
      }
    } else {
      committed_sequence_ = next_sequence_ - 1;
    }
  }
  for (size_t i = 0; i < group.size(); ++i) {
    group[i].done(outcomes[i], replayed[i]);
  }
}

absl::StatusOr<std::vector<type::v1::Change>> Store::ListChanges(uint64_t after, int limit) const {
  std::vector<type::v1::Change> changes;
  std::string start = EncodeUint64(after);
  absl::Status parsed;
  absl::Status status = Scan(Family(changes_), "", after == 0 ? absl::string_view() : start,
                             [&](absl::string_view key, absl::string_view value) {
                               parsed =
                                   ParseInto(value, "change log entry", &changes.emplace_back());
                               return parsed.ok() && static_cast<int>(changes.size()) < limit;
                             });
  if (!status.ok()) return status;
  if (!parsed.ok()) return parsed;
  return changes;
}

}  // namespace htx::storage
