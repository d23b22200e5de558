#include "common/storage/store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <future>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "common/status/status.h"
#include "common/storage/keys.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

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
// its rollback re-indexes the whole batch. Keys and values live in an arena
// of large chunks, so a write is a copy, not an allocation, and the undo log
// points at them instead of copying them. Committed in key order, which is
// also the cheapest order to insert into the memtables.
class Txn::Writes {
 public:
  struct Key {
    rocksdb::ColumnFamilyHandle* family;
    absl::string_view key;
  };
  struct Less {
    bool operator()(const Key& a, const Key& b) const {
      if (a.family != b.family) return std::less<>()(a.family, b.family);
      return a.key < b.key;
    }
  };
  // A written value, or a delete.
  struct Entry {
    absl::string_view value;
    bool deleted = false;
  };
  using Map = absl::btree_map<Key, Entry, Less>;

  // nullptr when the group has not written the key.
  const Entry* Find(rocksdb::ColumnFamilyHandle* family, absl::string_view key) const {
    auto it = map_.find(Key{family, key});
    return it == map_.end() ? nullptr : &it->second;
  }

  // Room for `size` bytes that live as long as these writes.
  char* Allocate(size_t size) {
    if (size > chunk_left_) {
      const size_t chunk = std::max(kChunk, size);
      chunks_.push_back(std::make_unique<char[]>(chunk));
      chunk_next_ = chunks_.back().get();
      chunk_left_ = chunk;
    }
    char* out = chunk_next_;
    chunk_next_ += size;
    chunk_left_ -= size;
    return out;
  }
  absl::string_view Copy(absl::string_view bytes) {
    char* out = Allocate(bytes.size());
    if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
    return absl::string_view(out, bytes.size());
  }

  // `value` must already be in this arena (Copy or Allocate).
  void Set(rocksdb::ColumnFamilyHandle* family, absl::string_view key, Entry value) {
    auto it = map_.find(Key{family, key});
    if (it == map_.end()) {
      const Key stored{family, Copy(key)};
      if (!save_points_.empty()) undo_.push_back(Undo{stored, false, {}});
      map_.emplace(stored, value);
      return;
    }
    if (!save_points_.empty()) undo_.push_back(Undo{it->first, true, it->second});
    it->second = value;
  }

  // Keys of `family` from `start` on, in order.
  Map::const_iterator LowerBound(rocksdb::ColumnFamilyHandle* family,
                                 absl::string_view start) const {
    return map_.lower_bound(Key{family, start});
  }
  Map::const_iterator end() const { return map_.end(); }
  bool empty() const { return map_.empty(); }

