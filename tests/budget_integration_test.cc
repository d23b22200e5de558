// The budget service over real gRPC: a server on port 0, a RocksDB store in a
// temp directory, the shipped 2026 catalog and Hà Nội's printed Phụ lục III,
// every RPC's documented behaviour, and the bad input each must refuse
// without writing.
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/testing.h"
#include "gtest/gtest.h"
#include "services/budget/budget_harness.h"
#include "services/budget/catalog_data.h"

namespace htx::budget {
namespace {

using ::htx::testing::Context;
using ::htx::testing::InvalidArgumentFor;
using ::htx::testing::StatusIs;
using ::htx::testing::StatusIsWithReason;
using ::htx::testing::TestPrincipal;
using ::testing::HasSubstr;

constexpr char kProvince[] = "provinces/01";
constexpr char kOtherProvince[] = "provinces/04";
constexpr char kCommune1[] = "provinces/01/communes/00001";
constexpr char kCommune2[] = "provinces/01/communes/00002";
constexpr char kAgency[] = "provinces/01/agencies/so-tai-chinh";
// Hà Nội's Phụ lục III as transcribed, relative to the project root.
constexpr char kHanoiPhuLuc3[] = "../shared/domain/hanoi-2026/phu-luc-3-budget.csv";
constexpr int kLinesOf2026 = 22;

// Documents print million đồng; the contract stores đồng.
constexpr int64_t Mn(int64_t millions) { return millions * 1000000; }

type::v1::Date D(int y, int m, int d) {
  type::v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

std::string NeedName(const std::string& unit, const std::string& code, int year = 2026) {
  return absl::StrCat(unit, "/budget-needs/", year, "/", code);
}

std::string FindingName(const std::string& unit, const std::string& code,
                        const std::string& check) {
  return absl::StrCat(unit, "/budget-findings/2026/", code, "/", check);
}

std::string LockName(const std::string& unit) { return absl::StrCat(unit, "/budget-locks/2026"); }

// A need as a writer enters it; amounts in million đồng unless *Dong.
class NeedOf {
 public:
  NeedOf(const std::string& unit, const std::string& code, int year = 2026) {
    need_.set_name(NeedName(unit, code, year));
  }
  NeedOf& Central(int64_t millions) { return CentralDong(Mn(millions)); }
  NeedOf& Local(int64_t millions) { return LocalDong(Mn(millions)); }
  NeedOf& Other(int64_t millions) {
    need_.mutable_planned()->set_other_dong(Mn(millions));
    return *this;
  }
  NeedOf& Unspecified(int64_t millions) {
    need_.mutable_planned()->set_unspecified_dong(Mn(millions));
    return *this;
  }
  NeedOf& CentralDong(int64_t dong) {
    need_.mutable_planned()->set_central_dong(dong);
    return *this;
  }
  NeedOf& LocalDong(int64_t dong) {
    need_.mutable_planned()->set_local_dong(dong);
    return *this;
  }
  NeedOf& Beneficiaries(int64_t count) {
    need_.set_beneficiaries(count);
    return *this;
  }
  NeedOf& Stated(int64_t millions) {
    need_.set_stated_total_dong(Mn(millions));
    return *this;
  }
  NeedOf& Note(const std::string& note) {
    need_.set_note(note);
    return *this;
  }
  NeedOf& Etag(const std::string& etag) {
    need_.set_etag(etag);
    return *this;
  }
  operator v1::Need() const { return need_; }  // NOLINT: reads as a builder

 private:
  v1::Need need_;
};

v1::NeedWrite Row(const v1::Need& need, const std::string& request_id) {
  v1::NeedWrite row;
  *row.mutable_need() = need;
  row.set_request_id(request_id);
  return row;
}

// A catalog of 2027 with what the shipped one lacks: a line without
// source_split ("A") beside a parent with two split leaves.
v1::ImportCatalogRequest TestCatalog2027() {
  v1::ImportCatalogRequest request;
  request.mutable_catalog()->set_year(2027);
  v1::CatalogTable* table = request.mutable_catalog()->add_tables();
  table->set_id("phu-luc-3");
  table->set_funding_kind(v1::FUNDING_KIND_RECURRENT);
  auto add = [&](const std::string& code, const std::string& parent, int sort_key, bool split) {
    v1::Line* line = request.add_lines();
    line->set_code(code);
    line->set_table("phu-luc-3");
    line->set_parent(parent);
    line->set_sort_key(sort_key);
    line->set_label(absl::StrCat("Dòng ", code));
    line->set_source_split(split);
  };
  add("A", "", 10, false);
  add("B", "", 20, true);
  add("B.1", "B", 30, true);
  add("B.2", "B", 40, true);
  return request;
}

// One IngestNeeds message on its own stream; its answer.
v1::IngestNeedsResponse IngestOnce(v1::BudgetService::Stub& stub,
                                   const v1::IngestNeedsRequest& batch) {
  auto context = Context(30);
  auto stream = stub.IngestNeeds(context.get());
  v1::IngestNeedsResponse response;
  EXPECT_TRUE(stream->Write(batch));
  EXPECT_TRUE(stream->Read(&response));
  EXPECT_TRUE(stream->WritesDone());
  grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

registry::v1::CountRow CountRow(registry::v1::OrganizationKind kind, registry::v1::Sector sector,
                                int64_t total) {
  registry::v1::CountRow row;
  row.set_kind(kind);
  row.set_sector(sector);
  row.set_total(total);
  return row;
}

const v1::Finding* FindFinding(const v1::ListFindingsResponse& response, const std::string& name) {
  for (const v1::Finding& finding : response.findings()) {
    if (finding.name() == name) return &finding;
  }
  return nullptr;
}

class BudgetIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<v1::ImportCatalogRequest> catalog = LoadCatalogFile(kCatalog2026Path);
    HTX_ASSERT_OK(catalog.status());
    catalog_ = *catalog;
    v1::Catalog imported;
    HTX_ASSERT_OK(stub().ImportCatalog(Context().get(), catalog_, &imported));
  }

  v1::BudgetService::Stub& stub() { return harness_.stub(); }

  grpc::Status Upsert(const std::string& unit, std::vector<v1::Need> needs,
                      v1::BatchUpsertNeedsResponse* response, const std::string& request_id = "",
                      v1::BudgetService::Stub* as = nullptr, int year = 2026) {
    v1::BatchUpsertNeedsRequest request;
    request.set_parent(unit);
    request.set_year(year);
    request.set_source_system("web");
    request.set_request_id(request_id);
    for (v1::Need& need : needs) *request.add_writes()->mutable_need() = std::move(need);
    return (as != nullptr ? *as : stub()).BatchUpsertNeeds(Context().get(), request, response);
  }

  void UpsertOk(const std::string& unit, std::vector<v1::Need> needs, int year = 2026) {
    v1::BatchUpsertNeedsResponse response;
    grpc::Status status = Upsert(unit, std::move(needs), &response, "", nullptr, year);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  grpc::Status Update(const v1::Need& need, const std::vector<std::string>& paths, v1::Need* out,
                      bool allow_missing = true, const std::string& request_id = "",
                      v1::BudgetService::Stub* as = nullptr) {
    v1::UpdateNeedRequest request;
    *request.mutable_need() = need;
    for (const std::string& path : paths) request.mutable_update_mask()->add_paths(path);
    request.set_allow_missing(allow_missing);
    request.set_source_system("web");
    request.set_request_id(request_id);
    return (as != nullptr ? *as : stub()).UpdateNeed(Context().get(), request, out);
  }

  grpc::Status GetNeed(const std::string& name, v1::Need* need) {
    v1::GetNeedRequest request;
    request.set_name(name);
    return stub().GetNeed(Context().get(), request, need);
  }

  void ExpectNoNeed(const std::string& name) {
    v1::Need need;
    EXPECT_THAT(GetNeed(name, &need), StatusIs(absl::StatusCode::kNotFound)) << name;
  }

  std::vector<v1::Need> ListNeeds(const std::string& unit, int year = 2026) {
    v1::ListNeedsRequest request;
    request.set_parent(unit);
    request.set_year(year);
    v1::ListNeedsResponse response;
    grpc::Status status = stub().ListNeeds(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(response.next_page_token().empty());
    return {response.needs().begin(), response.needs().end()};
  }

  std::map<std::string, v1::Need> NeedsByLine(const std::string& unit) {
    std::map<std::string, v1::Need> by_line;
    for (v1::Need& need : ListNeeds(unit)) by_line[need.line()] = std::move(need);
    return by_line;
  }

  // Hà Nội's Phụ lục III as provinces/01's needs, written as the importer
  // would: one NeedWrite per need, empty update_mask.
  void LoadHanoi() {
    absl::StatusOr<std::shared_ptr<const CatalogView>> view = CatalogView::Build(catalog_);
    HTX_ASSERT_OK(view.status());
    absl::StatusOr<PhuLuc3Import> hanoi = ParsePhuLuc3Csv(kHanoiPhuLuc3, kProvince, **view);
    HTX_ASSERT_OK(hanoi.status());
    UpsertOk(kProvince, hanoi->needs);
  }

  grpc::Status Lock(const std::string& unit, bool locked, type::v1::Lock* lock,
                    v1::BudgetService::Stub* as = nullptr) {
    type::v1::SetLockRequest request;
    request.set_name(LockName(unit));
    request.set_locked(locked);
    if (locked) request.set_holder(absl::StrCat(unit, "/submissions/2026-plan"));
    return (as != nullptr ? *as : harness_.service_stub()).SetLock(Context().get(), request, lock);
  }

  v1::ListFindingsResponse Findings(const std::string& unit, bool include_passed = true,
                                    bool blocking_only = false) {
    v1::ListFindingsRequest request;
    request.set_parent(unit);
    request.set_year(2026);
    request.set_include_passed(include_passed);
    request.set_blocking_only(blocking_only);
    v1::ListFindingsResponse response;
    grpc::Status status = stub().ListFindings(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status Explain(const std::string& name, v1::Finding* finding,
                       const std::string& etag = "") {
    v1::ExplainFindingRequest request;
    request.set_name(name);
    request.set_text("Số liệu đã đối chiếu với bản gốc của Sở Tài chính");
    request.set_etag(etag);
    return stub().ExplainFinding(Context().get(), request, finding);
  }

  // A record of `local` million đồng (or unspecified_dong on lines without
  // source_split) against the need `need`.
  grpc::Status Record(const std::string& need, const std::string& id, v1::FundingRecordKind kind,
                      const type::v1::Date& date, int64_t local, v1::FundingRecord* out) {
    v1::CreateFundingRecordRequest request;
    request.set_parent(need);
    request.set_record_id(id);
    request.set_source_system("stc-hanoi");
    v1::FundingRecord* record = request.mutable_record();
    record->set_kind(kind);
    *record->mutable_date() = date;
    record->mutable_amounts()->set_local_dong(Mn(local));
    record->set_document_number("1234/QĐ-UBND");
    return stub().CreateFundingRecord(Context().get(), request, out);
  }

  void RecordOk(const std::string& need, const std::string& id, v1::FundingRecordKind kind,
                const type::v1::Date& date, int64_t local) {
    v1::FundingRecord record;
    grpc::Status status = Record(need, id, kind, date, local, &record);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  std::vector<std::string> RecordIds(const v1::ListFundingRecordsRequest& request,
                                     std::string* next_page_token = nullptr) {
    v1::ListFundingRecordsResponse response;
    grpc::Status status = stub().ListFundingRecords(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> ids;
    for (const v1::FundingRecord& r : response.records()) {
      ids.push_back(r.name().substr(r.name().rfind('/') + 1));
    }
    if (next_page_token != nullptr) *next_page_token = response.next_page_token();
    return ids;
  }

  uint64_t LastSequence() {
    type::v1::ListChangesRequest request;
    type::v1::ListChangesResponse response;
    EXPECT_TRUE(stub().ListChanges(Context().get(), request, &response).ok());
    return response.last_sequence();
  }

  std::vector<type::v1::Change> ChangesAfter(uint64_t sequence) {
    type::v1::ListChangesRequest request;
    request.set_after_sequence(sequence);
    type::v1::ListChangesResponse response;
    EXPECT_TRUE(stub().ListChanges(Context().get(), request, &response).ok());
    return {response.changes().begin(), response.changes().end()};
  }

  v1::ImportCatalogRequest catalog_;
  BudgetHarness harness_;
};

// ---- Catalogs ----------------------------------------------------------------------

TEST_F(BudgetIntegrationTest, ShippedCatalogIsReadListedAndPaged) {
  v1::GetCatalogRequest get;
  get.set_name("catalogs/2026");
  v1::Catalog catalog;
  HTX_ASSERT_OK(stub().GetCatalog(Context().get(), get, &catalog));
  EXPECT_EQ(catalog.name(), "catalogs/2026");
  EXPECT_EQ(catalog.year(), 2026);
  EXPECT_EQ(catalog.line_count(), kLinesOf2026);
  ASSERT_EQ(catalog.tables_size(), 2);
  EXPECT_EQ(catalog.tables(0).id(), "phu-luc-3");
  EXPECT_EQ(catalog.tables(0).funding_kind(), v1::FUNDING_KIND_RECURRENT);
  EXPECT_EQ(catalog.tables(1).id(), "phu-luc-4");
  EXPECT_EQ(catalog.tables(1).funding_kind(), v1::FUNDING_KIND_INVESTMENT);
  EXPECT_FALSE(catalog.etag().empty());
  get.set_name("catalogs/2030");
  EXPECT_THAT(stub().GetCatalog(Context().get(), get, &catalog),
              StatusIs(absl::StatusCode::kNotFound));

  // Newest year first.
  v1::Catalog other;
  HTX_ASSERT_OK(stub().ImportCatalog(Context().get(), TestCatalog2027(), &other));
  v1::ListCatalogsResponse catalogs;
  HTX_ASSERT_OK(stub().ListCatalogs(Context().get(), v1::ListCatalogsRequest(), &catalogs));
  ASSERT_EQ(catalogs.catalogs_size(), 2);
  EXPECT_EQ(catalogs.catalogs(0).name(), "catalogs/2027");
  EXPECT_EQ(catalogs.catalogs(1).name(), "catalogs/2026");
  EXPECT_EQ(catalogs.catalogs(1).line_count(), kLinesOf2026);

  v1::GetLineRequest get_line;
  get_line.set_name("catalogs/2026/lines/I.3.1");
  v1::Line line;
  HTX_ASSERT_OK(stub().GetLine(Context().get(), get_line, &line));
  EXPECT_EQ(line.name(), "catalogs/2026/lines/I.3.1");
  EXPECT_EQ(line.parent(), "I.3");
  EXPECT_EQ(line.table(), "phu-luc-3");
  EXPECT_EQ(line.label(), "Hỗ trợ tư vấn thành lập mới tổ chức KTTT");
  EXPECT_EQ(line.beneficiary_kind(), v1::BENEFICIARY_KIND_OTHER);
  EXPECT_TRUE(line.source_split());
  EXPECT_FALSE(line.has_children());
  get_line.set_name("catalogs/2026/lines/I.3");
  HTX_ASSERT_OK(stub().GetLine(Context().get(), get_line, &line));
  EXPECT_TRUE(line.has_children());
  get_line.set_name("catalogs/2026/lines/I.99");
  EXPECT_THAT(stub().GetLine(Context().get(), get_line, &line),
              StatusIs(absl::StatusCode::kNotFound));

  // Pages of 5 walk every line once, in the file's order.
  v1::ListLinesRequest list;
  list.set_parent("catalogs/2026");
  list.set_page_size(5);
  std::vector<std::string> codes;
  int pages = 0;
  do {
    v1::ListLinesResponse page;
    HTX_ASSERT_OK(stub().ListLines(Context().get(), list, &page));
    EXPECT_LE(page.lines_size(), 5);
    for (const v1::Line& l : page.lines()) codes.push_back(l.code());
    list.set_page_token(page.next_page_token());
    ASSERT_LT(++pages, 10);
  } while (!list.page_token().empty());
  EXPECT_EQ(pages, 5);
  std::vector<std::string> file_order;
  for (const v1::Line& l : catalog_.lines()) file_order.push_back(l.code());
  EXPECT_EQ(codes, file_order);
  EXPECT_EQ(std::set<std::string>(codes.begin(), codes.end()).size(), codes.size());

  list.set_table("phu-luc-4");
  list.set_page_size(0);
  v1::ListLinesResponse investment;
  HTX_ASSERT_OK(stub().ListLines(Context().get(), list, &investment));
  ASSERT_EQ(investment.lines_size(), 2);
  EXPECT_EQ(investment.lines(0).code(), "DT.I");
  EXPECT_EQ(investment.lines(1).code(), "DT.II");
  list.set_table("");
  list.set_page_token("not-a-token");
  EXPECT_THAT(stub().ListLines(Context().get(), list, &investment),
              InvalidArgumentFor("page_token"));
  list.set_page_token("");
  list.set_table("phu-luc-9");
  EXPECT_THAT(stub().ListLines(Context().get(), list, &investment), InvalidArgumentFor("table"));
}

TEST_F(BudgetIntegrationTest, CatalogReplacementKeepsLinesWithData) {
  UpsertOk(kProvince, {NeedOf(kProvince, "I.1.a").Local(10)});
  const uint64_t before = LastSequence();

  // Dropping a line with a need is refused, also when only validating.
  v1::ImportCatalogRequest without_data = catalog_;
  without_data.mutable_lines()->erase(without_data.mutable_lines()->begin() + 2);  // I.1.a
  v1::Catalog catalog;
  EXPECT_THAT(stub().ImportCatalog(Context().get(), without_data, &catalog),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "CATALOG_IN_USE"));
  without_data.set_validate_only(true);
  EXPECT_THAT(stub().ImportCatalog(Context().get(), without_data, &catalog),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "CATALOG_IN_USE"));
  EXPECT_EQ(LastSequence(), before);

  // Dropping a line without data is a replacement.
  v1::ImportCatalogRequest smaller = catalog_;
  ASSERT_EQ(smaller.lines(kLinesOf2026 - 1).code(), "DT.II");
  smaller.mutable_lines()->RemoveLast();
  smaller.set_request_id("catalog-1");
  HTX_ASSERT_OK(stub().ImportCatalog(Context().get(), smaller, &catalog));
  EXPECT_EQ(catalog.line_count(), kLinesOf2026 - 1);
  std::vector<type::v1::Change> changes = ChangesAfter(before);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].resource(), "catalogs/2026");
  EXPECT_EQ(changes[0].kind(), type::v1::CHANGE_KIND_UPDATED);
  v1::Catalog replayed;
  HTX_ASSERT_OK(stub().ImportCatalog(Context().get(), smaller, &replayed));
  EXPECT_EQ(replayed.SerializeAsString(), catalog.SerializeAsString());
  EXPECT_EQ(LastSequence(), before + 1);
  // Reads follow the replaced catalog at once.
  v1::GetCatalogRequest get;
  get.set_name("catalogs/2026");
  HTX_ASSERT_OK(stub().GetCatalog(Context().get(), get, &catalog));
  EXPECT_EQ(catalog.line_count(), kLinesOf2026 - 1);
  v1::GetLineRequest get_line;
  get_line.set_name("catalogs/2026/lines/DT.II");
  v1::Line line;
  EXPECT_THAT(stub().GetLine(Context().get(), get_line, &line),
              StatusIs(absl::StatusCode::kNotFound));

  // Nor may a line keep its data under rules that no longer hold: amounts
  // of a leaf that would become a parent would vanish from every total, and
  // split amounts cannot stay on a line that takes none.
  v1::ImportCatalogRequest adopted = catalog_;
  v1::Line* child = adopted.add_lines();
  *child = adopted.lines(2);  // I.1.a
  child->set_code("I.1.a.1");
  child->set_parent("I.1.a");
  child->set_sort_key(1000);
  EXPECT_THAT(stub().ImportCatalog(Context().get(), adopted, &catalog),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "CATALOG_IN_USE"));
  v1::ImportCatalogRequest unsplit = catalog_;
  unsplit.mutable_lines(2)->set_source_split(false);
  EXPECT_THAT(stub().ImportCatalog(Context().get(), unsplit, &catalog),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "CATALOG_IN_USE"));
  v1::Need need;
  HTX_ASSERT_OK(GetNeed(NeedName(kProvince, "I.1.a"), &need));
  EXPECT_EQ(need.planned().total_dong(), Mn(10));

  // A broken tree names the line.
  v1::ImportCatalogRequest broken = catalog_;
  broken.mutable_lines(3)->set_parent("DT.I");  // another table's line
  EXPECT_THAT(stub().ImportCatalog(Context().get(), broken, &catalog),
              InvalidArgumentFor("lines[3].parent"));
}

// ---- Hà Nội's Phụ lục III ----------------------------------------------------------

TEST_F(BudgetIntegrationTest, HanoiPhuLuc3ReproducesEveryPrintedFigure) {
  LoadHanoi();
  std::vector<v1::Need> needs = ListNeeds(kProvince);
  std::vector<std::string> lines;
  for (const v1::Need& need : needs) lines.push_back(need.line());
  // Every line with data of its own or below, in catalog order.
  EXPECT_EQ(lines, (std::vector<std::string>{"I", "I.1", "I.1.a", "I.1.b", "I.1.d", "I.2", "I.3",
                                             "I.3.1", "I.3.2", "I.4", "I.5", "I.6"}));
  std::map<std::string, v1::Need> by_line = NeedsByLine(kProvince);

  const v1::Need& consulting = by_line["I.3"];
  EXPECT_EQ(consulting.name(), NeedName(kProvince, "I.3"));
  EXPECT_EQ(consulting.unit(), kProvince);
  EXPECT_EQ(consulting.year(), 2026);
  EXPECT_EQ(consulting.planned().total_dong(), 19498000000);
  EXPECT_EQ(consulting.planned().local_dong(), 19498000000);
  EXPECT_FALSE(consulting.planned().has_central_dong());
  EXPECT_EQ(consulting.stated_total_dong(), 19498000000);
  EXPECT_EQ(by_line["I.3.1"].planned().total_dong(), 3274000000);
  EXPECT_EQ(by_line["I.3.1"].planned().local_dong(), 3274000000);
  EXPECT_EQ(by_line["I.3.2"].planned().total_dong(), 16224000000);

  const v1::Need& market = by_line["I.6"];
  EXPECT_EQ(market.planned().central_dong(), 50000000000);
  EXPECT_EQ(market.planned().local_dong(), 51158000000);
  EXPECT_EQ(market.planned().other_dong(), 25000000000);
  EXPECT_EQ(market.planned().total_dong(), 126158000000);
  EXPECT_FALSE(market.planned().has_unspecified_dong());
  EXPECT_FALSE(market.has_stated_total_dong());

  // Totals printed without a split stay unspecified.
  EXPECT_EQ(by_line["I.1.d"].planned().unspecified_dong(), Mn(180));
  EXPECT_EQ(by_line["I.2"].planned().unspecified_dong(), Mn(316));
  EXPECT_EQ(by_line["I.1"].planned().local_dong(), Mn(1107 + 6777));
  EXPECT_EQ(by_line["I.1"].planned().total_dong(), Mn(8064));

  const v1::Need& general = by_line["I"];
  EXPECT_EQ(general.planned().total_dong(), 155074000000);
  EXPECT_EQ(general.planned().central_dong(), Mn(50000));
  EXPECT_EQ(general.planned().local_dong(), Mn(1107 + 6777 + 19498 + 700 + 338 + 51158));
  EXPECT_EQ(general.planned().other_dong(), Mn(25000));
  EXPECT_EQ(general.planned().unspecified_dong(), Mn(180 + 316));
  EXPECT_FALSE(general.has_beneficiaries());

  const std::map<std::string, int64_t> beneficiaries = {
      {"I.1.a", 61},  {"I.1.b", 3490}, {"I.1.d", 20}, {"I.2", 700}, {"I.3", 240},
      {"I.3.2", 240}, {"I.4", 10},     {"I.5", 20},   {"I.6", 500}};
  for (const auto& [code, count] : beneficiaries) {
    ASSERT_TRUE(by_line[code].has_beneficiaries()) << code;
    EXPECT_EQ(by_line[code].beneficiaries(), count) << code;
  }
  EXPECT_FALSE(by_line["I.3.1"].has_beneficiaries());
  // Printed as the catalog's unit: stored empty, which means the line's.
  EXPECT_EQ(by_line["I.3.1"].beneficiary_unit(), "");
  EXPECT_EQ(by_line["I.4"].note(), "Đề xuất kinh phí khi Trung ương có kế hoạch triển khai cụ thể");
  EXPECT_EQ(by_line["I.1.a"].revision(), 1);
  EXPECT_EQ(by_line["I.1.a"].provenance().source_system(), "web");
  EXPECT_EQ(by_line["I.1.a"].provenance().author(), "test:ministry_admin@");

  // Pages of 5 give the same needs in the same order.
  v1::ListNeedsRequest list;
  list.set_parent(kProvince);
  list.set_year(2026);
  list.set_page_size(5);
  std::vector<std::string> paged;
  do {
    v1::ListNeedsResponse page;
    HTX_ASSERT_OK(stub().ListNeeds(Context().get(), list, &page));
    for (const v1::Need& n : page.needs()) paged.push_back(n.line());
    list.set_page_token(page.next_page_token());
    ASSERT_LE(paged.size(), lines.size());
  } while (!list.page_token().empty());
  EXPECT_EQ(paged, lines);
  list.set_table("phu-luc-4");
  v1::ListNeedsResponse investment;
  HTX_ASSERT_OK(stub().ListNeeds(Context().get(), list, &investment));
  EXPECT_EQ(investment.needs_size(), 0);

  // A parent computed from its children is readable on its own.
  v1::Need need;
  HTX_ASSERT_OK(GetNeed(NeedName(kProvince, "I"), &need));
  EXPECT_EQ(need.planned().total_dong(), 155074000000);
  ExpectNoNeed(NeedName(kProvince, "II"));
  ExpectNoNeed(NeedName(kProvince, "I.1.c"));
  EXPECT_THAT(GetNeed(NeedName(kProvince, "I.99"), &need), InvalidArgumentFor("name"));
}

TEST_F(BudgetIntegrationTest, HanoiPhuLuc3FindingsAreExactlyThePrintedProblems) {
  LoadHanoi();
  // Leaves printed with both a total and sources carry the total as stated
  // (it passes); the registry stand-in answers no counts, so the
  // organisation lines are not checkable.
  const std::map<std::string, v1::FindingOutcome> expected = {
      {FindingName(kProvince, "I.1.a", "stated-total"), v1::FINDING_OUTCOME_PASSED},
      {FindingName(kProvince, "I.1.b", "stated-total"), v1::FINDING_OUTCOME_PASSED},
      {FindingName(kProvince, "I.3", "stated-total"), v1::FINDING_OUTCOME_PASSED},
      {FindingName(kProvince, "I.3.1", "stated-total"), v1::FINDING_OUTCOME_PASSED},
      {FindingName(kProvince, "I.3.2", "stated-total"), v1::FINDING_OUTCOME_PASSED},
      {FindingName(kProvince, "I.4", "stated-total"), v1::FINDING_OUTCOME_PASSED},
      {FindingName(kProvince, "I.5", "stated-total"), v1::FINDING_OUTCOME_PASSED},
      {FindingName(kProvince, "I.1.d", "source-split"), v1::FINDING_OUTCOME_FAILED},
      {FindingName(kProvince, "I.2", "source-split"), v1::FINDING_OUTCOME_FAILED},
      {FindingName(kProvince, "I.1.d", "printed-unclear"), v1::FINDING_OUTCOME_FAILED},
      {FindingName(kProvince, "I.2", "printed-unclear"), v1::FINDING_OUTCOME_FAILED},
      {FindingName(kProvince, "I.3", "printed-unclear"), v1::FINDING_OUTCOME_FAILED},
      {FindingName(kProvince, "I.4", "printed-unclear"), v1::FINDING_OUTCOME_FAILED},
      {FindingName(kProvince, "I.6", "printed-unclear"), v1::FINDING_OUTCOME_FAILED},
      {FindingName(kProvince, "I.2", "beneficiaries-registry"), v1::FINDING_OUTCOME_NOT_CHECKABLE},
      {FindingName(kProvince, "I.3", "beneficiaries-registry"), v1::FINDING_OUTCOME_NOT_CHECKABLE},
      {FindingName(kProvince, "I.4", "beneficiaries-registry"), v1::FINDING_OUTCOME_NOT_CHECKABLE},
      {FindingName(kProvince, "I.5", "beneficiaries-registry"), v1::FINDING_OUTCOME_NOT_CHECKABLE},
      {FindingName(kProvince, "I.6", "beneficiaries-registry"), v1::FINDING_OUTCOME_NOT_CHECKABLE},
  };
  v1::ListFindingsResponse all = Findings(kProvince);
  std::map<std::string, v1::FindingOutcome> got;
  for (const v1::Finding& f : all.findings()) got[f.name()] = f.outcome();
  EXPECT_EQ(got, expected);

  // Catalog order of the lines.
  std::vector<std::string> order;
  for (const v1::Line& line : catalog_.lines()) order.push_back(line.code());
  int last = -1;
  for (const v1::Finding& f : all.findings()) {
    const int at = std::find(order.begin(), order.end(), f.line()) - order.begin();
    EXPECT_GE(at, last) << f.name();
    last = at;
  }

  const v1::Finding* stated = FindFinding(all, FindingName(kProvince, "I.3", "stated-total"));
  ASSERT_NE(stated, nullptr);
  EXPECT_EQ(stated->severity(), v1::SEVERITY_ERROR);
  EXPECT_EQ(stated->stated(), 19498000000);
  EXPECT_EQ(stated->expected(), 19498000000);
  EXPECT_EQ(stated->message(), "Tổng 19.498 = 3.274 + 16.224 (triệu đồng)");
  EXPECT_FALSE(stated->blocks_submission());
  const v1::Finding* split = FindFinding(all, FindingName(kProvince, "I.2", "source-split"));
  ASSERT_NE(split, nullptr);
  EXPECT_EQ(split->severity(), v1::SEVERITY_WARNING);
  EXPECT_EQ(split->stated(), Mn(316));
  EXPECT_EQ(split->expected(), 0);
  EXPECT_TRUE(split->blocks_submission());
  // Each unclear line carries the transcriber's note.
  const std::map<std::string, std::string> notes = {
      {"I.1.d", "source split not printed"},
      {"I.2", "source split not printed"},
      {"I.3", "printed as 'Cộng (3.1) và (3.2)'"},
      {"I.4", "a second count 12 is printed"},
      {"I.6", "printed: counts 500 and 523; amounts 50,000 (central) and 51,158 (local)"}};
  for (const auto& [code, note] : notes) {
    const v1::Finding* f = FindFinding(all, FindingName(kProvince, code, "printed-unclear"));
    ASSERT_NE(f, nullptr) << code;
    EXPECT_THAT(f->message(), HasSubstr(note));
    EXPECT_FALSE(f->has_stated()) << code;
    EXPECT_TRUE(f->blocks_submission()) << code;
  }

  const v1::FindingSummary& summary = all.summary();
  EXPECT_EQ(summary.errors(), 0);
  EXPECT_EQ(summary.warnings(), 7);
  EXPECT_EQ(summary.unexplained_warnings(), 7);
  EXPECT_EQ(summary.not_checkable(), 5);
  EXPECT_EQ(summary.blocking(), 7);

  // Filters narrow the list, never the summary.
  v1::ListFindingsResponse open = Findings(kProvince, /*include_passed=*/false);
  EXPECT_EQ(open.findings_size(), 12);
  EXPECT_EQ(FindFinding(open, FindingName(kProvince, "I.3", "stated-total")), nullptr);
  EXPECT_EQ(open.summary().SerializeAsString(), summary.SerializeAsString());
  v1::ListFindingsResponse blocking = Findings(kProvince, false, /*blocking_only=*/true);
  EXPECT_EQ(blocking.findings_size(), 7);
  for (const v1::Finding& f : blocking.findings()) {
    EXPECT_EQ(f.outcome(), v1::FINDING_OUTCOME_FAILED) << f.name();
    EXPECT_TRUE(f.blocks_submission()) << f.name();
  }
  EXPECT_EQ(blocking.summary().blocking(), 7);
}

// ---- Bad input ---------------------------------------------------------------------

TEST_F(BudgetIntegrationTest, BadBatchesAreRefusedWholeNamingTheField) {
  v1::Catalog other;
  HTX_ASSERT_OK(stub().ImportCatalog(Context().get(), TestCatalog2027(), &other));
  const uint64_t before = LastSequence();
  constexpr int64_t kNearMax = std::numeric_limits<int64_t>::max() - 1;
  const v1::Need good = NeedOf(kProvince, "I.1.a").Local(5);
  struct Case {
    std::string what;
    std::string unit;
    int year;
    std::vector<v1::Need> needs;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"negative amount",
       kProvince,
       2026,
       {NeedOf(kProvince, "I.1.a").Local(-1)},
       "writes[0].need.planned.local_dong"},
      {"unknown line",
       kProvince,
       2026,
       {good, NeedOf(kProvince, "I.99").Local(1)},
       "writes[1].need.name"},
      {"split on a line without split",
       kProvince,
       2027,
       {NeedOf(kProvince, "A", 2027).Central(1)},
       "writes[0].need.planned.central_dong"},
      {"amounts on a parent",
       kProvince,
       2026,
       {good, NeedOf(kProvince, "I.3").Local(1)},
       "writes[1].need.planned.local_dong"},
      {"sum beyond int64",
       kProvince,
       2027,
       {NeedOf(kProvince, "B.1", 2027).LocalDong(kNearMax),
        NeedOf(kProvince, "B.2", 2027).LocalDong(kNearMax)},
       "writes"},
      {"another unit",
       kProvince,
       2026,
       {good, NeedOf(kOtherProvince, "I.1.b").Local(1)},
       "writes[1].need.name"},
      {"another year",
       kProvince,
       2026,
       {NeedOf(kProvince, "B.1", 2027).Local(1)},
       "writes[0].need.name"},
      {"named twice",
       kProvince,
       2026,
       {good, NeedOf(kProvince, "I.1.a").Local(6)},
       "writes[1].need.name"},
      {"negative beneficiaries",
       kProvince,
       2026,
       {NeedOf(kProvince, "I.1.b").Beneficiaries(-3)},
       "writes[0].need.beneficiaries"},
      {"no writes", kProvince, 2026, {}, "writes"},
  };
  for (const Case& c : cases) {
    v1::BatchUpsertNeedsResponse response;
    EXPECT_THAT(Upsert(c.unit, c.needs, &response, "", nullptr, c.year),
                InvalidArgumentFor(c.field))
        << c.what;
  }
  std::vector<v1::Need> too_many;
  for (int i = 0; i < 1001; ++i) too_many.push_back(good);
  v1::BatchUpsertNeedsResponse response;
  EXPECT_THAT(Upsert(kProvince, too_many, &response), InvalidArgumentFor("writes"));
  v1::BatchUpsertNeedsRequest no_source;
  no_source.set_parent(kProvince);
  no_source.set_year(2026);
  *no_source.add_writes()->mutable_need() = good;
  EXPECT_THAT(stub().BatchUpsertNeeds(Context().get(), no_source, &response),
              InvalidArgumentFor("source_system"));

