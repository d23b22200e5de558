#include "services/registry/sample_data.h"

#include <fstream>
#include <future>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/storage/store.h"
#include "common/testing/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/registry/registry.h"
#include "services/registry/registry_logic.h"

namespace htx::registry {
namespace {

using ::htx::testing::InvalidArgumentFor;
using ::htx::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Tests run from the project root (see htx_test).
constexpr char kPhuLuc1[] = "../shared/domain/hanoi-2026/phu-luc-1-indicators.csv";
constexpr char kPhuLuc2[] = "../shared/domain/hanoi-2026/phu-luc-2-by-sector.csv";
constexpr char kProvinces[] = "services/registry/data/provinces-2025.csv";
constexpr char kFormerProvinces[] = "services/registry/data/former-provinces-2025.csv";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path << " (run from the project root)";
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One of the plan's appendix tables: numbers by row code and column.
class Appendix {
 public:
  explicit Appendix(const std::string& path) {
    absl::StatusOr<CsvTable> table = CsvTable::Parse(ReadFile(path), path, {"code"});
    EXPECT_TRUE(table.ok()) << table.status();
    if (table.ok()) table_ = std::make_unique<CsvTable>(*std::move(table));
  }

  // The number printed in row `code`, column `column`. A blank cell counts as
  // 0: the sample has no organisation there.
  int64_t Number(absl::string_view code, absl::string_view column) const {
    if (table_ == nullptr) return -1;
    for (const CsvRecord& record : table_->records()) {
      if (table_->Get(record, "code") != code) continue;
      const std::string& text = table_->Get(record, column);
      int64_t value = 0;
      if (text.empty()) return 0;
      EXPECT_TRUE(absl::SimpleAtoi(text, &value)) << code << " " << column << ": " << text;
      return value;
    }
    ADD_FAILURE() << "no row " << code;
    return -1;
  }

 private:
  std::unique_ptr<CsvTable> table_;
};

// The columns of the appendices that hold each year's year-end figures.
struct YearColumn {
  int year;
  const char* column;
};
constexpr YearColumn kPhuLuc2Years[] = {
    {2023, "actual_2023"}, {2024, "actual_2024"}, {2025, "estimate_2025"}};
constexpr YearColumn kPhuLuc1Years[] = {{2024, "actual_2024"}, {2025, "estimate_2025"}};

// 23/11/2026, noon in Vietnam.
absl::Time FixedNow() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, 12, 0, 0),
                         absl::FixedTimeZone(7 * 60 * 60));
}

// ---- The generator on its own ------------------------------------------------

