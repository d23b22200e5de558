#include "common/auth/credentials.h"

#include <openssl/hmac.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/status/status.h"
#include "common/testing/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace htx::auth {
namespace {

using ::htx::testing::StatusIs;
using ::htx::testing::StatusIsWithReason;
using ::htx::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::StatusCode kUnauthenticated = absl::StatusCode::kUnauthenticated;
constexpr char kIssuer[] = "https://id.htx.gov.vn";
constexpr char kAudience[] = "htx-gateway";

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// A clock the test moves by hand.
class FakeClock {
 public:
  absl::Time Now() const {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  Clock AsClock() const {
    return [this] { return Now(); };
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z
};

// Claims as raw JSON values; an empty value drops the claim.
std::string ClaimsJson(const FakeClock& clock, std::map<std::string, std::string> overrides = {}) {
  const int64_t now = absl::ToUnixSeconds(clock.Now());
  std::map<std::string, std::string> claims = {
      {"iss", absl::StrCat("\"", kIssuer, "\"")},
      {"aud", absl::StrCat("\"", kAudience, "\"")},
      {"sub", "\"nguyen.van.a\""},
      {"exp", absl::StrCat(now + 3600)},
      {"iat", absl::StrCat(now)},
      {"role", "\"province_editor\""},
      {"scope", "\"provinces/01\""},
  };
  for (auto& [key, value] : overrides) claims[key] = value;
  std::vector<std::string> members;
  for (const auto& [key, value] : claims) {
    if (!value.empty()) members.push_back(absl::StrCat("\"", key, "\":", value));
  }
  return absl::StrCat("{", absl::StrJoin(members, ","), "}");
}

// A token assembled by hand, for headers SignJwt would never write.
std::string RawToken(absl::string_view header_json, absl::string_view claims_json,
                     absl::string_view signature) {
  return absl::StrCat(absl::WebSafeBase64Escape(header_json), ".",
                      absl::WebSafeBase64Escape(claims_json), ".",
                      absl::WebSafeBase64Escape(signature));
}

std::string Hmac(absl::string_view key, absl::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* alg : {"ES256", "RS256", "EdDSA"}) {
      absl::StatusOr<KeyPair> pair = GenerateKeyPair(alg);
      ASSERT_TRUE(pair.ok()) << pair.status();
      keys_[alg] = *pair;
    }
    AddKey("es-1", "ES256");
    AddKey("rs-1", "RS256");
    AddKey("ed-1", "EdDSA");
  }

  void AddKey(const std::string& kid, const std::string& alg) {
    WriteFile(dir_.Sub(kid + ".pem"), keys_[alg].public_pem);
  }

  std::unique_ptr<JwtVerifier> Verifier(std::vector<std::string> algorithms = {"ES256", "RS256",
                                                                               "EdDSA"}) {
    JwtOptions options;
    options.keys_dir = dir_.path();
    options.issuer = kIssuer;
    options.audience = kAudience;
    options.algorithms = std::move(algorithms);
    options.clock = clock_.AsClock();
    absl::StatusOr<std::unique_ptr<JwtVerifier>> verifier = JwtVerifier::Create(options);
    EXPECT_TRUE(verifier.ok()) << verifier.status();
    return verifier.ok() ? *std::move(verifier) : nullptr;
  }

  std::string Mint(const std::string& alg, const std::string& kid, const std::string& claims) {
    absl::StatusOr<std::string> token = SignJwt(keys_[alg].private_pem, alg, kid, claims);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.value_or("");
  }
  std::string Mint(std::map<std::string, std::string> overrides = {}) {
    return Mint("ES256", "es-1", ClaimsJson(clock_, std::move(overrides)));
  }