  // Nothing of any refused batch was written.
  EXPECT_EQ(LastSequence(), before);
  for (const std::string& name :
       {NeedName(kProvince, "I.1.a"), NeedName(kProvince, "I.1.b"), NeedName(kProvince, "I.3"),
        NeedName(kOtherProvince, "I.1.b"), NeedName(kProvince, "B", 2027)}) {
    ExpectNoNeed(name);
  }
}

TEST_F(BudgetIntegrationTest, UpdateNeedMasksEtagsAndRequestIds) {
  v1::Need need;
  HTX_ASSERT_OK(Update(NeedOf(kProvince, "I.1.a")
                           .Central(10)
                           .Local(1107)
                           .Beneficiaries(61)
                           .Note("Kế hoạch 381/KH-UBND"),
                       {"planned", "beneficiaries", "note"}, &need));
  EXPECT_EQ(need.revision(), 1);
  EXPECT_EQ(need.planned().total_dong(), Mn(1117));
  const std::string first_etag = need.etag();

  // Only the masked source changes.
  HTX_ASSERT_OK(Update(NeedOf(kProvince, "I.1.a").Local(2000), {"planned.local_dong"}, &need));
  EXPECT_EQ(need.revision(), 2);
  EXPECT_EQ(need.planned().local_dong(), Mn(2000));
  EXPECT_EQ(need.planned().central_dong(), Mn(10));
  EXPECT_EQ(need.planned().total_dong(), Mn(2010));
  EXPECT_EQ(need.beneficiaries(), 61);
  EXPECT_EQ(need.note(), "Kế hoạch 381/KH-UBND");
  EXPECT_EQ(need.provenance().source_system(), "web");
  // A masked field left unset clears to blank.
  HTX_ASSERT_OK(Update(NeedOf(kProvince, "I.1.a"), {"planned.central_dong"}, &need));
  EXPECT_FALSE(need.planned().has_central_dong());
  EXPECT_EQ(need.planned().total_dong(), Mn(2000));
  EXPECT_EQ(need.revision(), 3);

  EXPECT_THAT(Update(NeedOf(kProvince, "I.1.a").Local(1).Etag(first_etag), {"planned"}, &need),
              StatusIsWithReason(absl::StatusCode::kAborted, "STALE_ETAG"));
  EXPECT_THAT(Update(NeedOf(kProvince, "I.1.b").Local(1), {"planned"}, &need,
                     /*allow_missing=*/false),
              StatusIs(absl::StatusCode::kNotFound));
  ExpectNoNeed(NeedName(kProvince, "I.1.b"));
  EXPECT_THAT(Update(NeedOf(kProvince, "I.1.a").Local(1), {}, &need),
              InvalidArgumentFor("update_mask"));
  EXPECT_THAT(Update(NeedOf(kProvince, "I.1.a").Local(1), {"revision"}, &need),
              InvalidArgumentFor("update_mask"));
  EXPECT_THAT(Update(NeedOf(kProvince, "I.1.a").Local(1), {"planned.total_dong"}, &need),
              InvalidArgumentFor("update_mask"));
  EXPECT_THAT(Update(NeedOf(kProvince, "I.3").Local(1), {"planned.local_dong"}, &need),
              InvalidArgumentFor("update_mask"));
  EXPECT_THAT(Update(NeedOf(kProvince, "I.3").Stated(5), {"planned", "stated_total_dong"}, &need),
              InvalidArgumentFor("update_mask"));
  ExpectNoNeed(NeedName(kProvince, "I.3"));

  // A retry replays the first answer and writes nothing again.
  v1::Need first;
  HTX_ASSERT_OK(
      Update(NeedOf(kProvince, "I.1.a").Local(2100), {"planned.local_dong"}, &first, true, "u-1"));
  EXPECT_EQ(first.revision(), 4);
  const uint64_t sequence = LastSequence();
  v1::Need again;
  HTX_ASSERT_OK(
      Update(NeedOf(kProvince, "I.1.a").Local(2100), {"planned.local_dong"}, &again, true, "u-1"));
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(LastSequence(), sequence);
  EXPECT_THAT(
      Update(NeedOf(kProvince, "I.1.a").Local(2200), {"planned.local_dong"}, &again, true, "u-1"),
      StatusIsWithReason(absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));

  // Writing what is stored makes no revision and no change.
  v1::Need same;
  HTX_ASSERT_OK(Update(NeedOf(kProvince, "I.1.a").Local(2100), {"planned.local_dong"}, &same));
  EXPECT_EQ(same.revision(), 4);
  EXPECT_EQ(same.etag(), first.etag());
  v1::BatchUpsertNeedsResponse batch;
  HTX_ASSERT_OK(Upsert(
      kProvince,
      {NeedOf(kProvince, "I.1.a").Local(2100).Beneficiaries(61).Note("Kế hoạch 381/KH-UBND")},
      &batch));
  ASSERT_EQ(batch.needs_size(), 1);
  EXPECT_EQ(batch.needs(0).revision(), 4);
  EXPECT_EQ(LastSequence(), sequence);
  GetNeed(NeedName(kProvince, "I.1.a"), &same);
  EXPECT_EQ(same.provenance().request_id(), "u-1");
}

// ---- Bulk ingest -------------------------------------------------------------------

TEST_F(BudgetIntegrationTest, IngestKeepsGoodRowsAndReportsBadOnes) {
  v1::IngestNeedsRequest batch;
  batch.set_source_system("stc-sync");
  *batch.add_rows() = Row(NeedOf(kProvince, "I.1.a").Local(1107), "row-0");
  *batch.add_rows() = Row(NeedOf(kOtherProvince, "I.1.b").Local(6), "row-1");
  *batch.add_rows() = Row(NeedOf(kProvince, "I.1.b").Local(-6), "row-2");
  *batch.add_rows() = Row(NeedOf(kProvince, "I.1.d").Local(3), "");
  *batch.add_rows() = Row(NeedOf(kProvince, "I.3").Local(3), "row-4");
  *batch.add_rows() = Row(NeedOf(kProvince, "I.1.e", 2031).Local(3), "row-5");
  auto context = Context(30);
  auto stream = stub().IngestNeeds(context.get());
  ASSERT_TRUE(stream->Write(batch));
  v1::IngestNeedsResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_EQ(response.results_size(), 6);
  EXPECT_EQ(response.applied(), 2);
  EXPECT_EQ(response.already_applied(), 0);
  EXPECT_EQ(response.rejected(), 4);
  EXPECT_EQ(response.results(0).outcome(), type::v1::RowResult::OUTCOME_APPLIED);
  EXPECT_EQ(response.results(0).resource(), NeedName(kProvince, "I.1.a"));
  EXPECT_EQ(response.results(1).outcome(), type::v1::RowResult::OUTCOME_APPLIED);
  const std::map<int, std::pair<int, std::string>> rejected = {
      {2, {grpc::StatusCode::INVALID_ARGUMENT, "rows[2].need.planned.local_dong"}},
      {3, {grpc::StatusCode::INVALID_ARGUMENT, "rows[3].request_id"}},
      {4, {grpc::StatusCode::INVALID_ARGUMENT, "rows[4].need.planned.local_dong"}},
      {5, {grpc::StatusCode::NOT_FOUND, "catalogs/2031"}}};
  for (const auto& [index, problem] : rejected) {
    const type::v1::RowResult& result = response.results(index);
    EXPECT_EQ(result.index(), index);
    EXPECT_EQ(result.outcome(), type::v1::RowResult::OUTCOME_REJECTED) << index;
    EXPECT_EQ(result.code(), problem.first) << index;
    EXPECT_THAT(result.message(), HasSubstr(problem.second)) << index;
    EXPECT_TRUE(result.resource().empty()) << index;
  }

  // Re-sent, the good rows are already applied and nothing is written.
  const uint64_t sequence = LastSequence();
  ASSERT_TRUE(stream->Write(batch));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.applied(), 0);
  EXPECT_EQ(response.already_applied(), 2);
  EXPECT_EQ(response.rejected(), 4);
  EXPECT_EQ(response.results(1).outcome(), type::v1::RowResult::OUTCOME_ALREADY_APPLIED);
  EXPECT_EQ(response.results(1).resource(), NeedName(kOtherProvince, "I.1.b"));
  EXPECT_EQ(LastSequence(), sequence);
  ASSERT_TRUE(stream->WritesDone());
  HTX_ASSERT_OK(stream->Finish());