  void SetSavePoint() { save_points_.push_back(undo_.size()); }
  // Undoes the writes since the last save point, and drops it. (Their bytes
  // stay in the arena until the group ends.)
  void RollbackToSavePoint() {
    const size_t mark = save_points_.back();
    save_points_.pop_back();
    while (undo_.size() > mark) {
      const Undo& undo = undo_.back();
      if (undo.existed) {
        map_.find(undo.key)->second = undo.value;
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

  // Makes `batch` the batch to commit, in key order. Reusing one batch keeps
  // its buffer, whose fresh pages would otherwise fault in on every group.
  void FillBatch(rocksdb::WriteBatch* batch) const {
    batch->Clear();
    for (const auto& [key, entry] : map_) {
      const rocksdb::Slice k(key.key.data(), key.key.size());
      if (entry.deleted) {
        batch->Delete(key.family, k);
      } else {
        batch->Put(key.family, k, rocksdb::Slice(entry.value.data(), entry.value.size()));
      }
    }
  }

 private:
  static constexpr size_t kChunk = 256 << 10;
  struct Undo {
    Key key;
    bool existed;  // else the write added the key
    Entry value;   // what it replaced
  };
  Map map_;
  std::vector<Undo> undo_;
  std::vector<size_t> save_points_;  // undo_ sizes
  std::vector<std::unique_ptr<char[]>> chunks_;
  char* chunk_next_ = nullptr;
  size_t chunk_left_ = 0;
};

// A group of mutations on its way through the store: run by the writer, then
// committed by the committer while the writer runs the next group against
// these writes.
struct Store::Group {
  std::vector<WriteRequest> requests;
  std::vector<absl::Status> outcomes;
  std::vector<char> replayed;
  Txn::Writes writes;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;  // first_sequence - 1 when it took none

  // Every request that would have been acknowledged fails with `status`.
  void Fail(const absl::Status& status) {
    for (size_t i = 0; i < requests.size(); ++i) {
      if (outcomes[i].ok()) outcomes[i] = status;
      replayed[i] = false;
    }
  }
  void Finish() {
    for (size_t i = 0; i < requests.size(); ++i) requests[i].done(outcomes[i], replayed[i] != 0);
  }
};

absl::StatusOr<std::optional<std::string>> Txn::Get(Family family, absl::string_view key) {
  // This group's writes, else the committing group's, else the store.
  const Writes::Entry* written = writes_->Find(family.handle_, key);
  if (written == nullptr && committing_ != nullptr) {
    written = committing_->Find(family.handle_, key);
  }
  if (written != nullptr) {
    if (written->deleted) return std::nullopt;
    return std::string(written->value);
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
  writes_->Set(family.handle_, key, Writes::Entry{writes_->Copy(value)});
}

absl::string_view Txn::PutProto(Family family, absl::string_view key,
                                const google::protobuf::Message& message) {
  const size_t size = message.ByteSizeLong();
  char* bytes = writes_->Allocate(size);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(bytes));
  const absl::string_view stored(bytes, size);
  writes_->Set(family.handle_, key, Writes::Entry{stored});
  return stored;
}

void Txn::Delete(Family family, absl::string_view key) {
  writes_->Set(family.handle_, key, Writes::Entry{{}, true});
}

absl::Status Txn::Scan(Family family, absl::string_view prefix, const ScanFn& fn) {
  // The store's keys merged with the writes of the group being committed and
  // of this group; on a tie the newest wins.
  PrefixIterator stored(store_->db_.get(), family.handle_, prefix);
  stored->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
  struct Written {
    Writes::Map::const_iterator it, end;
  };
  std::vector<Written> written;  // newest first
  written.push_back({writes_->LowerBound(family.handle_, prefix), writes_->end()});
  if (committing_ != nullptr) {
    written.push_back({committing_->LowerBound(family.handle_, prefix), committing_->end()});
  }
  auto in_prefix = [&](const Written& w) {
    return w.it != w.end && w.it->first.family == family.handle_ &&
           absl::StartsWith(w.it->first.key, prefix);
  };
  while (true) {
    const bool has_stored = stored->Valid() && HasPrefix(stored->key(), prefix);
    // The smallest key of all sources, and the newest entry under it.
    absl::optional<absl::string_view> key;
    const Writes::Entry* entry = nullptr;
    for (const Written& w : written) {
      if (!in_prefix(w)) continue;
      if (!key || w.it->first.key < *key) {
        key = w.it->first.key;
        entry = &w.it->second;
      }
    }
    int stored_order = 1;  // stored key vs *key
    if (has_stored) {
      stored_order = key ? View(stored->key()).compare(*key) : -1;
      if (stored_order < 0) key = View(stored->key());
    }
    if (!key) break;
    // Which sources hold this key, before any of them moves on.
    std::vector<bool> advance(written.size());
    for (size_t i = 0; i < written.size(); ++i) {
      advance[i] = in_prefix(written[i]) && written[i].it->first.key == *key;
    }
    bool keep_going = true;
    if (stored_order < 0) {
      keep_going = fn(*key, View(stored->value()));
    } else if (!entry->deleted) {
      keep_going = fn(*key, entry->value);
    }
    if (!keep_going) break;
    if (stored_order <= 0) stored->Next();
    for (size_t i = 0; i < written.size(); ++i) {
      if (advance[i]) ++written[i].it;
    }
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
  const absl::string_view enclosing_request_id = std::exchange(request_id_, request_id);
  absl::Status outcome = mutate(*this);
  request_id_ = enclosing_request_id;
  if (!outcome.ok()) {
    writes_->RollbackToSavePoint();
    store_->next_sequence_ = sequence_before;
    return outcome;
  }
  // Kept, the save point would catch an enclosing part's rollback.
  writes_->PopSavePoint();
  if (!request_id.empty()) {
    // The idempotency record: the request digest, then the response bytes,
    // written straight into the group's arena.
    const size_t response_size = response != nullptr ? response->ByteSizeLong() : 0;
    char* record = writes_->Allocate(8 + response_size);
    const std::string digest = EncodeUint64(request_digest);
    std::memcpy(record, digest.data(), 8);
    if (response != nullptr) {
      response->SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(record + 8));
    }
    writes_->Set(store_->requests_, request_id,
                 Writes::Entry{absl::string_view(record, 8 + response_size)});
  }
  return absl::OkStatus();
}

uint64_t Txn::RecordChange(absl::string_view resource, type::v1::ChangeKind kind,
                           const google::protobuf::Message* resource_after) {
  if (resource_after == nullptr) return RecordChange(resource, kind, {}, {});
  return RecordChange(resource, kind, resource_after->GetTypeName(),
                      resource_after->SerializeAsString());
}

uint64_t Txn::RecordChange(absl::string_view resource, type::v1::ChangeKind kind,
                           absl::string_view type_name, absl::string_view resource_after_bytes) {
  // A type::v1::Change, encoded straight into the group's arena: every write
  // records one, and building the message first would copy the resource's
  // bytes twice more and allocate for each field.
  using google::protobuf::internal::WireFormatLite;
  using Change = type::v1::Change;
  const uint64_t sequence = store_->next_sequence_++;
  const int64_t nanos = absl::ToUnixNanos(now_);
  const int64_t seconds = nanos / 1000000000 - (nanos % 1000000000 < 0 ? 1 : 0);
  const int32_t subsecond = static_cast<int32_t>(nanos - seconds * 1000000000);
  const size_t time_size = (seconds != 0 ? 1 + WireFormatLite::Int64Size(seconds) : 0) +
                           (subsecond != 0 ? 1 + WireFormatLite::Int32Size(subsecond) : 0);
  const std::string type_url =
      type_name.empty() ? std::string() : absl::StrCat("type.googleapis.com/", type_name);
  const size_t any_size =
      type_name.empty()
          ? 0
          : 1 + WireFormatLite::LengthDelimitedSize(type_url.size()) +
                (resource_after_bytes.empty()
                     ? 0
                     : 1 + WireFormatLite::LengthDelimitedSize(resource_after_bytes.size()));
  auto string_size = [](absl::string_view s) {
    return s.empty() ? 0 : 1 + WireFormatLite::LengthDelimitedSize(s.size());
  };
  const size_t size = 1 + WireFormatLite::UInt64Size(sequence) + 1 +
                      WireFormatLite::LengthDelimitedSize(time_size) + string_size(resource) +
                      (kind != 0 ? 1 + WireFormatLite::EnumSize(kind) : 0) +
                      (type_name.empty() ? 0 : 1 + WireFormatLite::LengthDelimitedSize(any_size)) +
                      string_size(request_id_);
  char* bytes = writes_->Allocate(size);
  uint8_t* out = reinterpret_cast<uint8_t*>(bytes);
  auto write_string = [&](int field, absl::string_view s) {
    if (s.empty()) return;
    out = WireFormatLite::WriteTagToArray(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, out);
    out = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
        static_cast<uint32_t>(s.size()), out);
    std::memcpy(out, s.data(), s.size());
    out += s.size();
  };
  out = WireFormatLite::WriteUInt64ToArray(Change::kSequenceFieldNumber, sequence, out);
  out = WireFormatLite::WriteTagToArray(Change::kCommitTimeFieldNumber,
                                        WireFormatLite::WIRETYPE_LENGTH_DELIMITED, out);
  out = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(time_size), out);
  if (seconds != 0) out = WireFormatLite::WriteInt64ToArray(1, seconds, out);
  if (subsecond != 0) out = WireFormatLite::WriteInt32ToArray(2, subsecond, out);
  write_string(Change::kResourceFieldNumber, resource);
  if (kind != 0) out = WireFormatLite::WriteEnumToArray(Change::kKindFieldNumber, kind, out);
  if (!type_name.empty()) {
    out = WireFormatLite::WriteTagToArray(Change::kResourceAfterFieldNumber,
                                          WireFormatLite::WIRETYPE_LENGTH_DELIMITED, out);
    out = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
        static_cast<uint32_t>(any_size), out);
    write_string(1, type_url);              // Any.type_url
    write_string(2, resource_after_bytes);  // Any.value
  }
  write_string(Change::kRequestIdFieldNumber, request_id_);
  writes_->Set(store_->changes_, EncodeUint64(sequence),
               Writes::Entry{absl::string_view(bytes, size)});
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
  store->committer_ = std::thread([s = store.get()] { s->CommitterLoop(); });
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
  {
    std::lock_guard<std::mutex> lock(commit_mu_);
    committer_stopping_ = true;
  }
  commit_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
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
  // The group the committer is committing: the next group runs against its
  // writes, and is only handed over once that commit is known.
  std::unique_ptr<Group> committing;
  while (true) {
    auto group = std::make_unique<Group>();
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping, and everything queued is run
      while (!queue_.empty() && group->requests.size() < options_.max_group_size) {
        group->requests.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunGroup(*group, committing != nullptr ? &committing->writes : nullptr);
    if (committing != nullptr) {
      const absl::Status committed = AwaitCommit();
      if (!committed.ok()) {
        // This group read writes that never became durable: none of it may be.
        next_sequence_ = committing->first_sequence;
        group->Fail(Error(absl::StatusCode::kUnavailable, "STORAGE_ERROR",
                          absl::StrCat("an earlier write failed: ", committed.message())));
        group->Finish();
        committing.reset();
        continue;
      }
      committing.reset();
    }
    if (group->writes.empty()) {  // failures and replays only: nothing to commit
      group->Finish();
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(commit_mu_);
      to_commit_ = group.get();
    }
    commit_cv_.notify_all();
    committing = std::move(group);
  }
  if (committing != nullptr) AwaitCommit().IgnoreError();  // its requests are told
}

void Store::RunGroup(Group& group, const Txn::Writes* committing) {
  Txn txn(this, &group.writes, committing, options_.clock());
  group.first_sequence = next_sequence_;
  group.outcomes.resize(group.requests.size());
  group.replayed.resize(group.requests.size(), 0);
  for (size_t i = 0; i < group.requests.size(); ++i) {
    WriteRequest& request = group.requests[i];
    bool replayed = false;
    group.outcomes[i] = txn.RunPart(request.request_id, request.request_digest, request.response,
                                    request.mutate, &replayed);
    group.replayed[i] = replayed;
  }
  group.last_sequence = next_sequence_ - 1;
}

absl::Status Store::AwaitCommit() {
  std::unique_lock<std::mutex> lock(commit_mu_);
  commit_cv_.wait(lock, [this] { return to_commit_ == nullptr; });
  return last_commit_;
}

void Store::CommitterLoop() {
  rocksdb::WriteBatch batch;
  while (true) {
    Group* group = nullptr;
    {
      std::unique_lock<std::mutex> lock(commit_mu_);
      commit_cv_.wait(lock, [this] { return to_commit_ != nullptr || committer_stopping_; });
      if (to_commit_ == nullptr) return;
      group = to_commit_;
    }
    rocksdb::WriteOptions write_options;
    write_options.sync = options_.sync;
    absl::Status written = options_.before_commit ? options_.before_commit() : absl::OkStatus();
    if (written.ok()) {
      group->writes.FillBatch(&batch);
      written = FromRocks(db_->Write(write_options, &batch), "commit");
    }
    if (written.ok()) {
      committed_sequence_ = std::max(committed_sequence_.load(), group->last_sequence);
    } else {
      // Nothing of the group is durable: no mutation may be acknowledged.
      group->Fail(Error(absl::StatusCode::kUnavailable, "STORAGE_ERROR", written.message()));
    }
    group->Finish();
    {
      std::lock_guard<std::mutex> lock(commit_mu_);
      last_commit_ = written;
      to_commit_ = nullptr;
    }
    commit_cv_.notify_all();
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