  TempDir dir_;
  FakeClock clock_;
  std::map<std::string, KeyPair> keys_;
};

TEST_F(JwtTest, ValidTokenForEachAlgorithm) {
  auto verifier = Verifier();
  const std::pair<const char*, const char*> cases[] = {
      {"ES256", "es-1"}, {"RS256", "rs-1"}, {"EdDSA", "ed-1"}};
  for (const auto& [alg, kid] : cases) {
    absl::StatusOr<Principal> principal = verifier->Verify(Mint(alg, kid, ClaimsJson(clock_)));
    ASSERT_TRUE(principal.ok()) << alg << ": " << principal.status();
    EXPECT_EQ(principal->subject(), "jwt:https://id.htx.gov.vn#nguyen.van.a");
    EXPECT_EQ(principal->role(), v1::ROLE_PROVINCE_EDITOR);
    EXPECT_EQ(principal->scope(), "provinces/01");
    EXPECT_TRUE(principal->methods().empty());
  }
}

TEST_F(JwtTest, Es256SignatureIsRawRAndS) {
  std::vector<std::string> parts = absl::StrSplit(Mint(), '.');
  ASSERT_EQ(parts.size(), 3u);
  std::string signature;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[2], &signature));
  EXPECT_EQ(signature.size(), 64u);
  EXPECT_EQ(parts[2].find('='), std::string::npos);
}

TEST_F(JwtTest, DepartmentMethodsAndNationScope) {
  auto verifier = Verifier();
  absl::StatusOr<Principal> principal = verifier->Verify(
      Mint({{"role", "\"department_integration\""},
            {"scope", "\"\""},
            {"aud", absl::StrCat("[\"other\",\"", kAudience, "\"]")},
            {"methods", "[\"/htx.indicator.v1.IndicatorService/BatchUpsertValues\"]"}}));
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->role(), v1::ROLE_DEPARTMENT_INTEGRATION);
  EXPECT_EQ(principal->scope(), "");
  EXPECT_THAT(principal->methods(),
              ElementsAre("/htx.indicator.v1.IndicatorService/BatchUpsertValues"));
}

TEST_F(JwtTest, ExpiryAndNotBeforeWithLeeway) {
  auto verifier = Verifier();
  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  EXPECT_THAT(verifier->Verify(Mint({{"exp", absl::StrCat(now - 31)}})),
              StatusIsWithReason(kUnauthenticated, "TOKEN_EXPIRED"));
  EXPECT_TRUE(verifier->Verify(Mint({{"exp", absl::StrCat(now - 10)}})).ok());
  EXPECT_THAT(verifier->Verify(Mint({{"exp", ""}})),
              StatusIsWithReason(kUnauthenticated, "TOKEN_CLAIMS"));
  EXPECT_THAT(verifier->Verify(Mint({{"exp", "\"tomorrow\""}})),
              StatusIsWithReason(kUnauthenticated, "TOKEN_CLAIMS"));
  EXPECT_THAT(verifier->Verify(Mint({{"nbf", absl::StrCat(now + 60)}})),
              StatusIsWithReason(kUnauthenticated, "TOKEN_NOT_YET_VALID"));
  EXPECT_TRUE(verifier->Verify(Mint({{"nbf", absl::StrCat(now + 10)}})).ok());

  // The same token expires as the clock moves.
  const std::string token = Mint({{"exp", absl::StrCat(now + 60)}});
  EXPECT_TRUE(verifier->Verify(token).ok());
  clock_.Advance(absl::Seconds(91));
  EXPECT_THAT(verifier->Verify(token), StatusIsWithReason(kUnauthenticated, "TOKEN_EXPIRED"));
}

TEST_F(JwtTest, IssuerAndAudience) {
  auto verifier = Verifier();
  EXPECT_THAT(verifier->Verify(Mint({{"iss", "\"https://evil.example\""}})),
              StatusIsWithReason(kUnauthenticated, "TOKEN_ISSUER"));
  EXPECT_THAT(verifier->Verify(Mint({{"iss", ""}})),
              StatusIsWithReason(kUnauthenticated, "TOKEN_ISSUER"));
  EXPECT_THAT(verifier->Verify(Mint({{"aud", "\"htx-gateway-staging\""}})),
              StatusIsWithReason(kUnauthenticated, "TOKEN_AUDIENCE"));
  EXPECT_THAT(verifier->Verify(Mint({{"aud", "[\"a\",\"b\"]"}})),
              StatusIsWithReason(kUnauthenticated, "TOKEN_AUDIENCE"));
  EXPECT_THAT(verifier->Verify(Mint({{"aud", ""}})),
              StatusIsWithReason(kUnauthenticated, "TOKEN_AUDIENCE"));
}

