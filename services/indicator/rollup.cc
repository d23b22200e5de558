// Reading the stored values a roll-up adds up: prefix scans of the units
// below (a province's communes, the nation's provinces, the communes of every
// province) straight into a RollupAccumulator, one child at a time.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/api/api.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "services/indicator/indicator.h"

namespace htx::indicator {
namespace {

using google::protobuf::internal::WireFormatLite;

constexpr int kCellField = 6;    // IndicatorValue.value
constexpr int kStateField = 1;   // CellValue.state
constexpr int kNumberField = 2;  // CellValue.number

// Visits the fields of a message's wire bytes: `fn(field, wire type, in)`
// reads the field's contents from `in` (advancing past them) or returns
// false to skip it. False when the bytes are not a well-formed message.
template <typename Fn>
bool VisitFields(absl::string_view bytes, Fn fn) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  while (in.CurrentPosition() < static_cast<int>(bytes.size())) {
    const uint32_t tag = in.ReadTag();
    if (WireFormatLite::GetTagFieldNumber(tag) == 0) return false;
    bool consumed = false;
    if (!fn(WireFormatLite::GetTagFieldNumber(tag), WireFormatLite::GetTagWireType(tag), in,
            &consumed)) {
      return false;
    }
    if (!consumed && !WireFormatLite::SkipField(&in, tag)) return false;
  }
  return true;
}

// A length-delimited field's contents, without a copy.
bool ReadDelimited(absl::string_view bytes, google::protobuf::io::CodedInputStream& in,
                   absl::string_view* out) {
  int length = 0;
  if (!in.ReadVarintSizeAsInt(&length)) return false;
  const int start = in.CurrentPosition();
  if (length > static_cast<int>(bytes.size()) - start) return false;
  *out = bytes.substr(start, length);
  return in.Skip(length);
}

// The figure of a stored IndicatorValue read straight from its wire bytes:
// a roll-up reads every value of the units below, and a full parse (name,
// unit, provenance, etag: strings and allocations) costs several times the
// figure. The other fields are skipped but must be well formed; a repeated
// field merges as a parse would. False when the bytes do not parse.
bool ReadStoredCell(absl::string_view bytes, v1::ValueState* state, absl::string_view* number) {
  *state = v1::VALUE_STATE_UNSPECIFIED;
  *number = absl::string_view();
  return VisitFields(bytes, [&](int field, WireFormatLite::WireType type,
                                google::protobuf::io::CodedInputStream& in, bool* consumed) {
    if (field != kCellField || type != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) return true;
    *consumed = true;
    absl::string_view cell;
    if (!ReadDelimited(bytes, in, &cell)) return false;
    return VisitFields(cell, [&](int inner, WireFormatLite::WireType inner_type,
                                 google::protobuf::io::CodedInputStream& cell_in,
                                 bool* cell_consumed) {
      if (inner == kStateField && inner_type == WireFormatLite::WIRETYPE_VARINT) {
        *cell_consumed = true;
        uint32_t value = 0;
        if (!cell_in.ReadVarint32(&value)) return false;
        *state = static_cast<v1::ValueState>(static_cast<int32_t>(value));
      } else if (inner == kNumberField && inner_type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
        *cell_consumed = true;
        return ReadDelimited(cell, cell_in, number);
      }
      return true;
    });
  });
}

// A value key "{year}|{level}|{unit}|{column}|{code}" (indicator.cc's
// ValueKey; column ids and codes never hold '|'): the unit, and
// "{column}|{code}" as RollupAccumulator::Find takes it. False for a key of
// another shape.
bool SplitValueKey(absl::string_view key, absl::string_view* unit, absl::string_view* cell) {
  constexpr size_t kNone = absl::string_view::npos;
  const size_t level = key.find('|');
  const size_t start = level == kNone ? kNone : key.find('|', level + 1);
  const size_t code = key.rfind('|');
  if (start == kNone || code <= start) return false;
  const size_t column = key.rfind('|', code - 1);
  if (column <= start + 1) return false;
  *unit = key.substr(start + 1, column - start - 1);
  *cell = key.substr(column + 1);
  return true;
}

// Adds stored values to a roll-up a child at a time, on one thread.
class ChildReader {
 public:
  ChildReader(const api::Reader& read, storage::Family values, RollupAccumulator* rollup)
      : read_(read), values_(values), rollup_(rollup) {}

  // Every value under `prefix`: of the child the caller has started when
  // `named`, else of the unit its key names (a unit's keys are contiguous,
  // so a new unit starts the next child).
  absl::Status Scan(const std::string& prefix, bool named) {
    absl::Status scanned = read_.scan(
        values_, prefix,
        [&](absl::string_view key, absl::string_view bytes) { return Add(key, bytes, named); });
    return scanned.ok() ? failed_ : scanned;
  }

 private:
  bool Add(absl::string_view key, absl::string_view bytes, bool named) {
    absl::string_view unit, cell;
    v1::ValueState state;
    absl::string_view number;
    if (!SplitValueKey(key, &unit, &cell) || !ReadStoredCell(bytes, &state, &number)) {
      failed_ = api::Corrupt("value", key);
      return false;
    }
    if (!named && unit != child_) {
      child_.assign(unit.data(), unit.size());
      rollup_->StartChild(unit);
    }
    if (!rollup_->Add(rollup_->Find(cell), state, number)) {
      failed_ = api::Corrupt("value", key);
      return false;
    }
    return true;
  }

  const api::Reader& read_;
  storage::Family values_;
  RollupAccumulator* rollup_;
  std::string child_;
  absl::Status failed_;
};

}  // namespace

absl::Status Indicator::RollUp(absl::string_view unit, int year, bool communes,
                               const google::protobuf::RepeatedPtrField<std::string>& units,
                               RollupAccumulator* rollup) const {
  const Reader read = api::StoreReader(*store_);
  if (!unit.empty() || !communes) {
    ChildReader reader(read, values_, rollup);
    if (units.empty()) return reader.Scan(api::ChildrenPrefix(unit, year), false);
    // Named children count even when they stored nothing (they are silent).
    for (const std::string& child : units) {
      rollup->StartChild(child);
      if (absl::Status s = reader.Scan(api::UnitYearPrefix(child, year), true); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  // The nation from its communes (the named provinces' only): every commune
  // value of the year, about 870,000 at full scale, so the provinces are
  // shared out to two threads, each adding into its own accumulator.
  const std::vector<std::string> provinces =
      units.empty() ? api::ProvinceNames() : std::vector<std::string>(units.begin(), units.end());
  std::atomic<size_t> next{0};
  auto read_provinces = [&](RollupAccumulator* into) {
    ChildReader reader(read, values_, into);
    for (size_t p = next++; p < provinces.size(); p = next++) {
      if (absl::Status s = reader.Scan(api::ChildrenPrefix(provinces[p], year), false); !s.ok()) {
        next = provinces.size();  // the other thread stops too
        return s;
      }
    }
    return absl::OkStatus();
  };
  RollupAccumulator other = *rollup;  // the same cells, nothing added yet
  absl::Status other_status;
  std::thread helper([&] { other_status = read_provinces(&other); });
  absl::Status status = read_provinces(rollup);
  helper.join();
  if (!status.ok()) return status;
  if (!other_status.ok()) return other_status;
  rollup->Merge(other);
  return absl::OkStatus();
}

}  // namespace htx::indicator
