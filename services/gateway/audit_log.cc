#include "services/gateway/audit_log.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/api/api.h"
#include "common/status/status.h"
#include "common/storage/keys.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/time_util.h"

namespace htx::gateway {
namespace {

// Records are keyed by their 8-byte sequence; the head (last sequence and
// hash) sits under a key of another length that sorts after every record key
// (a sequence would need its top byte at 0xff to reach it), so record scans
// stop at it.
constexpr char kHeadKey[] =
    "\xff"
    "head";
constexpr size_t kRecordKeySize = 8;
const std::string& GenesisHash() {
  static const std::string* const kZeros = new std::string(64, '0');
  return *kZeros;
}

struct Head {
  uint64_t sequence = 0;
  std::string hash;
};

// The head's value: the 8-byte sequence, then the 64 hex characters of its hash.
std::string EncodeHead(uint64_t sequence, absl::string_view hash) {
  return absl::StrCat(storage::EncodeUint64(sequence), hash);
}

absl::StatusOr<std::optional<Head>> DecodeHead(
    const absl::StatusOr<std::optional<std::string>>& value) {
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::nullopt;
  const std::string& bytes = **value;
  if (bytes.size() != kRecordKeySize + 64) {
    return Error(absl::StatusCode::kDataLoss, "CORRUPT_RECORD", "the audit log head is malformed");
  }
  return Head{storage::DecodeUint64(bytes), bytes.substr(kRecordKeySize)};
}

bool ParseRecord(absl::string_view bytes, v1::AuditRecord* record) {
  return record->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

absl::Status CorruptRecord(uint64_t sequence) {
  return Error(absl::StatusCode::kDataLoss, "CORRUPT_RECORD",
               absl::StrCat("audit record ", sequence, " does not parse"));
}

}  // namespace

std::string ChainHash(absl::string_view previous_hash, const v1::AuditRecord& record) {
  v1::AuditRecord body = record;
  body.clear_hash();
  body.clear_previous_hash();
  // Binary protobuf, deterministic: fields in number order, defaults omitted,
  // so a verifier in any language re-encodes the same bytes.
  std::string input(previous_hash);
  {
    google::protobuf::io::StringOutputStream stream(&input);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    body.SerializeToCodedStream(&coded);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    // Only an OpenSSL misconfiguration gets here; there is no hash to give.
    std::fprintf(stderr, "SHA-256 is unavailable\n");
    std::abort();
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), static_cast<size_t>(size)));
}

AuditLog::AuditLog(storage::Store* store) : store_(store), family_(store->family(kFamily)) {}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(storage::Store* store) {
  std::unique_ptr<AuditLog> log(new AuditLog(store));
  // A malformed head would stop every append: refuse to start instead.
  absl::StatusOr<std::optional<Head>> head = DecodeHead(store->Get(log->family_, kHeadKey));
  if (!head.ok()) return head.status();
  return log;
}

void AuditLog::Append(v1::AuditRecord record, std::function<void(absl::Status)> done) {
  storage::WriteRequest write;
  // Runs on the writer thread, serially, seeing the head as left by the
  // mutations before it in the same group: sequences and links follow commit
  // order. Not recorded in the change feed: the audit log is not business data.
  write.mutate = [this, record = std::move(record)](storage::Txn& txn) -> absl::Status {
    absl::StatusOr<std::optional<Head>> head = DecodeHead(txn.Get(family_, kHeadKey));
    if (!head.ok()) return head.status();
    if (!head->has_value()) {
      // Without its head a log that has records would restart at 1 and
      // overwrite them.
      absl::StatusOr<std::optional<std::string>> first = txn.Get(family_, storage::EncodeUint64(1));
      if (!first.ok()) return first.status();
      if (first->has_value()) {
        return Error(absl::StatusCode::kDataLoss, "AUDIT_HEAD_MISSING",
                     "the audit log has records but no head; refusing to overwrite them");
      }
    }
    const uint64_t sequence = head->has_value() ? (*head)->sequence + 1 : 1;
    v1::AuditRecord stored = record;
    stored.set_sequence(sequence);
    if (!stored.has_time()) {
      *stored.mutable_time() =
          google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(txn.now()));
    }
    stored.set_previous_hash(head->has_value() ? (*head)->hash : GenesisHash());
    stored.set_hash(ChainHash(stored.previous_hash(), stored));
    txn.PutProto(family_, storage::EncodeUint64(sequence), stored);
    txn.Put(family_, kHeadKey, EncodeHead(sequence, stored.hash()));
    return absl::OkStatus();
  };
  write.done = [done = std::move(done)](absl::Status status, bool /*replayed*/) {
    done(std::move(status));
  };
  store_->Submit(std::move(write));
}