TEST_F(JwtTest, Claims) {
  auto verifier = Verifier();
  const std::map<std::string, std::string> refused[] = {
      {{"role", "\"service\""}},
      {{"role", "\"root\""}},
      {{"role", ""}},
      {{"sub", ""}},
      {{"sub", "\"\""}},
      {{"scope", ""}},
      {{"scope", "7"}},
      {{"scope", "\"catalogs/2026\""}},
      {{"scope", "\"provinces/01/organizations/0101234567\""}},
      {{"methods", "\"/htx.registry.v1.RegistryService/GetUnit\""}},
      {{"methods", "[1]"}},
  };
  for (const auto& claims : refused) {
    absl::StatusOr<Principal> result = verifier->Verify(Mint(claims));
    EXPECT_THAT(result, StatusIsWithReason(kUnauthenticated, "TOKEN_CLAIMS"))
        << claims.begin()->first << "=" << claims.begin()->second;
  }
  EXPECT_THAT(verifier->Verify(Mint({{"role", "\"service\""}})).status().message(),
              HasSubstr("service"));
}

TEST_F(JwtTest, UnknownKeyAndBadSignature) {
  auto verifier = Verifier();
  EXPECT_THAT(verifier->Verify(Mint("ES256", "es-9", ClaimsJson(clock_))),
              StatusIsWithReason(kUnauthenticated, "TOKEN_UNKNOWN_KEY"));
  EXPECT_THAT(verifier->Verify(Mint("ES256", "", ClaimsJson(clock_))),
              StatusIsWithReason(kUnauthenticated, "TOKEN_UNKNOWN_KEY"));

  for (const auto& [alg, kid] : std::vector<std::pair<std::string, std::string>>{
           {"ES256", "es-1"}, {"RS256", "rs-1"}, {"EdDSA", "ed-1"}}) {
    std::vector<std::string> parts = absl::StrSplit(Mint(alg, kid, ClaimsJson(clock_)), '.');
    std::string signature;
    ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[2], &signature));
    signature[signature.size() / 2] ^= 0x01;
    const std::string flipped =
        absl::StrCat(parts[0], ".", parts[1], ".", absl::WebSafeBase64Escape(signature));
    EXPECT_THAT(verifier->Verify(flipped), StatusIsWithReason(kUnauthenticated, "TOKEN_SIGNATURE"))
        << alg;
    // Claims swapped under a valid signature.
    const std::string swapped = absl::StrCat(
        parts[0], ".",
        absl::WebSafeBase64Escape(ClaimsJson(clock_, {{"role", "\"ministry_admin\""}})), ".",
        parts[2]);
    EXPECT_THAT(verifier->Verify(swapped), StatusIsWithReason(kUnauthenticated, "TOKEN_SIGNATURE"))
        << alg;
  }
  // A key from another pair with the right kid.
  absl::StatusOr<KeyPair> other = GenerateKeyPair("ES256");
  ASSERT_TRUE(other.ok());
  absl::StatusOr<std::string> forged =
      SignJwt(other->private_pem, "ES256", "es-1", ClaimsJson(clock_));
  ASSERT_TRUE(forged.ok());
  EXPECT_THAT(verifier->Verify(*forged), StatusIsWithReason(kUnauthenticated, "TOKEN_SIGNATURE"));
}

