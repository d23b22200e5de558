// The plumbing every service's gRPC face repeats around its calls: answer
// UNAVAILABLE until the store is attached, admit the caller, then run the call
// and finish the reactor when it reports; and the bulk-stream reactor that
// commits one message at a time. What a service decides (how a caller is
// admitted, what a call or a batch does) stays in the service.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/policy.h"
#include "common/server/caller.h"
#include "common/status/status.h"

namespace htx::server {

using Done = std::function<void(absl::Status)>;

// What every service's gRPC face holds: the check of its callers' principals
// (see caller.h) and its backend, the operations over its store. The server
// can start (and report NOT_SERVING) before the store is open: until Attach()
// the backend is null and calls answer UNAVAILABLE.
template <typename Backend>
class Attachable {
 public:
  explicit Attachable(CallerCheck callers) : callers_(std::move(callers)) {}
  void Attach(Backend* backend) { backend_.store(backend); }

 protected:
  const CallerCheck& callers() const { return callers_; }
  Backend* backend() const { return backend_.load(); }

 private:
  CallerCheck callers_;
  std::atomic<Backend*> backend_{nullptr};
};

// UNAVAILABLE (NOT_READY): "{what} is starting; retry shortly".
absl::Status NotReady(absl::string_view what);

// Logs a refused call: the caller (when known), the method and the refusal.
void LogRefusal(const absl::StatusOr<auth::Principal>& caller, absl::string_view full_method,
                const absl::Status& refused);

// A unary call on the callback API. UNAVAILABLE (NotReady(what)) while
// `backend` is null; else `admit(*backend)` gives the caller's principal or
// the refusal to finish with; else `call(*backend, principal, done)` runs and
// the reactor finishes when `done` does (inline for reads, on the store's
// writer for writes, on another thread after a call to another service).
template <typename Backend, typename Admit, typename Call>
grpc::ServerUnaryReactor* HandleUnary(grpc::CallbackServerContext* context, Backend* backend,
                                      absl::string_view what, Admit admit, Call call) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (backend == nullptr) {
    reactor->Finish(ToGrpcStatus(NotReady(what)));
    return reactor;
  }
  absl::StatusOr<auth::Principal> caller = admit(*backend);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  call(*backend, *caller,
       [reactor](absl::Status status) { reactor->Finish(ToGrpcStatus(status)); });
  return reactor;
}

// The `call` of HandleUnary for a plain read, `read(backend)` returning
// StatusOr<Response>: it runs inline on the callback thread, which is fine as
// reads touch only memory and the block cache, never wait on fsync.
template <typename Response, typename Read>
auto InlineRead(Response* response, Read read) {
  return
      [response, read = std::move(read)](auto& backend, const auth::Principal&, const Done& done) {
        absl::StatusOr<Response> result = read(backend);
        if (result.ok()) *response = *std::move(result);
        done(result.status());
      };
}

// A bulk stream on the callback API: reads a message, checks the caller may
// write every area it names, commits it, answers it, reads the next. One
// message in flight per stream is the stream's back-pressure. A refused
// message ends the stream; the messages before it stay applied.
template <typename Request, typename Response>
class BulkReactor final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  // Until `backend` is attached (null) the stream ends with NotReady(what); a
  // `caller` that is not OK ends it with that refusal. Otherwise each message
  // is committed by `commit(*backend, caller, request, response, done)`, whose
  // `done` runs once the message is durable (OK) or with the error that ends
  // the stream.
  template <typename Backend, typename Commit>
  BulkReactor(std::string full_method, absl::string_view what, Backend* backend,
              absl::StatusOr<auth::Principal> caller, Commit commit)
      : full_method_(std::move(full_method)), caller_(std::move(caller)) {
    if (backend == nullptr) {
      this->Finish(ToGrpcStatus(NotReady(what)));
      return;
    }
    if (!caller_.ok()) {
      LogRefusal(caller_, full_method_, caller_.status());
      this->Finish(ToGrpcStatus(caller_.status()));
      return;
    }
    commit_ = [backend, commit = std::move(commit)](
                  const auth::Principal& caller, const Request& request, Response* response,
                  Done done) { commit(*backend, caller, request, response, std::move(done)); };
    this->StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed its side: every message has been answered
      this->Finish(grpc::Status::OK);
      return;
    }
    if (absl::Status s = auth::Authorize(*caller_, full_method_, auth::AreasOf(request_));
        !s.ok()) {
      LogRefusal(caller_, full_method_, s);
      this->Finish(ToGrpcStatus(s));
      return;
    }
    commit_(*caller_, request_, &response_, [this](absl::Status status) {
      if (!status.ok()) {
        this->Finish(ToGrpcStatus(status));
        return;
      }
      this->StartWrite(&response_);
    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      this->Finish(ToGrpcStatus(Error(absl::StatusCode::kCancelled, "STREAM_BROKEN",
                                      "the client stopped reading answers")));
      return;
    }
    this->StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  const std::string full_method_;
  const absl::StatusOr<auth::Principal> caller_;
  std::function<void(const auth::Principal&, const Request&, Response*, Done)> commit_;
  Request request_;
  Response response_;
};

}  // namespace htx::server