  v1::Need need;
  HTX_ASSERT_OK(GetNeed(NeedName(kProvince, "I.1.a"), &need));
  EXPECT_EQ(need.planned().local_dong(), Mn(1107));
  EXPECT_EQ(need.provenance().source_system(), "stc-sync");
  EXPECT_EQ(need.provenance().request_id(), "row-0");
  ExpectNoNeed(NeedName(kProvince, "I.1.b"));
  ExpectNoNeed(NeedName(kProvince, "I.1.d"));

  // A message without source_system is malformed as a whole.
  v1::IngestNeedsRequest unsourced = batch;
  unsourced.clear_source_system();
  auto context2 = Context(30);
  auto stream2 = stub().IngestNeeds(context2.get());
  ASSERT_TRUE(stream2->Write(unsourced));
  EXPECT_FALSE(stream2->Read(&response));
  EXPECT_THAT(stream2->Finish(), InvalidArgumentFor("source_system"));
}

// ---- Locks -------------------------------------------------------------------------

TEST_F(BudgetIntegrationTest, LockedUnitYearKeepsItsPlanButTakesExecution) {
  UpsertOk(kProvince,
           {NeedOf(kProvince, "I.1.a").Local(100), NeedOf(kProvince, "I.2").Unspecified(316)});
  type::v1::GetLockRequest get;
  get.set_name(LockName(kProvince));
  type::v1::Lock lock;
  HTX_ASSERT_OK(stub().GetLock(Context().get(), get, &lock));
  EXPECT_EQ(lock.name(), LockName(kProvince));
  EXPECT_FALSE(lock.locked());

  EXPECT_THAT(Lock(kProvince, true, &lock, &stub()), StatusIs(absl::StatusCode::kPermissionDenied));
  HTX_ASSERT_OK(Lock(kProvince, true, &lock));
  EXPECT_TRUE(lock.locked());
  EXPECT_EQ(lock.holder(), "provinces/01/submissions/2026-plan");
  const uint64_t locked_at = LastSequence();

  v1::Need need;
  EXPECT_THAT(Update(NeedOf(kProvince, "I.1.a").Local(1), {"planned"}, &need),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "LOCKED"));
  v1::BatchUpsertNeedsResponse batch;
  EXPECT_THAT(Upsert(kProvince, {NeedOf(kProvince, "I.1.b").Local(1)}, &batch),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "LOCKED"));
  v1::IngestNeedsRequest ingest;
  ingest.set_source_system("stc-sync");
  *ingest.add_rows() = Row(NeedOf(kProvince, "I.1.b").Local(1), "locked-0");
  *ingest.add_rows() = Row(NeedOf(kOtherProvince, "I.1.b").Local(1), "locked-1");
  v1::IngestNeedsResponse ingested = IngestOnce(stub(), ingest);
  ASSERT_EQ(ingested.results_size(), 2);
  EXPECT_EQ(ingested.results(0).code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ingested.results(0).reason(), "LOCKED");
  EXPECT_THAT(ingested.results(0).message(), HasSubstr(LockName(kProvince)));
  EXPECT_EQ(ingested.results(1).outcome(), type::v1::RowResult::OUTCOME_APPLIED);
  v1::Catalog catalog;
  EXPECT_THAT(stub().ImportCatalog(Context().get(), catalog_, &catalog),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "CATALOG_IN_USE"));
  v1::Finding finding;
  EXPECT_THAT(Explain(FindingName(kProvince, "I.2", "source-split"), &finding),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "LOCKED"));
  // The locked plan wrote nothing but the other province's row.
  EXPECT_EQ(LastSequence(), locked_at + 1);

  // Execution follows approval: records and their findings stay writable.
  RecordOk(NeedName(kProvince, "I.1.a"), "alloc-1", v1::FUNDING_RECORD_KIND_ALLOCATION,
           D(2026, 2, 1), 40);
  RecordOk(NeedName(kProvince, "I.1.a"), "disb-1", v1::FUNDING_RECORD_KIND_DISBURSEMENT,
           D(2026, 3, 1), 55);
  HTX_ASSERT_OK(Explain(FindingName(kProvince, "I.1.a", "over-disbursed"), &finding));
  EXPECT_TRUE(finding.has_explanation());
  EXPECT_FALSE(finding.blocks_submission());

  HTX_ASSERT_OK(Lock(kProvince, false, &lock));
  EXPECT_FALSE(lock.locked());
  HTX_ASSERT_OK(Update(NeedOf(kProvince, "I.1.a").Local(120), {"planned"}, &need));
  EXPECT_EQ(need.planned().total_dong(), Mn(120));
  HTX_ASSERT_OK(Explain(FindingName(kProvince, "I.2", "source-split"), &finding));
  HTX_ASSERT_OK(stub().ImportCatalog(Context().get(), catalog_, &catalog));
}

