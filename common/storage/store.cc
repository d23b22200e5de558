#include "common/storage/store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <functional>
#include <future>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/strings/match.h"
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

// An iterator over the keys of `family` starting with `prefix`, bounded so
// that RocksDB can skip the files outside it.
class PrefixIterator {
 public:
  PrefixIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, absl::string_view prefix)
      : upper_(prefix) {
    rocksdb::ReadOptions read_options;
    while (!upper_.empty() && static_cast<unsigned char>(upper_.back()) == 0xff) {
      upper_.pop_back();
    }
    if (!upper_.empty()) {
      upper_.back() = static_cast<char>(static_cast<unsigned char>(upper_.back()) + 1);
      upper_slice_ = rocksdb::Slice(upper_);
      read_options.iterate_upper_bound = &upper_slice_;
    }
    it_.reset(db->NewIterator(read_options, family));
  }
  PrefixIterator(const PrefixIterator&) = delete;
  PrefixIterator& operator=(const PrefixIterator&) = delete;
  rocksdb::Iterator* operator->() const { return it_.get(); }

 private:
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

absl::string_view View(const rocksdb::Slice& slice) {
  return absl::string_view(slice.data(), slice.size());
}

}  // namespace

// ---- Txn -------------------------------------------------------------------

// The writes of a group so far, by family and key: what its mutations read
// before the store, and what it commits. A B-tree rather than RocksDB's
// WriteBatchWithIndex: its skip list costs several times more per write, and
// its rollback re-indexes the whole batch. Committed in key order, which is
// also the cheapest order to insert into the memtables.
class Txn::Writes {
 public:
  struct Key {
    rocksdb::ColumnFamilyHandle* family;
    std::string key;
  };
  struct KeyView {
    rocksdb::ColumnFamilyHandle* family;
    absl::string_view key;
  };
  struct Less {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      if (a.family != b.family) return std::less<>()(a.family, b.family);
      return absl::string_view(a.key) < absl::string_view(b.key);
    }
  };
  // A written value, or nullopt for a delete.
  using Map = absl::btree_map<Key, std::optional<std::string>, Less>;

  // nullptr when the group has not written the key; else its value or nullopt.
  const std::optional<std::string>* Find(rocksdb::ColumnFamilyHandle* family,
                                         absl::string_view key) const {
    auto it = map_.find(KeyView{family, key});
    return it == map_.end() ? nullptr : &it->second;
  }

  void Set(rocksdb::ColumnFamilyHandle* family, absl::string_view key,
           std::optional<std::string> value) {
    auto it = map_.find(KeyView{family, key});
    if (it == map_.end()) {
      if (!save_points_.empty()) undo_.push_back(Undo{Key{family, std::string(key)}, false, {}});
      map_.emplace(Key{family, std::string(key)}, std::move(value));
      return;
    }
    if (!save_points_.empty()) undo_.push_back(Undo{it->first, true, std::move(it->second)});
    it->second = std::move(value);
  }

  // Keys of `family` from `start` on, in order.
  Map::const_iterator LowerBound(rocksdb::ColumnFamilyHandle* family,
                                 absl::string_view start) const {
    return map_.lower_bound(KeyView{family, start});
  }
  Map::const_iterator end() const { return map_.end(); }
  bool empty() const { return map_.empty(); }

  void SetSavePoint() { save_points_.push_back(undo_.size()); }
  // Undoes the writes since the last save point, and drops it.
  void RollbackToSavePoint() {
    const size_t mark = save_points_.back();
    save_points_.pop_back();
    while (undo_.size() > mark) {
      Undo& undo = undo_.back();
      if (undo.existed) {
        map_.find(undo.key)->second = std::move(undo.value);
      } else {
        map_.erase(undo.key);
      }
      undo_.pop_back();
    }
  }
  // Keeps the writes since the last save point, and drops it.
  void PopSavePoint() {
    save_points_.pop_back();
    if (save_points_.empty()) undo_.clear();
  }

  // The batch to commit, in key order.
  rocksdb::WriteBatch Batch() const {
    rocksdb::WriteBatch batch;
    for (const auto& [key, value] : map_) {
      if (value.has_value()) {
        batch.Put(key.family, key.key, *value);
      } else {
        batch.Delete(key.family, key.key);
      }
    }
    return batch;
  }

 private:
  struct Undo {
    Key key;
    bool existed;                      // else the write added the key
    std::optional<std::string> value;  // what it replaced
  };
  Map map_;
  std::vector<Undo> undo_;
  std::vector<size_t> save_points_;  // undo_ sizes
};

