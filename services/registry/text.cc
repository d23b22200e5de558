#include "services/registry/text.h"

#include "absl/strings/string_view.h"

namespace htx::registry {
namespace {

char32_t Lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x100 && c <= 0x17F && c % 2 == 0) return c + 1;
  if (c == 0x1A0 || c == 0x1AF) return c + 1;
  if (c >= 0x1EA0 && c <= 0x1EF9 && c % 2 == 0) return c + 1;
  return c;
}

void Append(char32_t c, std::string& out) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

}  // namespace

std::string FoldCase(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    // Only 1- to 3-byte sequences can hold letters we fold.
    if (b < 0x80) {
      Append(Lower(b), out);
      i += 1;
    } else if ((b & 0xE0) == 0xC0 && i + 1 < text.size()) {
      Append(Lower(((b & 0x1F) << 6) | (text[i + 1] & 0x3F)), out);
      i += 2;
    } else if ((b & 0xF0) == 0xE0 && i + 2 < text.size()) {
      Append(Lower(((b & 0x0F) << 12) | ((text[i + 1] & 0x3F) << 6) | (text[i + 2] & 0x3F)), out);
      i += 3;
    } else {
      out += text[i];
      i += 1;
    }
  }
  return out;
}

}  // namespace htx::registry
