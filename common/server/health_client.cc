#include "common/server/health_client.h"

#include <grpcpp/generic/generic_stub.h>

#include <future>
#include <thread>

#include "common/status/status.h"
#include "google/protobuf/unknown_field_set.h"

namespace htx::server {

absl::StatusOr<Health> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& service, absl::Duration timeout) {
  // HealthCheckRequest { string service = 1; }
  std::string request;
  if (service.size() > 127) {  // the one-byte length below
    return absl::InvalidArgumentError("service: at most 127 bytes");
  }
  if (!service.empty()) {
    request.push_back(0x0a);
    request.push_back(static_cast<char>(service.size()));
    request += service;
  }
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::GenericStub stub(channel);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request_buffer,
                 &response_buffer, [&done](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return FromGrpcStatus(status);
  // HealthCheckResponse { ServingStatus status = 1; }: 0x08, then the value.
  std::vector<grpc::Slice> slices;
  if (!response_buffer.Dump(&slices).ok()) return absl::DataLossError("unreadable answer");
  std::string response;
  for (const grpc::Slice& s : slices) response.append(s.begin(), s.end());
  if (response.empty()) return Health::kUnknown;
  if (response.size() != 2 || response[0] != 0x08) {
    return absl::DataLossError("unexpected health answer");
  }
  return static_cast<Health>(response[1]);
}

bool WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
                      absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    absl::StatusOr<Health> health = CheckHealth(channel, service, absl::Seconds(1));
    if (health.ok() && *health == Health::kServing) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

namespace {

// Sends one list_services request and collects the answers.
class ListServicesCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  ListServicesCall(grpc::GenericStub& stub, absl::Duration timeout) {
    // ServerReflectionRequest { string list_services = 7; } with "" as value.
    grpc::Slice slice(std::string("\x3a\x00", 2));
    request_ = grpc::ByteBuffer(&slice, 1);
    context_.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    stub.PrepareBidiStreamingCall(&context_,
                                  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                  grpc::StubOptions(), this);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  void OnWriteDone(bool ok) override {
    if (ok) StartWritesDone();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    std::vector<grpc::Slice> slices;
    if (response_.Dump(&slices).ok()) {
      std::string bytes;
      for (const grpc::Slice& s : slices) bytes.append(s.begin(), s.end());
      answers_.push_back(std::move(bytes));
    }
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& status) override { done_.set_value(status); }

  grpc::Status Wait() { return done_.get_future().get(); }
  const std::vector<std::string>& answers() const { return answers_; }

 private:
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::vector<std::string> answers_;
  std::promise<grpc::Status> done_;
};

}  // namespace

absl::StatusOr<std::vector<std::string>> ListServices(const std::shared_ptr<grpc::Channel>& channel,
                                                      absl::Duration timeout) {
  grpc::GenericStub stub(channel);
  ListServicesCall call(stub, timeout);
  grpc::Status status = call.Wait();
  if (!status.ok()) return FromGrpcStatus(status);
  // ServerReflectionResponse { ListServiceResponse list_services_response = 6; }
  // ListServiceResponse { repeated ServiceResponse service = 1; }
  // ServiceResponse { string name = 1; }
  std::vector<std::string> names;
  for (const std::string& answer : call.answers()) {
    google::protobuf::UnknownFieldSet response;
    if (!response.ParseFromString(answer)) return absl::DataLossError("unreadable answer");
    for (int i = 0; i < response.field_count(); ++i) {
      const google::protobuf::UnknownField& list = response.field(i);
      if (list.number() != 6 ||
          list.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED)
        continue;
      google::protobuf::UnknownFieldSet services;
      if (!services.ParseFromString(list.length_delimited())) continue;
      for (int j = 0; j < services.field_count(); ++j) {
        if (services.field(j).type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED)
          continue;
        google::protobuf::UnknownFieldSet service;
        if (!service.ParseFromString(services.field(j).length_delimited())) continue;
        for (int k = 0; k < service.field_count(); ++k) {
          if (service.field(k).number() == 1 &&
              service.field(k).type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
            names.push_back(service.field(k).length_delimited());
          }
        }
      }
    }
  }
  return names;
}

}  // namespace htx::server
