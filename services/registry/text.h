// Case folding for name search: Vietnamese text is UTF-8 with precomposed
// letters (Đ/đ, Ơ/ơ, Ư/ư, Ấ/ấ...), which ASCII lowering would miss.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace htx::registry {

// Lowercases ASCII, Latin-1, Latin Extended-A, Ơ/Ư and the Vietnamese block
// U+1EA0..U+1EF9; other code points (and invalid bytes) pass unchanged.
std::string FoldCase(absl::string_view text);

}  // namespace htx::registry