TEST(GenerateHanoiSampleTest, IsDeterministicFastAndMarkedAsSample) {
  const absl::Time start = absl::Now();
  const SampleRegistry sample = GenerateHanoiSample();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  const SampleRegistry again = GenerateHanoiSample();
  ASSERT_EQ(sample.rows.size(), again.rows.size());
  for (size_t i = 0; i < sample.rows.size(); ++i) {
    ASSERT_EQ(sample.rows[i].SerializeAsString(), again.rows[i].SerializeAsString()) << i;
  }
  const SampleRegistry other = GenerateHanoiSample(7);
  EXPECT_NE(sample.rows.front().SerializeAsString(), other.rows.front().SerializeAsString());

  int wards = 0, communes = 0, agencies = 0;
  for (const v1::Unit& unit : sample.units) {
    EXPECT_TRUE(unit.sample());
    EXPECT_THAT(unit.display_name(), ::testing::HasSubstr("(dữ liệu mẫu)"));
    EXPECT_EQ(ToDayKey(unit.valid_from()), 20250701);
    const bool agency = unit.kind() == v1::UNIT_KIND_AGENCY;
    EXPECT_TRUE(
        absl::StartsWith(unit.name(), agency ? "provinces/01/agencies/" : "provinces/01/communes/"))
        << unit.name();
    wards += unit.kind() == v1::UNIT_KIND_WARD;
    communes += unit.kind() == v1::UNIT_KIND_COMMUNE;
    agencies += agency;
  }
  // Hà Nội after 1/7/2025: 126 units, 51 wards and 75 communes; and the agencies.
  EXPECT_EQ(wards, 51);
  EXPECT_EQ(communes, 75);
  EXPECT_EQ(agencies, 7);
  EXPECT_EQ(sample.units.size(), 133u);

  std::set<std::string> request_ids, codes;
  int section = 0;  // 0 organisations, 1 events, 2 classifications: in that order
  for (const v1::ImportRow& row : sample.rows) {
    EXPECT_TRUE(request_ids.insert(row.request_id()).second) << row.request_id();
    EXPECT_TRUE(absl::StartsWith(row.request_id(), "sample-01-")) << row.request_id();
    const int row_section = row.has_organization() ? 0 : row.has_event() ? 1 : 2;
    EXPECT_GE(row_section, section) << row.request_id();
    section = row_section;
    if (row.has_organization()) {
      const v1::Organization& o = row.organization();
      EXPECT_THAT(o.display_name(), ::testing::HasSubstr("(dữ liệu mẫu)"));
      EXPECT_EQ(o.registration_code().size(), 10u);
      EXPECT_TRUE(absl::StartsWith(o.registration_code(), "01"));
      EXPECT_TRUE(codes.insert(o.registration_code()).second);
      EXPECT_NE(o.kind(), v1::ORGANIZATION_KIND_THT);
    } else if (row.has_event()) {
      EXPECT_LE(ToDayKey(row.event().effective_date()), 20260630) << row.request_id();
    } else {
      EXPECT_LE(row.classification().year(), 2025);
    }
  }
  EXPECT_GE(codes.size(), 2900u);
}

// ---- The generated registry, imported through a real Registry --------------------

// The sample loaded once into a registry on a temporary store, through
// ImportUnits and ImportBatch as the CLI does over gRPC.
class SampleCountsTest : public ::testing::Test {
 protected:
  struct Loaded {
    htx::testing::TempDir dir;
    std::unique_ptr<storage::Store> store;
    std::unique_ptr<Registry> registry;
    SampleRegistry sample;
    int applied = 0;
    int already_applied = 0;
    std::vector<std::string> rejected;
  };

  static void SetUpTestSuite() {
    loaded_ = new Loaded;
    storage::StoreOptions options;
    options.path = loaded_->dir.Sub("db");
    options.column_families = Registry::ColumnFamilies();
    absl::StatusOr<std::unique_ptr<storage::Store>> store = storage::Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    loaded_->store = *std::move(store);
    loaded_->registry = std::make_unique<Registry>(loaded_->store.get(), FixedNow);
    loaded_->sample = GenerateHanoiSample();

    absl::StatusOr<std::vector<v1::Unit>> provinces =
        ParseProvincesCsv(ReadFile(kProvinces), ReadFile(kFormerProvinces));
    ASSERT_TRUE(provinces.ok()) << provinces.status();
    v1::ImportUnitsRequest units;
    for (const v1::Unit& unit : *provinces) *units.add_units() = unit;
    for (const v1::Unit& unit : loaded_->sample.units) *units.add_units() = unit;
    v1::ImportUnitsResponse imported;
    std::promise<absl::Status> units_done;
    loaded_->registry->ImportUnits(units, &imported,
                                   [&](absl::Status s) { units_done.set_value(s); });
    absl::Status units_status = units_done.get_future().get();
    ASSERT_TRUE(units_status.ok()) << units_status;

    Import(loaded_->sample.rows, &loaded_->applied, &loaded_->already_applied, &loaded_->rejected);
  }

  static void TearDownTestSuite() {
    delete loaded_;
    loaded_ = nullptr;
  }