absl::StatusOr<v1::ListAuditRecordsResponse> AuditLog::List(
    const v1::ListAuditRecordsRequest& request) const {
  absl::StatusOr<api::Page> page =
      api::StartPage(request, request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  uint64_t after = request.after_sequence();
  if (!page->position.empty()) {
    if (page->position.size() != kRecordKeySize) {
      return InvalidField("page_token", "malformed; pass next_page_token as received",
                          "INVALID_PAGE_TOKEN");
    }
    after = storage::DecodeUint64(page->position);
  }

  v1::ListAuditRecordsResponse response;
  uint64_t last = after;
  absl::Status parsed;
  absl::Status scanned =
      store_->Scan(family_, "", storage::EncodeUint64(after),
                   [&](absl::string_view key, absl::string_view value) {
                     if (key.size() != kRecordKeySize)
                       return false;  // the head: past the last record
                     if (response.records_size() == page->size) {
                       response.set_next_page_token(page->NextToken(storage::EncodeUint64(last)));
                       return false;
                     }
                     last = storage::DecodeUint64(key);
                     if (!ParseRecord(value, response.add_records())) {
                       parsed = CorruptRecord(last);
                       return false;
                     }
                     return true;
                   });
  if (!scanned.ok()) return scanned;
  if (!parsed.ok()) return parsed;
  return response;
}

absl::StatusOr<v1::VerifyAuditLogResponse> AuditLog::Verify(
    const v1::VerifyAuditLogRequest& request) const {
  if (request.to_sequence() != 0 && request.from_sequence() > request.to_sequence()) {
    return InvalidField("from_sequence", "must not be after to_sequence");
  }
  // The head first: records up to its sequence committed with or before it.
  absl::StatusOr<std::optional<Head>> head = DecodeHead(store_->Get(family_, kHeadKey));
  if (!head.ok()) return head.status();
  absl::StatusOr<std::optional<std::string>> first = store_->Get(family_, storage::EncodeUint64(1));
  if (!first.ok()) return first.status();

  v1::VerifyAuditLogResponse response;
  response.set_intact(true);
  auto broken = [&response](uint64_t sequence, std::string problem) {
    response.set_intact(false);
    response.set_first_broken_sequence(sequence);
    response.set_problem(std::move(problem));
    return response;
  };

  // Without a head, every stored record is checked (and the missing head
  // reported at the end).
  const uint64_t last = head->has_value() ? (*head)->sequence : UINT64_MAX;
  const uint64_t from = request.from_sequence() == 0 ? 1 : request.from_sequence();
  const uint64_t to =
      request.to_sequence() == 0 ? last : std::min<uint64_t>(request.to_sequence(), last);
  if (from > to) return response;  // nothing in range yet

  // The hash record `from` must link to.
  std::string previous_hash = GenesisHash();
  if (from > 1) {
    absl::StatusOr<std::optional<std::string>> before =
        store_->Get(family_, storage::EncodeUint64(from - 1));
    if (!before.ok()) return before.status();
    if (!before->has_value()) {
      // Past the end of a headless log there is nothing to check.
      if (!head->has_value() && !first->has_value()) return response;
      return broken(from - 1, absl::StrCat("record ", from - 1, " missing"));
    }
    v1::AuditRecord record;
    if (!ParseRecord(**before, &record)) return broken(from - 1, "record does not parse");
    previous_hash = record.hash();
  }

  uint64_t expected = from;
  std::optional<std::pair<uint64_t, std::string>> problem;
  absl::Status scanned = store_->Scan(
      family_, "", storage::EncodeUint64(from - 1),
      [&](absl::string_view key, absl::string_view value) {
        if (key.size() != kRecordKeySize) return false;  // the head: past the last record
        const uint64_t sequence = storage::DecodeUint64(key);
        if (sequence > to) return false;
        if (sequence != expected) {
          problem.emplace(expected, absl::StrCat("record ", expected, " missing"));
          return false;
        }
        v1::AuditRecord record;
        if (!ParseRecord(value, &record)) {
          problem.emplace(sequence, "record does not parse");
          return false;
        }
        if (record.sequence() != sequence) {
          problem.emplace(sequence, absl::StrCat("sequence field says ", record.sequence()));
          return false;
        }
        if (ChainHash(record.previous_hash(), record) != record.hash()) {
          problem.emplace(sequence, "hash mismatch");
          return false;
        }
        if (record.previous_hash() != previous_hash) {
          problem.emplace(sequence,
                          sequence == 1
                              ? std::string("previous_hash of the first record is "
                                            "not 64 zeros")
                              : absl::StrCat("previous_hash does not match record ", sequence - 1));
          return false;
        }
        response.set_records_checked(response.records_checked() + 1);
        response.set_last_hash(record.hash());
        previous_hash = record.hash();
        ++expected;
        return true;
      });
  if (!scanned.ok()) return scanned;
  if (problem.has_value()) return broken(problem->first, std::move(problem->second));

  if (head->has_value()) {
    if (expected <= to) return broken(expected, absl::StrCat("record ", expected, " missing"));
    // The head is the copy of the last hash the log itself keeps.
    if (to == last && response.records_checked() > 0 && previous_hash != (*head)->hash) {
      return broken(last, "hash does not match the log head");
    }
  } else if (first->has_value()) {
    return broken(expected - 1, "the log head is missing");
  }
  return response;
}

}  // namespace htx::gateway
