// The store-side halves of the services' write paths and change feed: an
// idempotent single write, the rows of a bulk message each committed on its
// own, and ListChanges over the store's change log.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/api/api.h"
#include "common/status/status.h"
#include "common/storage/store.h"
#include "google/protobuf/message.h"
#include "htx/type/v1/change.pb.h"
#include "htx/type/v1/row_result.pb.h"

namespace htx::api {

using Done = std::function<void(absl::Status)>;

// Queues `mutate` on `store`'s writer, idempotent by `request_id` (scoped to
// `method`, see IdempotentWrite); `done` runs once the write is durable or
// failed, or at once when `request_id` is malformed.
void SubmitIdempotent(storage::Store& store, absl::string_view method, absl::string_view request_id,
                      const google::protobuf::Message& request, google::protobuf::Message* response,
                      std::function<absl::Status(storage::Txn&)> mutate, Done done);

// A row of a bulk message must carry its own request_id: it is what makes a
// re-sent message safe. RequiredField or ValidateRequestId's error naming
// `field`.
absl::Status RequireRowRequestId(absl::string_view request_id, absl::string_view field);

// The change feed of `store`: changes after request.after_sequence (or the
// page token's position), a page at a time, with the last committed sequence.
absl::StatusOr<type::v1::ListChangesResponse> ListChanges(
    const storage::Store& store, const type::v1::ListChangesRequest& request);

// One message of a bulk stream whose rows commit (or are rejected) each on
// its own, so that one bad row does not hold back the others. `Response`
// has `repeated type.v1.RowResult results` and the applied, already_applied
// and rejected tallies. Every row must be finished exactly once, by Reject()
// or Submit(); when the last one is, the tallies are set and `done(OK)` runs.
template <typename Response>
class RowBatch {
 public:
  // Gives `response` (cleared by the caller) one indexed result per row;
  // `rows` > 0. `response` must outlive the last row.
  RowBatch(int rows, Response* response, Done done)
      : state_(std::make_shared<State>(rows, response, std::move(done))) {
    for (int i = 0; i < rows; ++i) response->add_results()->set_index(i);
  }

  // The result of row `index`, where a mutation names the resource it wrote.
  type::v1::RowResult* result(int index) { return state_->response->mutable_results(index); }

  // Row `index` failed before reaching the store.
  void Reject(int index, const absl::Status& status) { state_->Finish(index, status, false); }

  // Queues row `index` (the message `row`, idempotent by `request_id` under
  // `method`): a re-sent row replays its first result as ALREADY_APPLIED.
  void Submit(storage::Store& store, absl::string_view method, int index,
              absl::string_view request_id, const google::protobuf::Message& row,
              std::function<absl::Status(storage::Txn&)> mutate) {
    storage::WriteRequest write =
        IdempotentWrite(method, request_id, row, result(index), std::move(mutate));
    write.done = [state = state_, index](absl::Status status, bool replayed) {
      state->Finish(index, status, replayed);
    };
    store.Submit(std::move(write));
  }

  // A row for SubmitRows: row `index`, the message `row`, idempotent by
  // `request_id` under the method.
  struct Row {
    int index;
    absl::string_view request_id;
    const google::protobuf::Message* row;
  };
  // Writes row `index` (one of SubmitRows' rows) through `write`.
  using WriteRow =
      std::function<void(int index, const std::function<absl::Status(storage::Txn&)>& write)>;

  // Queues `rows` as ONE mutation, so that the writer takes a message in one
  // turn: `mutate(txn, write_row)` must call `write_row` once for each row,
  // which runs the row as its own part of the mutation (Txn::RunPart):
  // idempotent exactly as Submit's rows, and rolled back alone on error. The
  // rows are finished once the mutation is durable; if it is not, the rows
  // written are finished with its error.
  void SubmitRows(storage::Store& store, absl::string_view method, const std::vector<Row>& rows,
                  std::function<void(storage::Txn&, const WriteRow&)> mutate) {
    struct Part {
      std::string request_id;
      uint64_t digest = 0;
      absl::Status outcome = absl::InternalError("the row was not written");
      bool replayed = false;
      bool submitted = false;
    };
    // Digests are taken here, off the writer thread. Parts are indexed by
    // row; those of rows not submitted stay unused.
    auto parts = std::make_shared<std::vector<Part>>(state_->response->results_size());
    for (const Row& row : rows) {
      Part& part = (*parts)[row.index];
      part.submitted = true;
      part.request_id = ScopedRequestId(method, row.request_id);
      part.digest = DigestMessage(*row.row);
    }
    storage::WriteRequest write;
    write.mutate = [state = state_, parts, mutate = std::move(mutate)](storage::Txn& txn) {
      mutate(txn, [&](int index, const std::function<absl::Status(storage::Txn&)>& write_row) {
        Part& part = (*parts)[index];
        part.outcome =
            txn.RunPart(part.request_id, part.digest, state->response->mutable_results(index),
                        write_row, &part.replayed);
      });
      return absl::OkStatus();
    };
    write.done = [state = state_, parts](absl::Status status, bool) {
      for (size_t index = 0; index < parts->size(); ++index) {
        const Part& part = (*parts)[index];
        if (!part.submitted) continue;
        const bool written = part.outcome.ok() && !part.replayed;
        state->Finish(static_cast<int>(index), written && !status.ok() ? status : part.outcome,
                      part.replayed);
      }
    };
    store.Submit(std::move(write));
  }

 private:
  struct State {
    State(int rows, Response* response, Done done)
        : remaining(rows), response(response), done(std::move(done)) {}

    void Finish(int index, const absl::Status& status, bool replayed) {
      type::v1::RowResult* result = response->mutable_results(index);
      result->set_index(index);  // a replayed result carries the first call's index
      if (!status.ok()) {
        result->set_outcome(type::v1::RowResult::OUTCOME_REJECTED);
        result->set_code(static_cast<int>(status.code()));
        result->set_message(std::string(status.message()));
        result->set_reason(ErrorReason(status));
        result->clear_resource();
      } else {
        result->set_outcome(replayed ? type::v1::RowResult::OUTCOME_ALREADY_APPLIED
                                     : type::v1::RowResult::OUTCOME_APPLIED);
      }
      if (remaining.fetch_sub(1) != 1) return;
      for (const type::v1::RowResult& r : response->results()) {
        if (r.outcome() == type::v1::RowResult::OUTCOME_APPLIED) {
          response->set_applied(response->applied() + 1);
        } else if (r.outcome() == type::v1::RowResult::OUTCOME_ALREADY_APPLIED) {
          response->set_already_applied(response->already_applied() + 1);
        } else {
          response->set_rejected(response->rejected() + 1);
        }
      }
      done(absl::OkStatus());
    }

    std::atomic<int> remaining;
    Response* response;
    Done done;
  };

  std::shared_ptr<State> state_;
};

}  // namespace htx::api
