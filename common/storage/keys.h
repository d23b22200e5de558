// Key encodings shared by every store: fixed-width big-endian numbers so that
// byte order equals numeric order in prefix scans.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace htx::storage {

inline std::string EncodeUint64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

// Reads the 8-byte big-endian number at the start of `bytes` (0 if shorter).
inline uint64_t DecodeUint64(absl::string_view bytes) {
  if (bytes.size() < 8) return 0;
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

}  // namespace htx::storage
