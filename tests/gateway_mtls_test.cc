// The gateway over mutual TLS, with certificates made here by a test CA: a
// verified client certificate is mapped through the identities file, a TLS
// client without one needs another credential, an unlisted common name is
// refused, and a certificate from another CA does not get past the handshake.
#include <grpc/grpc_security_constants.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/testing/testing.h"
#include "gtest/gtest.h"
#include "htx/gateway/v1/audit.pb.h"
#include "services/gateway/gateway_harness.h"
#include "tests/gateway_test_data.h"

namespace htx::gateway {
namespace {

using ::htx::testing::Context;
using ::htx::testing::StatusIs;
using ::htx::testing::StatusIsWithReason;

constexpr char kClientCn[] = "so-nong-nghiep.ha-noi";

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

// A key and its certificate, as objects (to sign others) and as PEM.
struct Issued {
  Key key;
  Cert cert;
  std::string key_pem;
  std::string cert_pem;
};

std::string Pem(int (*write)(BIO*, void*), void* object) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || write(bio.get(), object) != 1) return "";
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

int WriteCert(BIO* bio, void* cert) { return PEM_write_bio_X509(bio, static_cast<X509*>(cert)); }
int WriteKey(BIO* bio, void* key) {
  return PEM_write_bio_PrivateKey(bio, static_cast<EVP_PKEY*>(key), nullptr, nullptr, 0, nullptr,
                                  nullptr);
}

bool AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (extension == nullptr) return false;
  const bool added = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return added;
}

// A P-256 key and a certificate for `common_name`, signed by `issuer` (or
// self-signed when null), with the given extensions. Fails the test and
// returns empty PEM on any OpenSSL error.
Issued Issue(const std::string& common_name, const Issued* issuer,
             const std::vector<std::pair<int, const char*>>& extensions) {
  static long serial = 1;
  Issued out;
  out.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  out.cert.reset(X509_new());
  EXPECT_NE(out.key, nullptr);
  EXPECT_NE(out.cert, nullptr);
  if (out.key == nullptr || out.cert == nullptr) return out;
  X509* cert = out.cert.get();
  bool ok = X509_set_version(cert, X509_VERSION_3) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600) != nullptr &&
            X509_set_pubkey(cert, out.key.get()) == 1 &&
            X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                       -1, -1, 0) == 1;
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  EVP_PKEY* issuer_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  ok = ok && X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)) == 1;
  for (const auto& [nid, value] : extensions) {
    ok = ok && AddExtension(cert, issuer_cert, nid, value);
  }
  ok = ok && X509_sign(cert, issuer_key, EVP_sha256()) > 0;
  EXPECT_TRUE(ok) << "cannot make the certificate of " << common_name;
  if (!ok) return out;
  out.key_pem = Pem(WriteKey, out.key.get());
  out.cert_pem = Pem(WriteCert, cert);
  EXPECT_FALSE(out.key_pem.empty());
  EXPECT_FALSE(out.cert_pem.empty());
  return out;
}

Issued IssueCa(const std::string& common_name) {
  return Issue(common_name, nullptr,
               {{NID_basic_constraints, "critical,CA:TRUE"},
                {NID_key_usage, "critical,keyCertSign,cRLSign"},
                {NID_subject_key_identifier, "hash"}});
}

Issued IssueClient(const std::string& common_name, const Issued& ca) {
  return Issue(common_name, &ca,
               {{NID_basic_constraints, "critical,CA:FALSE"},
                {NID_key_usage, "critical,digitalSignature"},
                {NID_ext_key_usage, "clientAuth"},
                {NID_authority_key_identifier, "keyid"}});
}

// Made once: the CA the gateway trusts, its server certificate, clients.
struct Pki {
  Issued ca = IssueCa("HTX Plan test CA");
  Issued server = Issue("localhost", &ca,
                        {{NID_basic_constraints, "critical,CA:FALSE"},
                         {NID_key_usage, "critical,digitalSignature"},
                         {NID_ext_key_usage, "serverAuth"},
                         {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                         {NID_authority_key_identifier, "keyid"}});
  Issued client = IssueClient(kClientCn, ca);
  Issued stranger = IssueClient("so-tai-chinh.khong-ro", ca);
  Issued other_ca = IssueCa("Another CA");
  Issued impostor = IssueClient(kClientCn, other_ca);
};

const Pki& TestPki() {
  static const Pki* pki = new Pki;
  return *pki;
}

GatewayHarness::Options MtlsOptions() {
  const Pki& pki = TestPki();
  grpc::SslServerCredentialsOptions tls;
  tls.pem_root_certs = pki.ca.cert_pem;
  tls.pem_key_cert_pairs.push_back({pki.server.key_pem, pki.server.cert_pem});
  tls.client_certificate_request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  GatewayHarness::Options options;
  options.server.credentials = grpc::SslServerCredentials(tls);
  return options;
}

class GatewayMtlsTest : public ::testing::Test {
 protected:
  GatewayMtlsTest() : harness_(MtlsOptions()) { SeedRegistry(harness_.registry()); }