// ---- Allocations and disbursements -------------------------------------------------

TEST_F(BudgetIntegrationTest, FundingRecordsFillExecutionAndAreListedByDate) {
  LoadHanoi();
  const std::string training = NeedName(kProvince, "I.1.a");
  const std::string fostering = NeedName(kProvince, "I.1.b");
  RecordOk(training, "alloc-1", v1::FUNDING_RECORD_KIND_ALLOCATION, D(2026, 2, 1), 100);
  RecordOk(training, "disb-2", v1::FUNDING_RECORD_KIND_DISBURSEMENT, D(2026, 6, 15), 39);
  RecordOk(training, "disb-1", v1::FUNDING_RECORD_KIND_DISBURSEMENT, D(2026, 3, 10), 20);
  RecordOk(fostering, "alloc-2", v1::FUNDING_RECORD_KIND_ALLOCATION, D(2026, 4, 1), 50);

  v1::Need need;
  HTX_ASSERT_OK(GetNeed(training, &need));
  EXPECT_EQ(need.planned().total_dong(), Mn(1107));
  EXPECT_EQ(need.execution().allocated().local_dong(), Mn(100));
  EXPECT_EQ(need.execution().allocated().total_dong(), Mn(100));
  EXPECT_EQ(need.execution().disbursed().total_dong(), Mn(59));
  EXPECT_EQ(need.execution().disbursement_rate_bp(), 533);  // 59 / 1 107 = 5,33 %
  EXPECT_EQ(need.execution().disbursed_of_allocated_bp(), 5900);
  EXPECT_EQ(need.execution().last_disbursement_date().SerializeAsString(),
            D(2026, 6, 15).SerializeAsString());
  // A parent adds up its children's execution.
  HTX_ASSERT_OK(GetNeed(NeedName(kProvince, "I.1"), &need));
  EXPECT_EQ(need.execution().allocated().total_dong(), Mn(150));
  EXPECT_EQ(need.execution().disbursed().total_dong(), Mn(59));
  EXPECT_EQ(need.execution().disbursement_rate_bp(), 73);  // 59 / 8 064
  HTX_ASSERT_OK(GetNeed(fostering, &need));
  EXPECT_TRUE(need.execution().has_disbursement_rate_bp());
  EXPECT_EQ(need.execution().disbursement_rate_bp(), 0);
  EXPECT_EQ(need.execution().disbursed_of_allocated_bp(), 0);

  v1::ListFundingRecordsRequest list;
  list.set_parent(training);
  EXPECT_EQ(RecordIds(list), (std::vector<std::string>{"alloc-1", "disb-1", "disb-2"}));
  list.set_parent(absl::StrCat(kProvince, "/budget-needs/2026"));
  EXPECT_EQ(RecordIds(list), (std::vector<std::string>{"alloc-1", "disb-1", "alloc-2", "disb-2"}));
  list.set_kind(v1::FUNDING_RECORD_KIND_DISBURSEMENT);
  EXPECT_EQ(RecordIds(list), (std::vector<std::string>{"disb-1", "disb-2"}));
  list.clear_kind();
  *list.mutable_date_from() = D(2026, 3, 1);
  *list.mutable_date_to() = D(2026, 4, 30);
  EXPECT_EQ(RecordIds(list), (std::vector<std::string>{"disb-1", "alloc-2"}));
  list.clear_date_from();
  list.clear_date_to();
  list.set_page_size(3);
  std::string token;
  EXPECT_EQ(RecordIds(list, &token), (std::vector<std::string>{"alloc-1", "disb-1", "alloc-2"}));
  ASSERT_FALSE(token.empty());
  list.set_page_token(token);
  EXPECT_EQ(RecordIds(list, &token), (std::vector<std::string>{"disb-2"}));
  EXPECT_TRUE(token.empty());

  // Refused: a taken id, a parent line, a source on no split, a blank record.
  v1::FundingRecord record;
  EXPECT_THAT(
      Record(training, "alloc-1", v1::FUNDING_RECORD_KIND_ALLOCATION, D(2026, 2, 2), 1, &record),
      StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(Record(NeedName(kProvince, "I.1"), "x", v1::FUNDING_RECORD_KIND_ALLOCATION,
                     D(2026, 2, 2), 1, &record),
              InvalidArgumentFor("parent"));
  EXPECT_THAT(Record(training, "x", v1::FUNDING_RECORD_KIND_UNSPECIFIED, D(2026, 2, 2), 1, &record),
              InvalidArgumentFor("record.kind"));
  EXPECT_THAT(Record(training, "x", v1::FUNDING_RECORD_KIND_ALLOCATION, D(2026, 2, 30), 1, &record),
              InvalidArgumentFor("record.date"));
  EXPECT_THAT(Record(training, "x", v1::FUNDING_RECORD_KIND_ALLOCATION, D(2026, 2, 2), -1, &record),
              InvalidArgumentFor("record.amounts.local_dong"));

  // A record on a need not written yet creates the need, blank.
  HTX_ASSERT_OK(Record(NeedName(kProvince, "I.1.c"), "", v1::FUNDING_RECORD_KIND_ALLOCATION,
                       D(2026, 5, 5), 7, &record));
  EXPECT_EQ(record.name().rfind(NeedName(kProvince, "I.1.c") + "/records/", 0), 0u);
  HTX_ASSERT_OK(GetNeed(NeedName(kProvince, "I.1.c"), &need));
  EXPECT_FALSE(need.planned().has_total_dong());
  EXPECT_EQ(need.execution().allocated().total_dong(), Mn(7));

  // A generated id is drawn once: the retry replays it and adds nothing.
  v1::CreateFundingRecordRequest create;
  create.set_parent(training);
  create.set_source_system("stc-hanoi");
  create.set_request_id("create-1");
  create.mutable_record()->set_kind(v1::FUNDING_RECORD_KIND_ALLOCATION);
  *create.mutable_record()->mutable_date() = D(2026, 8, 1);
  create.mutable_record()->mutable_amounts()->set_central_dong(Mn(3));
  v1::FundingRecord generated;
  HTX_ASSERT_OK(stub().CreateFundingRecord(Context().get(), create, &generated));
  EXPECT_EQ(generated.amounts().total_dong(), Mn(3));
  EXPECT_EQ(generated.provenance().request_id(), "create-1");
  const uint64_t created_at = LastSequence();
  v1::FundingRecord retried;
  HTX_ASSERT_OK(stub().CreateFundingRecord(Context().get(), create, &retried));
  EXPECT_EQ(retried.name(), generated.name());
  EXPECT_EQ(LastSequence(), created_at);
  v1::DeleteFundingRecordRequest undo;
  undo.set_name(generated.name());
  undo.set_etag(generated.etag());
  v1::DeleteFundingRecordResponse undone;
  HTX_ASSERT_OK(stub().DeleteFundingRecord(Context().get(), undo, &undone));

  // Deleting: a stale etag is refused, then the record goes, then it is gone.
  const uint64_t before = LastSequence();
  v1::DeleteFundingRecordRequest remove;
  remove.set_name(absl::StrCat(training, "/records/disb-2"));
  remove.set_etag("stale");
  v1::DeleteFundingRecordResponse removed;
  EXPECT_THAT(stub().DeleteFundingRecord(Context().get(), remove, &removed),
              StatusIsWithReason(absl::StatusCode::kAborted, "STALE_ETAG"));
  remove.clear_etag();
  HTX_ASSERT_OK(stub().DeleteFundingRecord(Context().get(), remove, &removed));
  EXPECT_THAT(stub().DeleteFundingRecord(Context().get(), remove, &removed),
              StatusIs(absl::StatusCode::kNotFound));
  HTX_ASSERT_OK(GetNeed(training, &need));
  EXPECT_EQ(need.execution().disbursed().total_dong(), Mn(20));
  EXPECT_EQ(need.execution().last_disbursement_date().SerializeAsString(),
            D(2026, 3, 10).SerializeAsString());

  RecordOk(fostering, "disb-3", v1::FUNDING_RECORD_KIND_DISBURSEMENT, D(2026, 7, 1), 80);
  std::vector<type::v1::Change> changes = ChangesAfter(before);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].resource(), remove.name());
  EXPECT_EQ(changes[0].kind(), type::v1::CHANGE_KIND_DELETED);
  EXPECT_EQ(changes[1].resource(), absl::StrCat(fostering, "/records/disb-3"));
  EXPECT_EQ(changes[1].kind(), type::v1::CHANGE_KIND_CREATED);

  // Disbursed beyond allocated is a warning, explainable while locked.
  v1::ListFindingsResponse findings = Findings(kProvince);
  const v1::Finding* over =
      FindFinding(findings, FindingName(kProvince, "I.1.b", "over-disbursed"));
  ASSERT_NE(over, nullptr);
  EXPECT_EQ(over->outcome(), v1::FINDING_OUTCOME_FAILED);
  EXPECT_EQ(over->severity(), v1::SEVERITY_WARNING);
  EXPECT_EQ(over->stated(), Mn(80));
  EXPECT_EQ(over->expected(), Mn(50));
  EXPECT_TRUE(over->blocks_submission());
  const v1::Finding* fine =
      FindFinding(findings, FindingName(kProvince, "I.1.a", "over-disbursed"));
  ASSERT_NE(fine, nullptr);
  EXPECT_EQ(fine->outcome(), v1::FINDING_OUTCOME_PASSED);
  type::v1::Lock lock;
  HTX_ASSERT_OK(Lock(kProvince, true, &lock));
  v1::Finding explained;
  HTX_ASSERT_OK(Explain(over->name(), &explained, over->etag()));
  EXPECT_FALSE(explained.blocks_submission());
  EXPECT_EQ(Findings(kProvince).summary().unexplained_warnings(),
            findings.summary().unexplained_warnings() - 1);
}