  // Imports `rows` in batches of the largest size the API takes.
  static void Import(const std::vector<v1::ImportRow>& rows, int* applied, int* already_applied,
                     std::vector<std::string>* rejected) {
    for (size_t start = 0; start < rows.size(); start += 1000) {
      v1::ImportRegistryRequest request;
      for (size_t i = start; i < std::min(rows.size(), start + 1000); ++i) {
        *request.add_rows() = rows[i];
      }
      v1::ImportRegistryResponse response;
      std::promise<absl::Status> done;
      loaded_->registry->ImportBatch(request, &response,
                                     [&](absl::Status s) { done.set_value(s); });
      absl::Status status = done.get_future().get();
      ASSERT_TRUE(status.ok()) << status;
      *applied += response.applied();
      *already_applied += response.already_applied();
      for (const auto& result : response.results()) {
        if (result.outcome() == type::v1::RowResult::OUTCOME_REJECTED) {
          rejected->push_back(
              absl::StrCat(request.rows(result.index()).request_id(), ": ", result.message()));
        }
      }
    }
  }

  static v1::Counts CountsAsOf(int year) {
    v1::GetCountsRequest request;
    request.set_unit("provinces/01");
    *request.mutable_as_of() = FromDayKey(year * 10000 + 1231);
    absl::StatusOr<v1::Counts> counts = loaded_->registry->GetCounts(request);
    EXPECT_TRUE(counts.ok()) << counts.status();
    return counts.ok() ? *counts : v1::Counts();
  }

  // The row of `kind` and `sector` (SECTOR_UNSPECIFIED = all), empty if none.
  static v1::CountRow Row(const v1::Counts& counts, v1::OrganizationKind kind,
                          v1::Sector sector = v1::SECTOR_UNSPECIFIED) {
    for (const v1::CountRow& row : counts.rows()) {
      if (row.kind() == kind && row.sector() == sector) return row;
    }
    return v1::CountRow();
  }

  static Loaded* loaded_;
};

SampleCountsTest::Loaded* SampleCountsTest::loaded_ = nullptr;

TEST_F(SampleCountsTest, EveryRowIsAccepted) {
  EXPECT_THAT(loaded_->rejected, IsEmpty());
  EXPECT_EQ(loaded_->applied, static_cast<int>(loaded_->sample.rows.size()));
}

// Phụ lục II: HTX rows 1.1-1.7 and LH HTX rows 2.1-2.7, and their totals 1
// and 2, for actual 2023, actual 2024 and estimate 2025.
TEST_F(SampleCountsTest, ReproducesPhuLucIIBySector) {
  const Appendix phu_luc_2(kPhuLuc2);
  for (const YearColumn& year : kPhuLuc2Years) {
    const v1::Counts counts = CountsAsOf(year.year);
    for (auto [prefix, kind] : {std::pair{"1", v1::ORGANIZATION_KIND_HTX},
                                std::pair{"2", v1::ORGANIZATION_KIND_LH_HTX}}) {
      EXPECT_EQ(Row(counts, kind).total(), phu_luc_2.Number(prefix, year.column))
          << "row " << prefix << " " << year.column;
      for (int sector = 1; sector <= 7; ++sector) {
        const std::string code = absl::StrCat(prefix, ".", sector);
        EXPECT_EQ(Row(counts, kind, static_cast<v1::Sector>(sector)).total(),
                  phu_luc_2.Number(code, year.column))
            << "row " << code << " " << year.column;
      }
    }
  }
}

// Phụ lục I, HTX: I.1 total, I.1.a active, I.1.b established, I.1.c
// dissolved, I.1.d rated good or fair, for actual 2024 and estimate 2025.
TEST_F(SampleCountsTest, ReproducesPhuLucIForHtx) {
  const Appendix phu_luc_1(kPhuLuc1);
  for (const YearColumn& year : kPhuLuc1Years) {
    const v1::CountRow htx = Row(CountsAsOf(year.year), v1::ORGANIZATION_KIND_HTX);
    EXPECT_EQ(htx.total(), phu_luc_1.Number("I.1", year.column)) << year.column;
    EXPECT_EQ(htx.active(), phu_luc_1.Number("I.1.a", year.column)) << year.column;
    EXPECT_EQ(htx.established(), phu_luc_1.Number("I.1.b", year.column)) << year.column;
    EXPECT_EQ(htx.dissolved(), phu_luc_1.Number("I.1.c", year.column)) << year.column;
    EXPECT_EQ(htx.rated_good() + htx.rated_fair(), phu_luc_1.Number("I.1.d", year.column))
        << year.column;
  }
}

