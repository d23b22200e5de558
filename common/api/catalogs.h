// A service's yearly catalogs ("catalogs/{year}"): the import request as
// stored, its checked and indexed view cached per stored version, and paging
// newest year first. `Record` has `input` (the import request),
// `update_time` and `etag`; `View::Build(record.input())` checks and indexes
// it.
//
// Keys in the service's catalogs family: "c/{9999-year}" -> Record (scan
// order = newest first), "v/{year}" -> the record's etag (a cheap freshness
// check for the cache).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/api/api.h"
#include "common/api/stored.h"
#include "common/api/units.h"
#include "common/api/writes.h"
#include "common/status/status.h"
#include "common/storage/store.h"
#include "htx/type/v1/change.pb.h"

namespace htx::api {

template <typename Record, typename View>
class CatalogVersions {
 public:
  struct Loaded {
    std::shared_ptr<const View> view;
    Record record;
  };

  explicit CatalogVersions(storage::Family family) : family_(family) {}

  static std::string Key(int year) { return absl::StrCat("c/", Year4(9999 - year)); }
  static std::string VersionKey(int year) { return absl::StrCat("v/", Year4(year)); }

  // The catalog of `year`; NOT_FOUND naming "catalogs/{year}".
  absl::StatusOr<std::shared_ptr<const Loaded>> Load(int year, const Reader& read) const {
    absl::StatusOr<std::optional<std::string>> etag = read.get(family_, VersionKey(year));
    if (!etag.ok()) return etag.status();
    if (!etag->has_value()) return NotFound(CatalogName(year));
    {
      absl::MutexLock lock(&mu_);
      auto it = cache_.find(year);
      if (it != cache_.end() && it->second->record.etag() == **etag) return it->second;
    }
    auto loaded = std::make_shared<Loaded>();
    absl::StatusOr<bool> found = ReadStored(read, family_, Key(year), "catalog", &loaded->record);
    if (!found.ok()) return found.status();
    if (!*found) return NotFound(CatalogName(year));
    absl::StatusOr<std::shared_ptr<const View>> view = View::Build(loaded->record.input());
    if (!view.ok()) {
      // It was accepted when imported: only a change of the rules since can
      // refuse it, which is the operator's to fix, not the caller's input.
      return Error(
          absl::StatusCode::kFailedPrecondition, "CATALOG_UNREADABLE",
          absl::StrCat(CatalogName(year), " no longer passes the catalog checks; import it again: ",
                       view.status().message()));
    }
    loaded->view = *std::move(view);
    absl::MutexLock lock(&mu_);
    cache_[year] = loaded;
    return std::shared_ptr<const Loaded>(std::move(loaded));
  }

  // The stored record of `year`: false when there is none.
  absl::StatusOr<bool> Read(const Reader& read, int year, Record* record) const {
    return ReadStored(read, family_, Key(year), "catalog", record);
  }

  // Stores `record` (update_time and etag set here) with its already built
  // `view`; true when it replaces a stored one. The view is cached under the
  // new etag, so an entry whose commit fails is never served.
  absl::StatusOr<bool> Put(storage::Txn& txn, int year, Record* record,
                           std::shared_ptr<const View> view) const {
    absl::StatusOr<std::optional<std::string>> existing = txn.Get(family_, Key(year));
    if (!existing.ok()) return existing.status();
    *record->mutable_update_time() = ToTimestamp(txn.now());
    record->clear_etag();
    record->set_etag(ComputeEtag(*record));
    txn.PutProto(family_, Key(year), *record);
    txn.Put(family_, VersionKey(year), record->etag());
    auto loaded = std::make_shared<Loaded>();
    loaded->view = std::move(view);
    loaded->record = *record;
    absl::MutexLock lock(&mu_);
    cache_[year] = std::move(loaded);
    return existing->has_value();
  }