// ---- Roll-ups ----------------------------------------------------------------------

TEST_F(BudgetIntegrationTest, ProvinceRollsUpItsCommunesAndTheNationItsProvinces) {
  UpsertOk(kCommune1, {NeedOf(kCommune1, "I.1.a").Local(100).Beneficiaries(10),
                       NeedOf(kCommune1, "I.3.1").Central(50)});
  UpsertOk(kCommune2, {NeedOf(kCommune2, "I.1.a").Local(30).Other(5).Beneficiaries(4),
                       NeedOf(kCommune2, "DT.I").Central(1000)});
  // Neither the province's own needs nor its agencies' are its communes'.
  UpsertOk(kProvince, {NeedOf(kProvince, "I.1.a").Local(500)});
  UpsertOk(kAgency, {NeedOf(kAgency, "I.1.a").Local(9000)});
  UpsertOk(kOtherProvince, {NeedOf(kOtherProvince, "I.1.a").Local(7)});
  RecordOk(NeedName(kCommune1, "I.1.a"), "a", v1::FUNDING_RECORD_KIND_ALLOCATION, D(2026, 2, 1),
           40);
  RecordOk(NeedName(kCommune1, "I.1.a"), "d", v1::FUNDING_RECORD_KIND_DISBURSEMENT, D(2026, 3, 1),
           20);

  v1::GetRollupRequest request;
  request.set_unit(kProvince);
  request.set_year(2026);
  v1::Rollup rollup;
  HTX_ASSERT_OK(stub().GetRollup(Context().get(), request, &rollup));
  EXPECT_EQ(rollup.unit(), kProvince);
  EXPECT_EQ(rollup.child_units(), 2);
  EXPECT_TRUE(rollup.silent_units().empty());
  std::map<std::string, v1::RollupLine> lines;
  std::vector<std::string> order;
  for (const v1::RollupLine& line : rollup.lines()) {
    order.push_back(line.line());
    lines[line.line()] = line;
  }
  EXPECT_EQ(order, (std::vector<std::string>{"I", "I.1", "I.1.a", "I.3", "I.3.1", "DT.I"}));
  const v1::RollupLine& training = lines["I.1.a"];
  EXPECT_EQ(training.planned().local_dong(), Mn(130));
  EXPECT_EQ(training.planned().other_dong(), Mn(5));
  EXPECT_EQ(training.planned().total_dong(), Mn(135));
  EXPECT_EQ(training.beneficiaries(), 14);
  EXPECT_EQ(training.reporting_units(), 2);
  EXPECT_EQ(training.allocated().total_dong(), Mn(40));
  EXPECT_EQ(training.disbursed().total_dong(), Mn(20));
  EXPECT_EQ(training.disbursement_rate_bp(), 1481);  // 20 / 135
  EXPECT_EQ(lines["I"].planned().central_dong(), Mn(50));
  EXPECT_EQ(lines["I"].planned().total_dong(), Mn(185));
  EXPECT_EQ(lines["I"].reporting_units(), 2);
  EXPECT_FALSE(lines["I"].has_beneficiaries());
  EXPECT_EQ(lines["I.3.1"].reporting_units(), 1);
  EXPECT_EQ(lines["DT.I"].planned().central_dong(), Mn(1000));
  ASSERT_EQ(rollup.totals_size(), 2);
  EXPECT_EQ(rollup.totals(0).funding_kind(), v1::FUNDING_KIND_RECURRENT);
  EXPECT_EQ(rollup.totals(0).planned().total_dong(), Mn(185));
  EXPECT_EQ(rollup.totals(0).disbursed().total_dong(), Mn(20));
  EXPECT_EQ(rollup.totals(0).disbursement_rate_bp(), 1081);  // 20 / 185
  EXPECT_EQ(rollup.totals(1).funding_kind(), v1::FUNDING_KIND_INVESTMENT);
  EXPECT_EQ(rollup.totals(1).planned().total_dong(), Mn(1000));
  EXPECT_TRUE(rollup.totals(1).has_disbursement_rate_bp());  // nothing disbursed of a plan
  EXPECT_EQ(rollup.totals(1).disbursement_rate_bp(), 0);

  // Execution as of a day before the disbursement.
  *request.mutable_as_of() = D(2026, 2, 15);
  HTX_ASSERT_OK(stub().GetRollup(Context().get(), request, &rollup));
  EXPECT_EQ(rollup.lines(2).allocated().total_dong(), Mn(40));
  EXPECT_FALSE(rollup.lines(2).disbursed().has_total_dong());
  request.clear_as_of();

  // Restricted to named children, one of which reported nothing.
  request.add_units(kCommune1);
  request.add_units("provinces/01/communes/00003");
  HTX_ASSERT_OK(stub().GetRollup(Context().get(), request, &rollup));
  EXPECT_EQ(rollup.child_units(), 2);
  EXPECT_EQ(std::vector<std::string>(rollup.silent_units().begin(), rollup.silent_units().end()),
            std::vector<std::string>{"provinces/01/communes/00003"});
  ASSERT_GE(rollup.lines_size(), 3);
  EXPECT_EQ(rollup.lines(2).line(), "I.1.a");
  EXPECT_EQ(rollup.lines(2).planned().total_dong(), Mn(100));
  request.clear_units();
  request.add_units(kOtherProvince);
  EXPECT_THAT(stub().GetRollup(Context().get(), request, &rollup), InvalidArgumentFor("units[0]"));
  request.clear_units();

  // The nation: the provinces' own needs.
  request.set_unit("");
  HTX_ASSERT_OK(stub().GetRollup(Context().get(), request, &rollup));
  EXPECT_EQ(rollup.child_units(), 2);
  ASSERT_EQ(rollup.lines_size(), 3);
  EXPECT_EQ(rollup.lines(2).line(), "I.1.a");
  EXPECT_EQ(rollup.lines(2).planned().local_dong(), Mn(507));
  EXPECT_EQ(rollup.lines(2).reporting_units(), 2);
  ASSERT_EQ(rollup.totals_size(), 1);
  EXPECT_EQ(rollup.totals(0).planned().total_dong(), Mn(507));

  request.set_unit(kCommune1);
  EXPECT_THAT(stub().GetRollup(Context().get(), request, &rollup), InvalidArgumentFor("unit"));
  request.set_unit(kProvince);
  request.set_year(2030);
  EXPECT_THAT(stub().GetRollup(Context().get(), request, &rollup),
              StatusIs(absl::StatusCode::kNotFound));
}

