#include "common/csv/csv.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/status.h"

namespace htx::csv {

std::string Where(absl::string_view source, int line) { return absl::StrCat(source, ":", line); }

absl::StatusOr<std::vector<Record>> ReadRecords(absl::string_view text, absl::string_view source) {
  if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<Record> out;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    if (absl::StripAsciiWhitespace(line).empty() || absl::StartsWith(line, "#")) continue;
    Record record;
    record.line = number;
    std::string field;
    size_t i = 0;
    while (true) {
      field.clear();
      if (i < line.size() && line[i] == '"') {
        ++i;
        while (true) {
          if (i >= line.size()) return InvalidField(Where(source, number), "unterminated quote");
          if (line[i] == '"') {
            if (i + 1 < line.size() && line[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          field.push_back(line[i++]);
        }
        if (i < line.size() && line[i] != ',') {
          return InvalidField(Where(source, number), "text after a closing quote");
        }
      } else {
        while (i < line.size() && line[i] != ',') field.push_back(line[i++]);
        if (field.find('"') != std::string::npos) {
          return InvalidField(Where(source, number), "a quote inside an unquoted field");
        }
      }
      record.fields.push_back(field);
      if (i >= line.size()) break;
      ++i;  // the comma
    }
    out.push_back(std::move(record));
  }
  return out;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(absl::StatusCode::kNotFound, "FILE_NOT_FOUND", absl::StrCat("cannot read ", path),
                 {{"file", path}});
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace htx::csv