  // ImportCatalog, the same in every service: `request` needs a catalog and a
  // valid request_id and must pass View::Build; it is kept as the record's
  // input without validate_only and request_id, and `strip(&input)` clears
  // what the caller may not set (output-only fields). validate_only answers
  // once `replaceable(view, reader)` holds on the committed store; otherwise
  // the catalog is written, idempotent by request_id, once `replaceable`
  // holds in the writer's group.
  template <typename Request, typename Catalog, typename Strip, typename Replaceable,
            typename Present>
  void Import(storage::Store& store, const Request& request, Strip strip, Replaceable replaceable,
              Present present, Catalog* response, std::function<void(absl::Status)> done) const {
    if (!request.has_catalog()) return done(RequiredField("catalog"));
    if (absl::Status s = ValidateRequestId(request.request_id()); !s.ok()) return done(s);
    absl::StatusOr<std::shared_ptr<const View>> view = View::Build(request);
    if (!view.ok()) return done(view.status());
    const int year = request.catalog().year();
    auto record = std::make_shared<Record>();
    Request& input = *record->mutable_input();
    input = request;
    input.clear_validate_only();
    input.clear_request_id();
    strip(&input);
    if (request.validate_only()) {
      if (absl::Status s = replaceable(**view, StoreReader(store)); !s.ok()) return done(s);
      *response = present(*record);
      return done(absl::OkStatus());
    }
    auto mutate = [this, year, record, view = *view, replaceable, present,
                   response](storage::Txn& txn) -> absl::Status {
      if (absl::Status s = replaceable(*view, TxnReader(txn)); !s.ok()) return s;
      return Replace(txn, year, *record, view, present, response);
    };
    SubmitIdempotent(store, "ImportCatalog", request.request_id(), request, response,
                     std::move(mutate), std::move(done));
  }

  // ImportCatalog's write: stores `record` with its built `view` (as Put),
  // sets `*response` to `present(record)` and records the change.
  template <typename Catalog, typename Present>
  absl::Status Replace(storage::Txn& txn, int year, Record record, std::shared_ptr<const View> view,
                       Present present, Catalog* response) const {
    absl::StatusOr<bool> replaced = Put(txn, year, &record, std::move(view));
    if (!replaced.ok()) return replaced.status();
    *response = present(record);
    txn.RecordChange(response->name(),
                     *replaced ? type::v1::CHANGE_KIND_UPDATED : type::v1::CHANGE_KIND_CREATED,
                     response);
    return absl::OkStatus();
  }

  // GetCatalog: the catalog `name` ("catalogs/{year}") as `present(record)`
  // makes it; NOT_FOUND naming it.
  template <typename Present>
  auto Get(const storage::Store& store, absl::string_view name, Present present) const
      -> absl::StatusOr<decltype(present(std::declval<const Record&>()))> {
    absl::StatusOr<int> year = ParseCatalogName(name, "name");
    if (!year.ok()) return year.status();
    Record record;
    absl::StatusOr<bool> found = Read(StoreReader(store), *year, &record);
    if (!found.ok()) return found.status();
    if (!*found) return NotFound(name);
    return present(record);
  }

  // ListCatalogs: a page of `request` (page_size, page_token), newest year
  // first, each catalog as `present(record)` makes it.
  template <typename Response, typename Request, typename Present>
  absl::StatusOr<Response> ListPage(const storage::Store& store, const Request& request,
                                    Present present) const {
    absl::StatusOr<Page> page = StartPage(request, request.page_size(), request.page_token());
    if (!page.ok()) return page.status();
    Response response;
    absl::Status listed = List(
        store, *page, [&](const Record& record) { *response.add_catalogs() = present(record); },
        response.mutable_next_page_token());
    if (!listed.ok()) return listed;
    return response;
  }

  // A page of records, newest year first: `add(record)` for each.
  template <typename Add>
  absl::Status List(const storage::Store& store, const Page& page, Add add,
                    std::string* next_page_token) const {
    std::string last;
    int count = 0;
    absl::Status parsed;
    absl::Status scanned = store.Scan(family_, "c/", page.position,
                                      [&](absl::string_view key, absl::string_view bytes) {
                                        if (count == page.size) {
                                          *next_page_token = page.NextToken(last);
                                          return false;
                                        }
                                        Record record;
                                        parsed = ParseStored(bytes, "catalog", key, &record);
                                        if (!parsed.ok()) return false;
                                        last = std::string(key);
                                        ++count;
                                        add(record);
                                        return true;
                                      });
    if (!scanned.ok()) return scanned;
    return parsed;
  }

 private:
  storage::Family family_;
  mutable absl::Mutex mu_;
  // year -> the newest version seen; replaced when the stored etag moves.
  mutable absl::flat_hash_map<int, std::shared_ptr<const Loaded>> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace htx::api