// ---- The registry ------------------------------------------------------------------

TEST_F(BudgetIntegrationTest, WritesNeedUnitsTheRegistryKnows) {
  harness_.registry().SetKnownUnits({kProvince, kOtherProvince});
  const std::string unknown = "provinces/99";
  const uint64_t before = LastSequence();
  v1::BatchUpsertNeedsResponse batch;
  grpc::Status status = Upsert(unknown, {NeedOf(unknown, "I.1.a").Local(1)}, &batch);
  EXPECT_THAT(status, InvalidArgumentFor("parent"));
  EXPECT_THAT(status, StatusIsWithReason(absl::StatusCode::kInvalidArgument, "UNKNOWN_UNIT"));
  EXPECT_THAT(status.error_message(), HasSubstr(unknown));
  v1::Need need;
  EXPECT_THAT(Update(NeedOf(unknown, "I.1.a").Local(1), {"planned"}, &need),
              StatusIsWithReason(absl::StatusCode::kInvalidArgument, "UNKNOWN_UNIT"));
  v1::FundingRecord record;
  EXPECT_THAT(Record(NeedName(unknown, "I.1.a"), "r", v1::FUNDING_RECORD_KIND_ALLOCATION,
                     D(2026, 1, 5), 1, &record),
              StatusIsWithReason(absl::StatusCode::kInvalidArgument, "UNKNOWN_UNIT"));
  v1::IngestNeedsRequest ingest;
  ingest.set_source_system("stc-sync");
  *ingest.add_rows() = Row(NeedOf(kProvince, "I.1.a").Local(1), "known");
  *ingest.add_rows() = Row(NeedOf(unknown, "I.1.a").Local(1), "unknown");
  v1::IngestNeedsResponse ingested = IngestOnce(stub(), ingest);
  ASSERT_EQ(ingested.results_size(), 2);
  EXPECT_EQ(ingested.results(0).outcome(), type::v1::RowResult::OUTCOME_APPLIED);
  EXPECT_EQ(ingested.results(1).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ingested.results(1).reason(), "UNKNOWN_UNIT");
  EXPECT_EQ(ingested.results(0).reason(), "");
  EXPECT_THAT(ingested.results(1).message(), HasSubstr("rows[1].need.name"));
  EXPECT_EQ(LastSequence(), before + 1);
  ExpectNoNeed(NeedName(unknown, "I.1.a"));
}