absl::StatusOr<std::optional<std::string>> Txn::Get(Family family, absl::string_view key) {
  if (const std::optional<std::string>* written = writes_->Find(family.handle_, key)) {
    return *written;
  }
  std::string value;
  rocksdb::Status status = store_->db_->Get(rocksdb::ReadOptions(), family.handle_,
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
  writes_->Set(family.handle_, key, std::string(value));
}

void Txn::PutProto(Family family, absl::string_view key, const google::protobuf::Message& message) {
  writes_->Set(family.handle_, key, message.SerializeAsString());
}

void Txn::Delete(Family family, absl::string_view key) {
  writes_->Set(family.handle_, key, std::nullopt);
}

absl::Status Txn::Scan(Family family, absl::string_view prefix, const ScanFn& fn) {
  // The store's keys merged with this group's writes, which win on a tie.
  PrefixIterator stored(store_->db_.get(), family.handle_, prefix);
  stored->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
  auto written = writes_->LowerBound(family.handle_, prefix);
  auto in_prefix = [&](Writes::Map::const_iterator it) {
    return it != writes_->end() && it->first.family == family.handle_ &&
           absl::StartsWith(it->first.key, prefix);
  };
  while (true) {
    const bool has_stored = stored->Valid() && HasPrefix(stored->key(), prefix);
    const bool has_written = in_prefix(written);
    if (!has_stored && !has_written) break;
    const int order = !has_stored    ? 1
                      : !has_written ? -1
                                     : View(stored->key()).compare(written->first.key);
    if (order < 0) {
      if (!fn(View(stored->key()), View(stored->value()))) break;
      stored->Next();
      continue;
    }
    if (order == 0) stored->Next();
    if (written->second.has_value() && !fn(written->first.key, *written->second)) break;
    ++written;
  }
  return FromRocks(stored->status(), "scan");
}

absl::Status Txn::RunPart(absl::string_view request_id, uint64_t request_digest,
                          google::protobuf::Message* response,
                          const std::function<absl::Status(Txn&)>& mutate, bool* replayed) {
  *replayed = false;
  if (!request_id.empty()) {
    absl::StatusOr<std::optional<std::string>> record = Get(Family(store_->requests_), request_id);
    if (!record.ok()) return record.status();
    if (record->has_value()) {
      const std::string& bytes = **record;
      if (DecodeUint64(bytes) != request_digest) {
        return InvalidField("request_id", "already used for a different request",
                            "REQUEST_ID_REUSED");
      }
      absl::Status parsed;
      if (response != nullptr) {
        parsed = ParseInto(absl::string_view(bytes).substr(8), request_id, response);
      }
      *replayed = parsed.ok();
      return parsed;
    }
  }
  writes_->SetSavePoint();
  const uint64_t sequence_before = store_->next_sequence_;
  std::string enclosing_request_id = std::exchange(request_id_, std::string(request_id));
  absl::Status outcome = mutate(*this);
  request_id_ = std::move(enclosing_request_id);
  if (!outcome.ok()) {
    writes_->RollbackToSavePoint();
    store_->next_sequence_ = sequence_before;
    return outcome;
  }
  // Kept, the save point would catch an enclosing part's rollback.
  writes_->PopSavePoint();
  if (!request_id.empty()) {
    writes_->Set(
        store_->requests_, request_id,
        EncodeRequestRecord(request_digest,
                            response != nullptr ? response->SerializeAsString() : std::string()));
  }
  return absl::OkStatus();
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
  writes_->Set(store_->changes_, key, change.SerializeAsString());
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

// Options of every column family.
rocksdb::ColumnFamilyOptions FamilyOptions() {
  rocksdb::ColumnFamilyOptions options;
  // Most writes first read a key that is not there yet (a new value, a new
  // request_id): Bloom filters, in the memtable and in each file, answer such
  // reads without searching them.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.memtable_prefix_bloom_size_ratio = 0.02;
  options.memtable_whole_key_filtering = true;
  return options;
}

absl::Status Store::OpenDb() {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, FamilyOptions());
  std::vector<std::string> names = options_.column_families;
  names.push_back(kChangesFamily);
  names.push_back(kRequestsFamily);
  for (const std::string& name : names) {
    descriptors.emplace_back(name, FamilyOptions());
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
  PrefixIterator it(db_.get(), family.handle_, prefix);
  if (start_after.empty()) {
    it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
  } else {
    it->Seek(rocksdb::Slice(start_after.data(), start_after.size()));
    if (it->Valid() && it->key() == rocksdb::Slice(start_after.data(), start_after.size())) {
      it->Next();
    }
  }
  for (; it->Valid() && HasPrefix(it->key(), prefix); it->Next()) {
    if (!fn(View(it->key()), View(it->value()))) break;
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
  Txn::Writes writes;
  Txn txn(this, &writes, options_.clock());
  const uint64_t first_sequence = next_sequence_;
  std::vector<absl::Status> outcomes(group.size());
  std::vector<bool> replayed(group.size(), false);

  for (size_t i = 0; i < group.size(); ++i) {
    WriteRequest& request = group[i];
    bool was_replayed = false;
    outcomes[i] = txn.RunPart(request.request_id, request.request_digest, request.response,
                              request.mutate, &was_replayed);
    replayed[i] = was_replayed;
  }

  if (!writes.empty()) {
    rocksdb::WriteOptions write_options;
    write_options.sync = options_.sync;
    rocksdb::WriteBatch batch = writes.Batch();
    absl::Status written = FromRocks(db_->Write(write_options, &batch), "commit");
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
