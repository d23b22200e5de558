#include "common/server/caller.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>

#include "absl/strings/str_cat.h"

namespace htx::server {
namespace {

absl::string_view Header(const grpc::ServerContextBase& context, absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return {};
  return absl::string_view(it->second.data(), it->second.size());
}

// `principal` signed to expire kPrincipalLifetime from now.
auth::InternalKey::Signed SignFresh(const auth::InternalKey& key, auth::Principal principal) {
  principal.set_expires_unix_ms(absl::ToUnixMillis(absl::Now() + kPrincipalLifetime));
  return key.Sign(principal);
}

// Signs every call at the moment it starts, so that long-lived channels never
// send an expired principal.
class SigningInterceptor : public grpc::experimental::Interceptor {
 public:
  SigningInterceptor(const auth::InternalKey* key, const auth::Principal* principal)
      : key_(key), principal_(principal) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      auth::InternalKey::Signed signed_principal = SignFresh(*key_, *principal_);
      auto* metadata = methods->GetSendInitialMetadata();
      metadata->emplace(auth::kPrincipalHeader, std::move(signed_principal.principal));
      metadata->emplace(auth::kPrincipalSignatureHeader, std::move(signed_principal.signature));
    }
    methods->Proceed();
  }

 private:
  const auth::InternalKey* key_;
  const auth::Principal* principal_;
};

class SigningInterceptorFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  SigningInterceptorFactory(auth::InternalKey key, auth::Principal principal)
      : key_(std::move(key)), principal_(std::move(principal)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new SigningInterceptor(&key_, &principal_);
  }

 private:
  auth::InternalKey key_;
  auth::Principal principal_;
};

// Adds fixed headers to every call.
class HeaderInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit HeaderInterceptor(const std::vector<std::pair<std::string, std::string>>* headers)
      : headers_(headers) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      for (const auto& [key, value] : *headers_) {
        methods->GetSendInitialMetadata()->emplace(key, value);
      }
    }
    methods->Proceed();
  }

 private:
  const std::vector<std::pair<std::string, std::string>>* headers_;
};

class HeaderInterceptorFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit HeaderInterceptorFactory(std::vector<std::pair<std::string, std::string>> headers)
      : headers_(std::move(headers)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new HeaderInterceptor(&headers_);
  }

 private:
  std::vector<std::pair<std::string, std::string>> headers_;
};

std::shared_ptr<grpc::Channel> InterceptedChannel(
    const std::string& target, const grpc::ChannelArguments& args,
    std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> factory) {
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(std::move(factory));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      target, grpc::InsecureChannelCredentials(), args, std::move(factories));
}

}  // namespace

absl::StatusOr<auth::Principal> CallerCheck::Caller(const grpc::ServerContextBase& context) const {
  return key_.Verify(Header(context, auth::kPrincipalHeader),
                     Header(context, auth::kPrincipalSignatureHeader), clock_());
}

absl::StatusOr<auth::Principal> CallerCheck::Authorize(
    const grpc::ServerContextBase& context, absl::string_view full_method,
    const google::protobuf::Message& request) const {
  absl::StatusOr<auth::Principal> caller = Caller(context);
  if (!caller.ok()) return caller.status();
  if (absl::Status s = auth::Authorize(*caller, full_method, auth::AreasOf(request)); !s.ok()) {
    return s;
  }
  return caller;
}

void AttachPrincipal(grpc::ClientContext* context, const auth::InternalKey& key,
                     auth::Principal principal) {
  auth::InternalKey::Signed signed_principal = SignFresh(key, std::move(principal));
  context->AddMetadata(auth::kPrincipalHeader, signed_principal.principal);
  context->AddMetadata(auth::kPrincipalSignatureHeader, signed_principal.signature);
}

std::shared_ptr<grpc::Channel> SignedChannel(const std::string& target, auth::InternalKey key,
                                             auth::Principal principal,
                                             const grpc::ChannelArguments& args) {
  return InterceptedChannel(
      target, args,
      std::make_unique<SigningInterceptorFactory>(std::move(key), std::move(principal)));
}

std::shared_ptr<grpc::Channel> HeaderChannel(
    const std::string& target, std::vector<std::pair<std::string, std::string>> headers,
    const grpc::ChannelArguments& args) {
  return InterceptedChannel(target, args,
                            std::make_unique<HeaderInterceptorFactory>(std::move(headers)));
}

auth::Principal OperatorPrincipal(absl::string_view tool) {
  auth::Principal principal;
  principal.set_subject(absl::StrCat("operator:", tool));
  principal.set_role(auth::v1::ROLE_MINISTRY_ADMIN);
  return principal;
}

}  // namespace htx::server