TEST_F(BudgetIntegrationTest, WritesWaitForARegistryThatCanCheckTheirUnit) {
  harness_.registry().SetUnitLookupsFail(true);
  const uint64_t before = LastSequence();
  v1::BatchUpsertNeedsResponse batch;
  grpc::Status status = Upsert(kCommune1, {NeedOf(kCommune1, "I.1.a").Local(1)}, &batch);
  EXPECT_THAT(status, StatusIsWithReason(absl::StatusCode::kUnavailable, "REGISTRY_UNAVAILABLE"));
  EXPECT_THAT(status.error_message(), HasSubstr(kCommune1));
  EXPECT_EQ(LastSequence(), before);
  ExpectNoNeed(NeedName(kCommune1, "I.1.a"));
  harness_.registry().SetUnitLookupsFail(false);
  UpsertOk(kCommune1, {NeedOf(kCommune1, "I.1.a").Local(1)});
}

TEST_F(BudgetIntegrationTest, OrganisationBeneficiariesAreComparedWithTheRegistry) {
  LoadHanoi();
  registry::v1::Counts counts;
  using registry::v1::SECTOR_AGRICULTURE;
  using registry::v1::SECTOR_UNSPECIFIED;
  // Sector rows repeat what the all-sector rows hold: only those count.
  *counts.add_rows() = CountRow(registry::v1::ORGANIZATION_KIND_HTX, SECTOR_AGRICULTURE, 300);
  *counts.add_rows() = CountRow(registry::v1::ORGANIZATION_KIND_HTX, SECTOR_UNSPECIFIED, 400);
  *counts.add_rows() = CountRow(registry::v1::ORGANIZATION_KIND_THT, SECTOR_UNSPECIFIED, 150);
  *counts.add_rows() = CountRow(registry::v1::ORGANIZATION_KIND_LH_HTX, SECTOR_UNSPECIFIED, 5);
  harness_.registry().SetCounts(kProvince, counts);
  v1::ListFindingsResponse findings = Findings(kProvince);
  const v1::Finding* information =
      FindFinding(findings, FindingName(kProvince, "I.2", "beneficiaries-registry"));
  ASSERT_NE(information, nullptr);
  EXPECT_EQ(information->outcome(), v1::FINDING_OUTCOME_FAILED);
  EXPECT_EQ(information->severity(), v1::SEVERITY_WARNING);
  EXPECT_EQ(information->stated(), 700);
  EXPECT_EQ(information->expected(), 555);
  EXPECT_THAT(information->message(), HasSubstr("31/12/2025"));
  for (const char* code : {"I.3", "I.4", "I.5", "I.6"}) {
    const v1::Finding* f =
        FindFinding(findings, FindingName(kProvince, code, "beneficiaries-registry"));
    ASSERT_NE(f, nullptr) << code;
    EXPECT_EQ(f->outcome(), v1::FINDING_OUTCOME_PASSED) << code;
  }
  // People are not organisations.
  EXPECT_EQ(FindFinding(findings, FindingName(kProvince, "I.1.a", "beneficiaries-registry")),
            nullptr);
  EXPECT_EQ(findings.summary().not_checkable(), 0);
  EXPECT_EQ(findings.summary().warnings(), 8);

  harness_.registry().SetAvailable(false);
  findings = Findings(kProvince);
  information = FindFinding(findings, FindingName(kProvince, "I.2", "beneficiaries-registry"));
  ASSERT_NE(information, nullptr);
  EXPECT_EQ(information->outcome(), v1::FINDING_OUTCOME_NOT_CHECKABLE);
  EXPECT_FALSE(information->has_expected());
  EXPECT_FALSE(information->blocks_submission());
  EXPECT_EQ(findings.summary().not_checkable(), 5);
}

// ---- Explanations ------------------------------------------------------------------

