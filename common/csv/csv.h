// Reading the project's data files: CSV records (RFC 4180 fields on one line,
// '#' comment lines and blank lines skipped) and whole files, with errors that
// name the file and line.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace htx::csv {

struct Record {
  int line = 0;  // 1-based line number in the source
  std::vector<std::string> fields;
};

// "source:line", how errors name a place in a file.
std::string Where(absl::string_view source, int line);

// The records of `text`; INVALID_ARGUMENT naming "source:line" for a broken
// quote. No line breaks inside quotes: none of the data files needs them.
absl::StatusOr<std::vector<Record>> ReadRecords(absl::string_view text, absl::string_view source);

// The whole file; NOT_FOUND (FILE_NOT_FOUND) naming it.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace htx::csv