// Attributes are current values, so only the latest year can match: I.2,
// I.3, I.4.a and I.4.b of the 2025 estimate.
TEST_F(SampleCountsTest, ReproducesPhuLucIAttributeSumsFor2025) {
  const Appendix phu_luc_1(kPhuLuc1);
  const v1::CountRow htx = Row(CountsAsOf(2025), v1::ORGANIZATION_KIND_HTX);
  EXPECT_EQ(htx.members(), phu_luc_1.Number("I.2", "estimate_2025"));
  EXPECT_EQ(htx.regular_workers(), phu_luc_1.Number("I.3", "estimate_2025"));
  EXPECT_EQ(htx.managers_intermediate(), phu_luc_1.Number("I.4.a", "estimate_2025"));
  EXPECT_EQ(htx.managers_higher(), phu_luc_1.Number("I.4.b", "estimate_2025"));
}

// Phụ lục I, LH HTX: II.1.a active, II.1.b established, II.2 member HTX. The
// document's 2024 flows do not add up (23 + 3 - 1 != 26); the sample keeps
// the sector stocks and the establishments, so its flows satisfy the
// stock-and-flow identity and row II.1.c is knowingly not reproduced.
TEST_F(SampleCountsTest, ReproducesPhuLucIForUnions) {
  const Appendix phu_luc_1(kPhuLuc1);
  int64_t previous_total = Row(CountsAsOf(2023), v1::ORGANIZATION_KIND_LH_HTX).total();
  for (const YearColumn& year : kPhuLuc1Years) {
    const v1::CountRow unions = Row(CountsAsOf(year.year), v1::ORGANIZATION_KIND_LH_HTX);
    EXPECT_EQ(unions.total(), phu_luc_1.Number("II.1", year.column)) << year.column;
    EXPECT_EQ(unions.active(), phu_luc_1.Number("II.1.a", year.column)) << year.column;
    EXPECT_EQ(unions.established(), phu_luc_1.Number("II.1.b", year.column)) << year.column;
    EXPECT_EQ(unions.member_htx(), phu_luc_1.Number("II.2", year.column)) << year.column;
    EXPECT_EQ(unions.total(), previous_total + unions.established() - unions.dissolved());
    previous_total = unions.total();
  }
}

TEST_F(SampleCountsTest, ImportingAgainWritesNothing) {
  int applied = 0, already_applied = 0;
  std::vector<std::string> rejected;
  Import(loaded_->sample.rows, &applied, &already_applied, &rejected);
  EXPECT_EQ(applied, 0);
  EXPECT_EQ(already_applied, static_cast<int>(loaded_->sample.rows.size()));
  EXPECT_THAT(rejected, IsEmpty());
}

// ---- Province lists -------------------------------------------------------------

TEST(ParseProvincesCsvTest, ParsesTheShippedLists) {
  absl::StatusOr<std::vector<v1::Unit>> units =
      ParseProvincesCsv(ReadFile(kProvinces), ReadFile(kFormerProvinces));
  ASSERT_TRUE(units.ok()) << units.status();
  std::set<std::string> current, names;
  std::vector<const v1::Unit*> former;
  for (const v1::Unit& unit : *units) {
    EXPECT_TRUE(names.insert(unit.name()).second) << unit.name();
    EXPECT_FALSE(unit.sample());
    if (IsSet(unit.valid_to())) {
      former.push_back(&unit);
      continue;
    }
    current.insert(unit.name());
    EXPECT_EQ(ToDayKey(unit.valid_from()), 20250701) << unit.name();
    EXPECT_TRUE(unit.kind() == v1::UNIT_KIND_PROVINCE || unit.kind() == v1::UNIT_KIND_CITY);
    if (unit.name() == "provinces/01") {
      EXPECT_EQ(unit.kind(), v1::UNIT_KIND_CITY);
      EXPECT_EQ(unit.display_name(), "Thành phố Hà Nội");
    }
    if (unit.name() == "provinces/04") {
      EXPECT_EQ(unit.kind(), v1::UNIT_KIND_PROVINCE);
    }
    if (unit.name() == "provinces/08") {
      EXPECT_THAT(unit.merged_from(), ElementsAre("Tuyên Quang", "Hà Giang"));
    }
  }
  EXPECT_EQ(current.size(), 34u);
  EXPECT_EQ(former.size(), 29u);  // 63 provinces before 1/7/2025
  for (const v1::Unit* unit : former) {
    EXPECT_EQ(ToDayKey(unit->valid_to()), 20250630) << unit->name();
    EXPECT_FALSE(IsSet(unit->valid_from())) << unit->name();
    EXPECT_EQ(unit->kind(), v1::UNIT_KIND_PROVINCE);
    EXPECT_EQ(current.count(unit->successor()), 1u) << unit->name() << " -> " << unit->successor();
  }
}

