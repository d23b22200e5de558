#include "common/api/writes.h"

#include <cstdint>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace htx::api {

void SubmitIdempotent(storage::Store& store, absl::string_view method, absl::string_view request_id,
                      const google::protobuf::Message& request, google::protobuf::Message* response,
                      std::function<absl::Status(storage::Txn&)> mutate, Done done) {
  if (absl::Status s = ValidateRequestId(request_id); !s.ok()) {
    done(s);
    return;
  }
  storage::WriteRequest write =
      IdempotentWrite(method, request_id, request, response, std::move(mutate));
  write.done = [done = std::move(done)](absl::Status status, bool) { done(status); };
  store.Submit(std::move(write));
}

absl::Status RequireRowRequestId(absl::string_view request_id, absl::string_view field) {
  if (request_id.empty()) return RequiredField(field);
  return ValidateRequestId(request_id, field);
}

absl::StatusOr<type::v1::ListChangesResponse> ListChanges(
    const storage::Store& store, const type::v1::ListChangesRequest& request) {
  absl::StatusOr<Page> page = StartPage(request, request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  uint64_t after = request.after_sequence();
  if (!page->position.empty() && !absl::SimpleAtoi(page->position, &after)) {
    return InvalidField("page_token", "malformed", "INVALID_PAGE_TOKEN");
  }
  type::v1::ListChangesResponse response;
  response.set_last_sequence(store.last_sequence());
  // One more than a page tells whether another page follows.
  absl::StatusOr<std::vector<type::v1::Change>> changes = store.ListChanges(after, page->size + 1);
  if (!changes.ok()) return changes.status();
  for (type::v1::Change& change : *changes) {
    if (response.changes_size() == page->size) {
      response.set_next_page_token(
          page->NextToken(absl::StrCat(response.changes(page->size - 1).sequence())));
      break;
    }
    *response.add_changes() = std::move(change);
  }
  return response;
}

}  // namespace htx::api