TEST_F(BudgetIntegrationTest, ExplanationsUnblockWarningsUntilTheFiguresChange) {
  LoadHanoi();
  const std::string split = FindingName(kProvince, "I.2", "source-split");
  v1::ListFindingsResponse before = Findings(kProvince);
  EXPECT_EQ(before.summary().unexplained_warnings(), 7);
  v1::Finding finding;
  EXPECT_THAT(Explain(split, &finding, "stale"),
              StatusIsWithReason(absl::StatusCode::kAborted, "STALE_ETAG"));
  HTX_ASSERT_OK(Explain(split, &finding, FindFinding(before, split)->etag()));
  EXPECT_EQ(finding.name(), split);
  EXPECT_EQ(finding.explanation().text(), "Số liệu đã đối chiếu với bản gốc của Sở Tài chính");
  EXPECT_EQ(finding.explanation().author(), "test:ministry_admin@");
  EXPECT_FALSE(finding.blocks_submission());
  v1::ListFindingsResponse after = Findings(kProvince);
  EXPECT_EQ(after.summary().warnings(), 7);
  EXPECT_EQ(after.summary().unexplained_warnings(), 6);
  EXPECT_EQ(after.summary().blocking(), 6);
  EXPECT_TRUE(FindFinding(after, split)->has_explanation());

  EXPECT_THAT(Explain(FindingName(kProvince, "I.3", "stated-total"), &finding),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "FINDING_NOT_FAILED"));
  EXPECT_THAT(Explain(FindingName(kProvince, "I.1.a", "source-split"), &finding),
              StatusIs(absl::StatusCode::kNotFound));
  v1::ExplainFindingRequest blank;
  blank.set_name(split);
  EXPECT_THAT(stub().ExplainFinding(Context().get(), blank, &finding), InvalidArgumentFor("text"));

  // Another line's figures leave the explanation; this line's clear it.
  v1::Need need;
  HTX_ASSERT_OK(Update(NeedOf(kProvince, "I.1.a").Beneficiaries(62), {"beneficiaries"}, &need));
  EXPECT_TRUE(FindFinding(Findings(kProvince), split)->has_explanation());
  HTX_ASSERT_OK(Update(NeedOf(kProvince, "I.2").Unspecified(320), {"planned"}, &need));
  v1::ListFindingsResponse changed = Findings(kProvince);
  EXPECT_FALSE(FindFinding(changed, split)->has_explanation());
  EXPECT_TRUE(FindFinding(changed, split)->blocks_submission());
  EXPECT_EQ(changed.summary().unexplained_warnings(), 7);

  // A stated total that disagrees is an error: explained, it still blocks.
  HTX_ASSERT_OK(Update(NeedOf(kProvince, "I.3").Stated(19500), {"stated_total_dong"}, &need));
  EXPECT_EQ(need.planned().total_dong(), Mn(19498));
  const std::string total = FindingName(kProvince, "I.3", "stated-total");
  v1::ListFindingsResponse wrong = Findings(kProvince);
  const v1::Finding* error = FindFinding(wrong, total);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->outcome(), v1::FINDING_OUTCOME_FAILED);
  EXPECT_EQ(error->message(), "Tổng 19.500 ≠ 3.274 + 16.224 = 19.498 (triệu đồng)");
  EXPECT_EQ(error->stated(), Mn(19500));
  EXPECT_EQ(error->expected(), Mn(19498));
  EXPECT_EQ(wrong.summary().errors(), 1);
  EXPECT_EQ(wrong.summary().blocking(), 8);
  HTX_ASSERT_OK(Explain(total, &finding));
  EXPECT_TRUE(finding.has_explanation());
  EXPECT_TRUE(finding.blocks_submission());
  EXPECT_EQ(Findings(kProvince).summary().blocking(), 8);

  // What the print leaves unclear is confirmed once and stays confirmed.
  const std::string unclear = FindingName(kProvince, "I.4", "printed-unclear");
  HTX_ASSERT_OK(Explain(unclear, &finding));
  HTX_ASSERT_OK(Update(NeedOf(kProvince, "I.4").Local(700), {"planned.local_dong"}, &need));
  EXPECT_TRUE(FindFinding(Findings(kProvince), unclear)->has_explanation());
  EXPECT_EQ(Findings(kProvince).summary().blocking(), 7);
}

// ---- Authorization -----------------------------------------------------------------

TEST_F(BudgetIntegrationTest, CallersNeedASignatureAndTheirScope) {
  auto unsigned_stub = harness_.UnsignedStub();
  v1::GetCatalogRequest get_catalog;
  get_catalog.set_name("catalogs/2026");
  v1::Catalog catalog;
  EXPECT_THAT(unsigned_stub->GetCatalog(Context().get(), get_catalog, &catalog),
              StatusIs(absl::StatusCode::kUnauthenticated));

  auto editor = harness_.StubAs(TestPrincipal(auth::v1::ROLE_PROVINCE_EDITOR, kOtherProvince));
  HTX_EXPECT_OK(editor->GetCatalog(Context().get(), get_catalog, &catalog));
  v1::BatchUpsertNeedsResponse batch;
  EXPECT_THAT(Upsert(kProvince, {NeedOf(kProvince, "I.1.a").Local(1)}, &batch, "", editor.get()),
              StatusIs(absl::StatusCode::kPermissionDenied));
  v1::Need need;
  EXPECT_THAT(
      Update(NeedOf(kProvince, "I.1.a").Local(1), {"planned"}, &need, true, "", editor.get()),
      StatusIs(absl::StatusCode::kPermissionDenied));
  ExpectNoNeed(NeedName(kProvince, "I.1.a"));
  HTX_ASSERT_OK(
      Upsert(kOtherProvince, {NeedOf(kOtherProvince, "I.1.a").Local(1)}, &batch, "", editor.get()));
  EXPECT_EQ(batch.needs(0).provenance().author(),
            absl::StrCat("test:province_editor@", kOtherProvince));
  // Only a service locks.
  type::v1::Lock lock;
  EXPECT_THAT(Lock(kOtherProvince, true, &lock, editor.get()),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(editor->ImportCatalog(Context().get(), catalog_, &catalog),
              StatusIs(absl::StatusCode::kPermissionDenied));

  // Reads are scoped too, and the feed of every unit is the nation's.
  v1::GetNeedRequest get;
  get.set_name(NeedName(kOtherProvince, "I.1.a"));
  HTX_EXPECT_OK(editor->GetNeed(Context().get(), get, &need));
  get.set_name(NeedName(kProvince, "I.1.a"));
  EXPECT_THAT(editor->GetNeed(Context().get(), get, &need),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));
  type::v1::ListChangesResponse feed;
  EXPECT_THAT(editor->ListChanges(Context().get(), type::v1::ListChangesRequest(), &feed),
              StatusIs(absl::StatusCode::kPermissionDenied));

  // An ingest message with a row outside the caller's scope ends the stream.
  v1::IngestNeedsRequest ingest;
  ingest.set_source_system("stc-sync");
  *ingest.add_rows() = Row(NeedOf(kProvince, "I.1.a").Local(1), "out-of-scope");
  auto context = Context(30);
  auto stream = editor->IngestNeeds(context.get());
  ASSERT_TRUE(stream->Write(ingest));
  v1::IngestNeedsResponse ingested;
  EXPECT_FALSE(stream->Read(&ingested));
  EXPECT_THAT(stream->Finish(),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));
  ExpectNoNeed(NeedName(kProvince, "I.1.a"));
}

// ---- Durability --------------------------------------------------------------------

TEST(BudgetDurabilityTest, AcknowledgedWritesSurviveAReopen) {
  testing::TempDir dir;
  BudgetHarness::Options options;
  options.store_dir = dir.Sub("budget");
  v1::BatchUpsertNeedsRequest request;
  request.set_parent(kProvince);
  request.set_year(2026);
  request.set_source_system("web");
  request.set_request_id("durable-1");
  *request.add_writes()->mutable_need() = NeedOf(kProvince, "I.1.a").Local(1107);
  v1::BatchUpsertNeedsResponse first;
  uint64_t last_sequence = 0;
  {
    BudgetHarness harness(options);
    absl::StatusOr<v1::ImportCatalogRequest> catalog = LoadCatalogFile(kCatalog2026Path);
    HTX_ASSERT_OK(catalog.status());
    v1::Catalog imported;
    HTX_ASSERT_OK(harness.stub().ImportCatalog(Context().get(), *catalog, &imported));
    HTX_ASSERT_OK(harness.stub().BatchUpsertNeeds(Context().get(), request, &first));
    type::v1::SetLockRequest lock;
    lock.set_name(LockName(kProvince));
    lock.set_locked(true);
    lock.set_holder("provinces/01/submissions/2026-plan");
    type::v1::Lock locked;
    HTX_ASSERT_OK(harness.service_stub().SetLock(Context().get(), lock, &locked));
    type::v1::ListChangesResponse changes;
    HTX_ASSERT_OK(
        harness.stub().ListChanges(Context().get(), type::v1::ListChangesRequest(), &changes));
    last_sequence = changes.last_sequence();
  }
  BudgetHarness reopened(options);
  v1::GetNeedRequest get;
  get.set_name(NeedName(kProvince, "I.1.a"));
  v1::Need need;
  HTX_ASSERT_OK(reopened.stub().GetNeed(Context().get(), get, &need));
  EXPECT_EQ(need.planned().local_dong(), Mn(1107));
  EXPECT_EQ(need.etag(), first.needs(0).etag());
  type::v1::GetLockRequest get_lock;
  get_lock.set_name(LockName(kProvince));
  type::v1::Lock lock;
  HTX_ASSERT_OK(reopened.stub().GetLock(Context().get(), get_lock, &lock));
  EXPECT_TRUE(lock.locked());
  type::v1::ListChangesResponse changes;
  HTX_ASSERT_OK(
      reopened.stub().ListChanges(Context().get(), type::v1::ListChangesRequest(), &changes));
  EXPECT_EQ(changes.last_sequence(), last_sequence);
  // The request_id is remembered too: the retry replays despite the lock.
  v1::BatchUpsertNeedsResponse replayed;
  HTX_ASSERT_OK(reopened.stub().BatchUpsertNeeds(Context().get(), request, &replayed));
  EXPECT_EQ(replayed.SerializeAsString(), first.SerializeAsString());
}

}  // namespace
}  // namespace htx::budget