TEST(ParseProvincesCsvTest, HandlesQuotesCommentsAndCrlf) {
  const std::string provinces =
      "# a comment, with a comma\r\n"
      "code,name_vi,kind,merged_from\r\n"
      "\r\n"
      "01,\"Thành phố Hà Nội, thủ đô\",city,\r\n"
      "08, Tuyên Quang ,Province,\"Tuyên Quang; Hà Giang\"\r\n"
      "04,\"Cao \"\"Bằng\"\"\",province,\n";
  const std::string former = "code,name_vi,successor_code,valid_to\n02,Hà Giang,08,2025-06-30";
  absl::StatusOr<std::vector<v1::Unit>> units = ParseProvincesCsv(provinces, former);
  ASSERT_TRUE(units.ok()) << units.status();
  ASSERT_EQ(units->size(), 4u);
  EXPECT_EQ((*units)[0].display_name(), "Thành phố Hà Nội, thủ đô");
  EXPECT_EQ((*units)[1].display_name(), "Tuyên Quang");
  EXPECT_EQ((*units)[1].kind(), v1::UNIT_KIND_PROVINCE);
  EXPECT_THAT((*units)[1].merged_from(), ElementsAre("Tuyên Quang", "Hà Giang"));
  EXPECT_EQ((*units)[2].display_name(), "Cao \"Bằng\"");
  EXPECT_EQ((*units)[3].name(), "provinces/02");
  EXPECT_EQ((*units)[3].successor(), "provinces/08");
}

