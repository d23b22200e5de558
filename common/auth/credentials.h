// Identity: turning a caller's credential into a Principal. JWTs are verified
// against public keys in a directory, API keys and client certificates against
// an identities file; both are re-read when they change, so keys rotate
// without a restart.
#ifndef HTX_COMMON_AUTH_CREDENTIALS_H_
#define HTX_COMMON_AUTH_CREDENTIALS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "htx/auth/v1/principal.pb.h"

namespace htx::auth {

using Clock = std::function<absl::Time()>;

struct JwtOptions {
  // PEM public keys, one file per key id: "{kid}.pem". Added, replaced and
  // removed files take effect within `reload_interval`.
  std::string keys_dir;
  std::string issuer;    // `iss` must equal this
  std::string audience;  // `aud` (string or array) must contain this
  // Pinned: a token whose `alg` is not listed is refused ("none" never is).
  std::vector<std::string> algorithms = {"ES256", "RS256", "EdDSA"};
  absl::Duration leeway = absl::Seconds(30);  // for exp / nbf
  absl::Duration reload_interval = absl::Seconds(1);
  Clock clock;  // default absl::Now
};

// Claims read besides the registered ones: "role" (a RoleName), "scope" (a
// unit name, "" for the nation) and "methods" (array, for departments).
// Subject: "jwt:{iss}#{sub}". ROLE_SERVICE is never accepted from a token.
class JwtVerifier {
 public:
  // INVALID_ARGUMENT when the options are unusable (no keys dir, empty issuer).
  static absl::StatusOr<std::unique_ptr<JwtVerifier>> Create(JwtOptions options);
  ~JwtVerifier();
  // UNAUTHENTICATED with a reason (TOKEN_MALFORMED, TOKEN_ALGORITHM,
  // TOKEN_UNKNOWN_KEY, TOKEN_SIGNATURE, TOKEN_EXPIRED, TOKEN_NOT_YET_VALID,
  // TOKEN_ISSUER, TOKEN_AUDIENCE, TOKEN_CLAIMS) and a message naming which.
  absl::StatusOr<v1::Principal> Verify(absl::string_view token) const;

 private:
  class Impl;
  explicit JwtVerifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The identities file: one line per machine identity, '#' comments:
//   key:{sha256 hex of the API key}  {name}  {role}  {scope or -}  [{method},...]
//   cert:{certificate common name}   {name}  {role}  {scope or -}  [{method},...]
// API keys are stored only as hashes. Subjects: "key:{name}", "cert:{name}".
class IdentityFile {
 public:
  static absl::StatusOr<std::unique_ptr<IdentityFile>> Open(
      std::string path, absl::Duration reload_interval = absl::Seconds(1), Clock clock = {});
  ~IdentityFile();
  // UNAUTHENTICATED (API_KEY_UNKNOWN / CERTIFICATE_UNKNOWN) when not listed.
  absl::StatusOr<v1::Principal> FindApiKey(absl::string_view api_key) const;
  absl::StatusOr<v1::Principal> FindCertificate(absl::string_view common_name) const;

 private:
  class Impl;
  explicit IdentityFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Lowercase hex SHA-256, as API keys are stored.
std::string HashApiKey(absl::string_view api_key);

// The suite's internal key (32+ random bytes, hex in a file) with which the
// gateway signs the principals it passes on and the services verify them.
class InternalKey {
 public:
  static absl::StatusOr<InternalKey> FromFile(const std::string& path);
  static InternalKey FromBytes(std::string secret);
  // A new random key, hex-encoded, for a key file.
  static std::string GenerateHex();

  struct Signed {
    std::string principal;  // serialized Principal
    std::string signature;  // HMAC-SHA256 over `principal`
  };
  Signed Sign(const v1::Principal& principal) const;
  // UNAUTHENTICATED (PRINCIPAL_MISSING, PRINCIPAL_SIGNATURE, PRINCIPAL_EXPIRED).
  absl::StatusOr<v1::Principal> Verify(absl::string_view principal, absl::string_view signature,
                                       absl::Time now) const;

 private:
  explicit InternalKey(std::string secret) : secret_(std::move(secret)) {}
  std::string secret_;
};

// Metadata keys carrying a signed principal from the gateway to a service.
inline constexpr char kPrincipalHeader[] = "x-htx-principal-bin";
inline constexpr char kPrincipalSignatureHeader[] = "x-htx-principal-sig-bin";

// Making credentials, for the token tool, the run command and tests.
struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};
// alg: "ES256" (P-256), "RS256" (2048-bit) or "EdDSA" (Ed25519).
absl::StatusOr<KeyPair> GenerateKeyPair(absl::string_view alg);
// A compact JWS over `claims_json` with header {"alg","typ":"JWT","kid"}.
absl::StatusOr<std::string> SignJwt(absl::string_view private_pem, absl::string_view alg,
                                    absl::string_view kid, absl::string_view claims_json);

}  // namespace htx::auth

#endif  // HTX_COMMON_AUTH_CREDENTIALS_H_