  // A TLS stub trusting the test CA, presenting `client` when given.
  std::unique_ptr<rv1::RegistryService::Stub> Stub(const Issued* client) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = TestPki().ca.cert_pem;
    if (client != nullptr) {
      tls.pem_private_key = client->key_pem;
      tls.pem_cert_chain = client->cert_pem;
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return rv1::RegistryService::NewStub(
        grpc::CreateCustomChannel(harness_.address(), grpc::SslCredentials(tls), args));
  }

  static grpc::Status Get(rv1::RegistryService::Stub& stub, const std::string& name,
                          std::unique_ptr<grpc::ClientContext> context = Context()) {
    rv1::GetOrganizationRequest request;
    request.set_name(name);
    rv1::Organization out;
    grpc::Status status = stub.GetOrganization(context.get(), request, &out);
    if (status.ok()) {
      EXPECT_EQ(out.name(), name);
    }
    return status;
  }

  GatewayHarness harness_;
};

TEST_F(GatewayMtlsTest, AMappedCertificateActsInItsScope) {
  const std::string subject = harness_.AddCertificate(kClientCn, "so-nong-nghiep-ha-noi",
                                                      auth::v1::ROLE_PROVINCE_EDITOR, kHanoi);
  auto stub = Stub(&TestPki().client);
  HTX_EXPECT_OK(Get(*stub, kOwnOrganization));
  EXPECT_THAT(Get(*stub, kHcmcOrganization),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));
  // The refusal is audited under the certificate's identity.
  v1::ListAuditRecordsRequest list;
  list.set_page_size(100);
  absl::StatusOr<v1::ListAuditRecordsResponse> records = harness_.audit().List(list);
  HTX_ASSERT_OK(records.status());
  ASSERT_EQ(records->records_size(), 1);
  EXPECT_EQ(records->records(0).subject(), subject);
  EXPECT_EQ(records->records(0).decision(), v1::DECISION_DENIED);
  // A bearer token sent over the same connection wins over the certificate.
  HTX_EXPECT_OK(
      Get(*stub, kHcmcOrganization,
          GatewayHarness::WithToken(harness_.Token(auth::v1::ROLE_PROVINCE_EDITOR, kHcmc))));
}

TEST_F(GatewayMtlsTest, ATlsClientWithoutACertificateNeedsAnotherCredential) {
  auto stub = Stub(nullptr);
  EXPECT_THAT(Get(*stub, kOwnOrganization),
              StatusIsWithReason(absl::StatusCode::kUnauthenticated, "CREDENTIALS_MISSING"));
  HTX_EXPECT_OK(
      Get(*stub, kOwnOrganization,
          GatewayHarness::WithToken(harness_.Token(auth::v1::ROLE_PROVINCE_EDITOR, kHanoi))));
}

TEST_F(GatewayMtlsTest, ACertificateNotInTheIdentitiesFileIsRefused) {
  harness_.AddCertificate(kClientCn, "so-nong-nghiep-ha-noi", auth::v1::ROLE_PROVINCE_EDITOR,
                          kHanoi);
  auto stub = Stub(&TestPki().stranger);
  EXPECT_THAT(Get(*stub, kOwnOrganization),
              StatusIsWithReason(absl::StatusCode::kUnauthenticated, "CERTIFICATE_UNKNOWN"));
}

TEST_F(GatewayMtlsTest, ACertificateFromAnotherCaFailsTheHandshake) {
  // Same common name as a mapped certificate, but not signed by the CA the
  // gateway trusts: the connection itself is refused.
  harness_.AddCertificate(kClientCn, "so-nong-nghiep-ha-noi", auth::v1::ROLE_PROVINCE_EDITOR,
                          kHanoi);
  auto stub = Stub(&TestPki().impostor);
  EXPECT_THAT(Get(*stub, kOwnOrganization), StatusIs(absl::StatusCode::kUnavailable));
  // Nothing reached the gateway's handlers, so nothing is audited.
  v1::ListAuditRecordsRequest list;
  list.set_page_size(100);
  absl::StatusOr<v1::ListAuditRecordsResponse> records = harness_.audit().List(list);
  HTX_ASSERT_OK(records.status());
  EXPECT_EQ(records->records_size(), 0);
}

}  // namespace
}  // namespace htx::gateway