TEST_F(JwtTest, AlgorithmsArePinned) {
  auto verifier = Verifier();
  const std::string claims = ClaimsJson(clock_);
  EXPECT_THAT(verifier->Verify(RawToken(R"({"alg":"none","kid":"es-1"})", claims, "")),
              StatusIsWithReason(kUnauthenticated, "TOKEN_ALGORITHM"));
  EXPECT_THAT(verifier->Verify(RawToken(R"({"alg":"none"})", claims, "x")),
              StatusIsWithReason(kUnauthenticated, "TOKEN_ALGORITHM"));
  EXPECT_THAT(verifier->Verify(RawToken(R"({"kid":"es-1"})", claims, "x")),
              StatusIsWithReason(kUnauthenticated, "TOKEN_ALGORITHM"));

  // The classic confusion: HMAC keyed with the public key, under RS256 or HS256.
  const std::string& rsa_public = keys_["RS256"].public_pem;
  for (const char* header : {R"({"alg":"RS256","typ":"JWT","kid":"rs-1"})",
                             R"({"alg":"HS256","typ":"JWT","kid":"rs-1"})"}) {
    const std::string input =
        absl::StrCat(absl::WebSafeBase64Escape(header), ".", absl::WebSafeBase64Escape(claims));
    const std::string token =
        absl::StrCat(input, ".", absl::WebSafeBase64Escape(Hmac(rsa_public, input)));
    absl::StatusOr<Principal> result = verifier->Verify(token);
    EXPECT_THAT(result, StatusIs(kUnauthenticated)) << header;
    EXPECT_THAT(ErrorReason(result.status()),
                ::testing::AnyOf("TOKEN_ALGORITHM", "TOKEN_SIGNATURE"))
        << header;
  }
  EXPECT_THAT(verifier->Verify(RawToken(R"({"alg":"HS256","kid":"rs-1"})", claims, "x")),
              StatusIsWithReason(kUnauthenticated, "TOKEN_ALGORITHM"));

  // A header naming another algorithm than the key's.
  std::vector<std::string> parts = absl::StrSplit(Mint("RS256", "rs-1", claims), '.');
  const std::string relabelled =
      absl::StrCat(absl::WebSafeBase64Escape(R"({"alg":"ES256","typ":"JWT","kid":"rs-1"})"), ".",
                   parts[1], ".", parts[2]);
  EXPECT_THAT(verifier->Verify(relabelled),
              StatusIsWithReason(kUnauthenticated, "TOKEN_ALGORITHM"));
  EXPECT_THAT(verifier->Verify(Mint("ES256", "ed-1", claims)),
              StatusIsWithReason(kUnauthenticated, "TOKEN_ALGORITHM"));

  // Not pinned by this verifier.
  auto es_only = Verifier({"ES256"});
  EXPECT_TRUE(es_only->Verify(Mint("ES256", "es-1", claims)).ok());
  EXPECT_THAT(es_only->Verify(Mint("EdDSA", "ed-1", claims)),
              StatusIsWithReason(kUnauthenticated, "TOKEN_ALGORITHM"));
  EXPECT_THAT(es_only->Verify(Mint("RS256", "rs-1", claims)),
              StatusIsWithReason(kUnauthenticated, "TOKEN_ALGORITHM"));
}

TEST_F(JwtTest, Malformed) {
  auto verifier = Verifier();
  const std::string good = Mint();
  std::vector<std::string> parts = absl::StrSplit(good, '.');
  const std::string claims = ClaimsJson(clock_);
  const std::string malformed[] = {
      "",
      "abc",
      "a.b",
      absl::StrCat(good, ".x"),
      absl::StrCat("!!!.", parts[1], ".", parts[2]),
      absl::StrCat(parts[0], "=.", parts[1], ".", parts[2]),
      RawToken("not json", claims, "x"),
      RawToken("[1,2]", claims, "x"),
      absl::StrCat(parts[0], ".", parts[1], ".", parts[2], "*"),
      std::string(10000, 'a'),
  };
  for (const std::string& token : malformed) {
    EXPECT_THAT(verifier->Verify(token), StatusIsWithReason(kUnauthenticated, "TOKEN_MALFORMED"))
        << token.substr(0, 80);
  }
  // A correctly signed payload that is not a JSON object.
  EXPECT_THAT(verifier->Verify(Mint("ES256", "es-1", "[\"role\"]")),
              StatusIsWithReason(kUnauthenticated, "TOKEN_MALFORMED"));
}

