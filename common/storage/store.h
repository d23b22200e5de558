// RocksDB behind a small interface. Reads run on the caller's thread against
// committed (durable) data. Writes are mutations: functions queued to one
// writer thread, which runs them in order against the committed data plus the
// writes of the mutations before them (in the same group, and in the group
// still being committed), then hands the whole group to a committer thread,
// which commits it as one WriteBatch with one fsync while the writer runs the
// next group, and only then reports each mutation's outcome. So a write is
// acknowledged only once durable, no gRPC thread waits on fsync, and each
// mutation's read-check-write is serializable. If a commit fails, the group
// run against it fails too.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "htx/type/v1/change.pb.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace htx::storage {

struct StoreOptions {
  // Directory of the database; created if missing.
  std::string path;
  // The service's column families (the store adds its own for the change log
  // and idempotency records).
  std::vector<std::string> column_families;
  // fsync every group before acknowledging. Turning it off is for comparison
  // benchmarks only.
  bool sync = true;
  // At most this many mutations are committed together.
  size_t max_group_size = 1024;
  // The clock stamped on changes; injectable for tests.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // Runs on the committer before each commit; an error fails the commit as a
  // failed disk write would. For tests.
  std::function<absl::Status()> before_commit;
};

// A column family, resolved once by name.
class Family {
 public:
  Family() = default;

 private:
  friend class Store;
  friend class Txn;
  explicit Family(rocksdb::ColumnFamilyHandle* handle) : handle_(handle) {}
  rocksdb::ColumnFamilyHandle* handle_ = nullptr;
};

// Visitor of a scan: return false to stop.
using ScanFn = std::function<bool(absl::string_view key, absl::string_view value)>;

// The view a mutation runs against, on the writer thread.
class Txn {
 public:
  absl::StatusOr<std::optional<std::string>> Get(Family family, absl::string_view key);
  // False when the key is absent; DATA_LOSS when the value does not parse.
  absl::StatusOr<bool> GetProto(Family family, absl::string_view key,
                                google::protobuf::Message* message);
  void Put(Family family, absl::string_view key, absl::string_view value);
  // Returns the stored bytes, valid until the mutation's group is committed
  // (e.g. to record them in the change feed without serializing again).
  absl::string_view PutProto(Family family, absl::string_view key,
                             const google::protobuf::Message& message);
  void Delete(Family family, absl::string_view key);
  // Keys starting with prefix, in order, including this group's writes.
  absl::Status Scan(Family family, absl::string_view prefix, const ScanFn& fn);
  // Appends to the change feed; returns the change's sequence number.
  uint64_t RecordChange(absl::string_view resource, type::v1::ChangeKind kind,
                        const google::protobuf::Message* resource_after);
  // The same, with resource_after given as the serialized bytes of a message
  // of type `type_name` (e.g. "htx.indicator.v1.IndicatorValue").
  uint64_t RecordChange(absl::string_view resource, type::v1::ChangeKind kind,
                        absl::string_view type_name, absl::string_view resource_after_bytes);
  // The commit time of this group (the store's clock).
  absl::Time now() const { return now_; }

  // Runs `mutate` as a part of this mutation that succeeds or fails on its
  // own, as a WriteRequest with these fields would (e.g. one row of a bulk
  // message, so that a message takes one writer turn, not one per row):
  // idempotent by `request_id` with the same record, replay and
  // REQUEST_ID_REUSED, its changes carrying `request_id`; an error rolls back
  // this part's writes and sequences only. `*replayed` says whether it was a
  // replay. The part is durable only if the enclosing mutation commits.
  absl::Status RunPart(absl::string_view request_id, uint64_t request_digest,
                       google::protobuf::Message* response,
                       const std::function<absl::Status(Txn&)>& mutate, bool* replayed);

 private:
  friend class Store;
  class Writes;  // a group's writes, with save points
  Txn(class Store* store, Writes* writes, const Writes* committing, absl::Time now)
      : store_(store), writes_(writes), committing_(committing), now_(now) {}
  class Store* store_;
  Writes* writes_;
  const Writes* committing_;  // the group being committed, or null
  absl::Time now_;
  absl::string_view request_id_;  // of the innermost part running; it outlives the part
};

// One queued write.
struct WriteRequest {
  // Optional idempotency key, already scoped by the caller (e.g. the method).
  // A second request with the same key is not run: its response is the first
  // one's, and `replayed` is true.
  std::string request_id;
  // Digest of the request; a reused request_id with another digest is
  // INVALID_ARGUMENT (reason REQUEST_ID_REUSED).
  uint64_t request_digest = 0;
  // Filled by `mutate`, or from the idempotency record on a replay. Must stay
  // alive until `done` runs.
  google::protobuf::Message* response = nullptr;
  // Reads and writes through the Txn. An error rolls back this mutation's
  // writes only; the others of the group still commit.
  std::function<absl::Status(Txn&)> mutate;
  // Called on the store's committer (or writer) thread once the outcome is
  // durable (or failed); must not block.
  std::function<void(absl::Status status, bool replayed)> done;
};

class Store {
 public:
  static absl::StatusOr<std::unique_ptr<Store>> Open(StoreOptions options);
  // Drains queued writes, stops the writer and closes the database.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The column family by name; fails fast on a name not given at Open.
  Family family(absl::string_view name) const;

  absl::StatusOr<std::optional<std::string>> Get(Family family, absl::string_view key) const;
  absl::StatusOr<bool> GetProto(Family family, absl::string_view key,
                                google::protobuf::Message* message) const;
  // Keys with prefix strictly after `start_after` (empty = from the first).
  absl::Status Scan(Family family, absl::string_view prefix, absl::string_view start_after,
                    const ScanFn& fn) const;

  // Queues a mutation; never blocks on I/O.
  void Submit(WriteRequest request);
  // Submits and waits: for tools and tests, never for gRPC threads.
  absl::Status Write(WriteRequest request, bool* replayed = nullptr);

  // Change feed: up to `limit` changes with sequence > after.
  absl::StatusOr<std::vector<type::v1::Change>> ListChanges(uint64_t after, int limit) const;
  // The newest committed sequence (0 when none).
  uint64_t last_sequence() const { return committed_sequence_.load(); }

 private:
  friend class Txn;
  explicit Store(StoreOptions options);
  absl::Status OpenDb();
  struct Group;
  void WriterLoop();
  void RunGroup(Group& group, const Txn::Writes* committing);
  // Waits for the group handed to the committer; its outcome.
  absl::Status AwaitCommit();
  void CommitterLoop();

  StoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> families_;
  rocksdb::ColumnFamilyHandle* changes_ = nullptr;
  rocksdb::ColumnFamilyHandle* requests_ = nullptr;

  // Next sequence to hand out; only the writer thread touches it.
  uint64_t next_sequence_ = 1;
  std::atomic<uint64_t> committed_sequence_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteRequest> queue_;
  bool stopping_ = false;
  std::thread writer_;

  // The writer hands one group at a time to the committer.
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  Group* to_commit_ = nullptr;  // owned by the writer
  absl::Status last_commit_;
  bool committer_stopping_ = false;
  std::thread committer_;
};

}  // namespace htx::storage