TEST(ParseProvincesCsvTest, NamesTheLineAndColumnOfBadInput) {
  const std::string header = "code,name_vi,kind,merged_from\n";
  const std::string good = header + "01,Thành phố Hà Nội,city,\n08,Tuyên Quang,province,\n";
  const std::string former_header = "code,name_vi,successor_code,valid_to\n";
  struct Case {
    std::string provinces;
    std::string former;
    std::string field;  // the column named, "" for a whole-record problem
    std::string line;
  };
  const Case cases[] = {
      {header + "01,Hà Nội,town,\n", former_header, "kind", "2"},
      {"# note\n" + header + "01,Hà Nội,city,\n1,Cao Bằng,province,\n", former_header, "code", "4"},
      {header + "01,Hà Nội,city,\n01,Hà Nội,city,\n", former_header, "code", "3"},
      {"code,name_vi,kind\n01,Hà Nội,city\n", former_header, "merged_from", "1"},
      {header + "01,\"Hà Nội,city,\n", former_header, "", "2"},
      {header + "01,Hà Nội,city\n", former_header, "", "2"},
      {header + "01,,city,\n", former_header, "name_vi", "2"},
      {good, former_header + "02,Hà Giang,99,2025-06-30\n", "successor_code", "2"},
      {good, former_header + "02,Hà Giang,08,2025-02-30\n", "valid_to", "2"},
      {good, former_header + "02,Hà Giang,08,30/06/2025\n", "valid_to", "2"},
      {good, former_header + "08,Tuyên Quang,01,2025-06-30\n", "code", "2"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<v1::Unit>> units = ParseProvincesCsv(c.provinces, c.former);
    EXPECT_THAT(units, InvalidArgumentFor(c.field)) << c.provinces << c.former;
    EXPECT_EQ(ErrorMetadata(units.status(), "line"), c.line) << units.status();
    EXPECT_EQ(ErrorReason(units.status()), "INVALID_CSV");
    EXPECT_THAT(std::string(units.status().message()),
                ::testing::HasSubstr(absl::StrCat("line ", c.line)));
  }
}

// ---- Organisations from a spreadsheet -------------------------------------------------

TEST(ParseOrganizationsCsvTest, KeepsGoodRowsAndReportsBadOnes) {
  const std::string text =
      "registration_code,kind,display_name,commune,sector,founding_date,members,"
      "regular_workers,managers_intermediate,managers_higher\n"
      "0101234567,HTX,\"Hợp tác xã A, mẫu\",provinces/01/communes/00001,AGRICULTURE,"
      "2020-03-15,120,10,2,1\n"
      "0101234568,COOP,B,provinces/01/communes/00001,TRADE,2020-03-15,1,1,0,0\n"
      "0101234569,lh_htx,C,provinces/01/communes/00002,transport,2021-01-01,,,,\n"
      "0101234570,THT,D,provinces/01/communes/00003,FARMING,2021-01-01,1,1,0,0\n"
      "0101234571,THT,E,provinces/01/communes/00003,OTHER,2021-13-01,1,1,0,0\n"
      "0101234572,THT,F,provinces/01/communes/00003,OTHER,2021-01-01,-4,1,0,0\n"
      "0101234573,THT,G\n";
  absl::StatusOr<OrganizationCsv> parsed = ParseOrganizationsCsv(text, "orgs.csv");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->rows.size(), 2u);
  EXPECT_THAT(parsed->lines, ElementsAre(2, 4));
  const v1::ImportRow& first = parsed->rows[0];
  EXPECT_EQ(first.request_id(), "csv-0101234567");
  EXPECT_EQ(first.organization().display_name(), "Hợp tác xã A, mẫu");
  EXPECT_EQ(first.organization().kind(), v1::ORGANIZATION_KIND_HTX);
  EXPECT_EQ(first.organization().sector(), v1::SECTOR_AGRICULTURE);
  EXPECT_EQ(ToDayKey(first.organization().founding_date()), 20200315);
  EXPECT_EQ(first.organization().members(), 120);
  EXPECT_EQ(first.organization().managers_higher(), 1);
  EXPECT_EQ(parsed->rows[1].organization().kind(), v1::ORGANIZATION_KIND_LH_HTX);
  EXPECT_EQ(parsed->rows[1].organization().sector(), v1::SECTOR_TRANSPORT);
  EXPECT_EQ(parsed->rows[1].organization().members(), 0);

  std::vector<std::string> problems;  // "line:column"
  for (const absl::Status& problem : parsed->problems) {
    EXPECT_THAT(problem, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(std::string(problem.message()), ::testing::HasSubstr("orgs.csv line "));
    problems.push_back(
        absl::StrCat(ErrorMetadata(problem, "line"), ":", ErrorMetadata(problem, "field")));
  }
  EXPECT_THAT(problems, ElementsAre("3:kind", "5:sector", "6:founding_date", "7:members", "8:"));
}

TEST(ParseOrganizationsCsvTest, RejectsAFileWithoutTheColumns) {
  EXPECT_THAT(ParseOrganizationsCsv("registration_code,kind\n01,HTX\n", "orgs.csv"),
              InvalidArgumentFor("display_name"));
}

TEST(ParseIsoDateTest, AcceptsOnlyRealDates) {
  absl::StatusOr<type::v1::Date> date = ParseIsoDate("2025-07-01", "as_of");
  ASSERT_TRUE(date.ok()) << date.status();
  EXPECT_EQ(ToDayKey(*date), 20250701);
  EXPECT_THAT(ParseIsoDate("2025-7-1", "as_of"), InvalidArgumentFor("as_of"));
  EXPECT_THAT(ParseIsoDate("2025-02-29", "as_of"), InvalidArgumentFor("as_of"));
  EXPECT_THAT(ParseIsoDate("", "as_of"), InvalidArgumentFor("as_of"));
}

}  // namespace
}  // namespace htx::registry