TEST_F(JwtTest, KeysRotateWithoutRestart) {
  auto verifier = Verifier();  // reload_interval 1s
  absl::StatusOr<KeyPair> next = GenerateKeyPair("ES256");
  ASSERT_TRUE(next.ok());
  const std::string old_token = Mint();
  absl::StatusOr<std::string> new_token =
      SignJwt(next->private_pem, "ES256", "es-2", ClaimsJson(clock_));
  ASSERT_TRUE(new_token.ok());

  WriteFile(dir_.Sub("es-2.pem"), next->public_pem);
  // Within the interval the directory is not read again.
  EXPECT_THAT(verifier->Verify(*new_token),
              StatusIsWithReason(kUnauthenticated, "TOKEN_UNKNOWN_KEY"));
  clock_.Advance(absl::Seconds(2));
  EXPECT_TRUE(verifier->Verify(*new_token).ok());
  EXPECT_TRUE(verifier->Verify(old_token).ok());

  // Retiring the old key.
  ASSERT_EQ(std::remove(dir_.Sub("es-1.pem").c_str()), 0);
  EXPECT_TRUE(verifier->Verify(old_token).ok());
  clock_.Advance(absl::Seconds(2));
  EXPECT_THAT(verifier->Verify(old_token),
              StatusIsWithReason(kUnauthenticated, "TOKEN_UNKNOWN_KEY"));
  EXPECT_TRUE(verifier->Verify(*new_token).ok());

  // Replacing a key in place under the same kid (same size, maybe the same mtime).
  absl::StatusOr<KeyPair> replacement = GenerateKeyPair("ES256");
  ASSERT_TRUE(replacement.ok());
  WriteFile(dir_.Sub("es-2.pem"), replacement->public_pem);
  clock_.Advance(absl::Seconds(2));
  EXPECT_THAT(verifier->Verify(*new_token),
              StatusIsWithReason(kUnauthenticated, "TOKEN_SIGNATURE"));
  absl::StatusOr<std::string> replaced =
      SignJwt(replacement->private_pem, "ES256", "es-2", ClaimsJson(clock_));
  ASSERT_TRUE(replaced.ok());
  EXPECT_TRUE(verifier->Verify(*replaced).ok());
}

TEST_F(JwtTest, UnusableKeyFilesAreIgnored) {
  WriteFile(dir_.Sub("junk.pem"), "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n");
  WriteFile(dir_.Sub("notes.txt"), "not a key");
  auto verifier = Verifier();
  EXPECT_TRUE(verifier->Verify(Mint()).ok());
  EXPECT_THAT(verifier->Verify(Mint("ES256", "junk", ClaimsJson(clock_))),
              StatusIsWithReason(kUnauthenticated, "TOKEN_UNKNOWN_KEY"));

  // A key file broken in place keeps the key it held.
  WriteFile(dir_.Sub("es-1.pem"), "garbage");
  clock_.Advance(absl::Seconds(2));
  EXPECT_TRUE(verifier->Verify(Mint()).ok());
}

TEST_F(JwtTest, ConcurrentVerifyDuringRotation) {
  JwtOptions options;
  options.keys_dir = dir_.path();
  options.issuer = kIssuer;
  options.audience = kAudience;
  options.reload_interval = absl::ZeroDuration();  // rescan on every call
  absl::StatusOr<std::unique_ptr<JwtVerifier>> verifier = JwtVerifier::Create(options);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  FakeClock real_time_claims;
  // Claims against the real clock, as this verifier uses absl::Now.
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  const std::string token = Mint(
      "EdDSA", "ed-1",
      ClaimsJson(real_time_claims, {{"exp", absl::StrCat(now + 600)}, {"iat", absl::StrCat(now)}}));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!(*verifier)->Verify(token).ok()) failures.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 20; ++i) AddKey(absl::StrCat("extra-", i), "ES256");
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(JwtCreateTest, UnusableOptions) {
  TempDir dir;
  JwtOptions options;
  options.keys_dir = dir.path();
  options.issuer = kIssuer;
  options.audience = kAudience;
  EXPECT_TRUE(JwtVerifier::Create(options).ok());

  JwtOptions no_dir = options;
  no_dir.keys_dir = "";
  EXPECT_THAT(JwtVerifier::Create(no_dir), StatusIs(absl::StatusCode::kInvalidArgument));
  JwtOptions missing_dir = options;
  missing_dir.keys_dir = dir.Sub("missing");
  EXPECT_THAT(JwtVerifier::Create(missing_dir), StatusIs(absl::StatusCode::kInvalidArgument));
  JwtOptions no_issuer = options;
  no_issuer.issuer = "";
  EXPECT_THAT(JwtVerifier::Create(no_issuer), StatusIs(absl::StatusCode::kInvalidArgument));
  JwtOptions hs256 = options;
  hs256.algorithms = {"ES256", "HS256"};
  EXPECT_THAT(JwtVerifier::Create(hs256), StatusIs(absl::StatusCode::kInvalidArgument));
  JwtOptions none = options;
  none.algorithms = {"none"};
  EXPECT_THAT(JwtVerifier::Create(none), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SignJwtTest, KeyMustMatchAlgorithm) {
  absl::StatusOr<KeyPair> ec = GenerateKeyPair("ES256");
  ASSERT_TRUE(ec.ok());
  EXPECT_THAT(SignJwt(ec->private_pem, "RS256", "k", "{}"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SignJwt("not a key", "ES256", "k", "{}"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(GenerateKeyPair("HS256"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ec->public_pem, HasSubstr("BEGIN PUBLIC KEY"));
  EXPECT_THAT(ec->private_pem, HasSubstr("BEGIN PRIVATE KEY"));
}

// ---------------------------------------------------------------- identities

constexpr char kBankMethod[] = "/htx.indicator.v1.IndicatorService/BatchUpsertValues";

class IdentityFileTest : public ::testing::Test {
 protected:
  std::string Line(const std::string& key, const std::string& rest) {
    return absl::StrCat("key:", HashApiKey(key), "  ", rest, "\n");
  }
  std::unique_ptr<IdentityFile> Open() {
    absl::StatusOr<std::unique_ptr<IdentityFile>> file =
        IdentityFile::Open(path_, absl::Seconds(1), clock_.AsClock());
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() ? *std::move(file) : nullptr;
  }

  TempDir dir_;
  std::string path_ = dir_.Sub("identities");
  FakeClock clock_;
};

TEST(HashApiKeyTest, LowercaseHexSha256) {
  EXPECT_EQ(HashApiKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(IdentityFileTest, FindsKeysAndCertificates) {
  WriteFile(path_,
            absl::StrCat("# machine identities\n\n",
                         Line("sbv-secret", absl::StrCat("sbv-hanoi department_integration "
                                                         "provinces/01 ",
                                                         kBankMethod)),
                         Line("ministry-secret", "ministry-batch ministry_admin -  # nation-wide"),
                         "cert:lmhtx.hanoi.gov.vn  lmhtx-hanoi  province_editor provinces/01\n"));
  auto file = Open();
  ASSERT_NE(file, nullptr);
  absl::StatusOr<Principal> bank = file->FindApiKey("sbv-secret");
  ASSERT_TRUE(bank.ok()) << bank.status();
  EXPECT_EQ(bank->subject(), "key:sbv-hanoi");
  EXPECT_EQ(bank->role(), v1::ROLE_DEPARTMENT_INTEGRATION);
  EXPECT_EQ(bank->scope(), "provinces/01");
  EXPECT_THAT(bank->methods(), ElementsAre(kBankMethod));
  absl::StatusOr<Principal> ministry = file->FindApiKey("ministry-secret");
  ASSERT_TRUE(ministry.ok());
  EXPECT_EQ(ministry->scope(), "");
  EXPECT_EQ(ministry->role(), v1::ROLE_MINISTRY_ADMIN);
  absl::StatusOr<Principal> cert = file->FindCertificate("lmhtx.hanoi.gov.vn");
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(cert->subject(), "cert:lmhtx-hanoi");
  EXPECT_EQ(cert->role(), v1::ROLE_PROVINCE_EDITOR);

  EXPECT_THAT(file->FindApiKey("wrong"), StatusIsWithReason(kUnauthenticated, "API_KEY_UNKNOWN"));
  EXPECT_THAT(file->FindApiKey(""), StatusIsWithReason(kUnauthenticated, "API_KEY_UNKNOWN"));
  // Only hashes are stored: presenting the stored hash is not presenting the key.
  EXPECT_THAT(file->FindApiKey(HashApiKey("sbv-secret")),
              StatusIsWithReason(kUnauthenticated, "API_KEY_UNKNOWN"));
  EXPECT_THAT(file->FindCertificate("evil.example"),
              StatusIsWithReason(kUnauthenticated, "CERTIFICATE_UNKNOWN"));
  EXPECT_THAT(file->FindApiKey("lmhtx.hanoi.gov.vn"),
              StatusIsWithReason(kUnauthenticated, "API_KEY_UNKNOWN"));
}

TEST_F(IdentityFileTest, ReloadsAndKeepsLastGoodContent) {
  WriteFile(path_, Line("one", "one province_editor provinces/01"));
  auto file = Open();
  ASSERT_NE(file, nullptr);
  EXPECT_TRUE(file->FindApiKey("one").ok());

  WriteFile(path_, Line("two", "two commune_editor provinces/01/communes/00004"));
  EXPECT_TRUE(file->FindApiKey("one").ok());  // within the interval
  clock_.Advance(absl::Seconds(2));
  EXPECT_THAT(file->FindApiKey("one"), StatusIsWithReason(kUnauthenticated, "API_KEY_UNKNOWN"));
  absl::StatusOr<Principal> two = file->FindApiKey("two");
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->scope(), "provinces/01/communes/00004");

  // A broken edit is ignored; the previous content stays in force.
  WriteFile(path_, "key:nothex two commune_editor provinces/01\n");
  clock_.Advance(absl::Seconds(2));
  EXPECT_TRUE(file->FindApiKey("two").ok());
  // So is a removed file.
  ASSERT_EQ(std::remove(path_.c_str()), 0);
  clock_.Advance(absl::Seconds(2));
  EXPECT_TRUE(file->FindApiKey("two").ok());
  // And a fixed file is taken again.
  WriteFile(path_, Line("three", "three auditor -"));
  clock_.Advance(absl::Seconds(2));
  EXPECT_TRUE(file->FindApiKey("three").ok());
  EXPECT_FALSE(file->FindApiKey("two").ok());
}

TEST_F(IdentityFileTest, BadLinesRefusedAtOpenNamingTheLine) {
  const std::pair<std::string, std::string> bad[] = {
      {"key:abc x province_editor provinces/01", "not a hash"},
      {Line("k", "x emperor provinces/01"), "unknown role"},
      {Line("k", "x service -"), "service role"},
      {Line("k", "x province_editor catalogs/2026"), "bad scope"},
      {Line("k", "x province_editor"), "too few fields"},
      {Line("k", "x department_integration - /htx.registry.v1.RegistryService/Nope"),
       "unknown method"},
      {Line("k", absl::StrCat("x province_editor provinces/01 ", kBankMethod)),
       "methods for a non-department"},
      {"user:bob x auditor -", "unknown identity kind"},
      {Line("ok", "again auditor -"), "the key of line 2 again"},
  };
  for (const auto& [line, why] : bad) {
    WriteFile(path_, absl::StrCat("# header\n", Line("ok", "ok auditor -"), line));
    absl::StatusOr<std::unique_ptr<IdentityFile>> file = IdentityFile::Open(path_);
    EXPECT_THAT(file, StatusIs(absl::StatusCode::kInvalidArgument)) << why;
    EXPECT_THAT(std::string(file.status().message()), HasSubstr(":3:")) << why;
    EXPECT_EQ(ErrorMetadata(file.status(), "field"), "line 3") << why;
  }
  EXPECT_THAT(IdentityFile::Open(dir_.Sub("missing")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// ---------------------------------------------------------------- internal key

Principal Sample(absl::Time expires) {
  Principal principal;
  principal.set_subject("jwt:iss#sub");
  principal.set_role(v1::ROLE_PROVINCE_EDITOR);
  principal.set_scope("provinces/01");
  principal.set_request_id("req-1");
  principal.set_expires_unix_ms(absl::ToUnixMillis(expires));
  return principal;
}

TEST(InternalKeyTest, SignVerifyTamperExpire) {
  const absl::Time now = absl::FromUnixSeconds(1767225600);
  InternalKey key = InternalKey::FromBytes(std::string(32, 'k'));
  InternalKey::Signed signed_principal = key.Sign(Sample(now + absl::Seconds(60)));
  EXPECT_EQ(signed_principal.signature.size(), 32u);

  absl::StatusOr<Principal> verified =
      key.Verify(signed_principal.principal, signed_principal.signature, now);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->subject(), "jwt:iss#sub");
  EXPECT_EQ(verified->scope(), "provinces/01");

  std::string tampered = signed_principal.principal;
  tampered[tampered.size() / 2] ^= 0x01;
  EXPECT_THAT(key.Verify(tampered, signed_principal.signature, now),
              StatusIsWithReason(kUnauthenticated, "PRINCIPAL_SIGNATURE"));
  std::string bad_signature = signed_principal.signature;
  bad_signature[0] ^= 0x01;
  EXPECT_THAT(key.Verify(signed_principal.principal, bad_signature, now),
              StatusIsWithReason(kUnauthenticated, "PRINCIPAL_SIGNATURE"));
  EXPECT_THAT(key.Verify(signed_principal.principal, "", now),
              StatusIsWithReason(kUnauthenticated, "PRINCIPAL_SIGNATURE"));
  EXPECT_THAT(InternalKey::FromBytes(std::string(32, 'x'))
                  .Verify(signed_principal.principal, signed_principal.signature, now),
              StatusIsWithReason(kUnauthenticated, "PRINCIPAL_SIGNATURE"));
  EXPECT_THAT(key.Verify("", "", now), StatusIsWithReason(kUnauthenticated, "PRINCIPAL_MISSING"));
  EXPECT_THAT(
      key.Verify(signed_principal.principal, signed_principal.signature, now + absl::Seconds(61)),
      StatusIsWithReason(kUnauthenticated, "PRINCIPAL_EXPIRED"));
  // A principal signed without an expiry is never valid.
  InternalKey::Signed no_expiry = key.Sign(Sample(absl::UnixEpoch()));
  EXPECT_THAT(key.Verify(no_expiry.principal, no_expiry.signature, now),
              StatusIsWithReason(kUnauthenticated, "PRINCIPAL_EXPIRED"));
}

TEST(InternalKeyTest, FromFile) {
  TempDir dir;
  const std::string hex = InternalKey::GenerateHex();
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_NE(hex, InternalKey::GenerateHex());
  WriteFile(dir.Sub("key"), absl::StrCat("  ", hex, "\n"));
  absl::StatusOr<InternalKey> key = InternalKey::FromFile(dir.Sub("key"));
  ASSERT_TRUE(key.ok()) << key.status();
  // The file holds the hex of the secret.
  const absl::Time now = absl::FromUnixSeconds(1767225600);
  InternalKey::Signed s = key->Sign(Sample(now + absl::Seconds(5)));
  EXPECT_TRUE(InternalKey::FromBytes(absl::HexStringToBytes(hex))
                  .Verify(s.principal, s.signature, now)
                  .ok());

  WriteFile(dir.Sub("short"), std::string(62, 'a'));
  EXPECT_THAT(InternalKey::FromFile(dir.Sub("short")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  WriteFile(dir.Sub("odd"), std::string(65, 'a'));
  EXPECT_THAT(InternalKey::FromFile(dir.Sub("odd")), StatusIs(absl::StatusCode::kInvalidArgument));
  WriteFile(dir.Sub("nothex"), std::string(64, 'z'));
  EXPECT_THAT(InternalKey::FromFile(dir.Sub("nothex")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(InternalKey::FromFile(dir.Sub("missing")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace htx::auth
