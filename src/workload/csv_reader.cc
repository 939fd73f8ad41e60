#include "workload/csv_reader.h"

#include <utility>

#include <fmt/format.h>

#include "core/text_fields.h"

namespace stargate {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

}  // namespace

CsvReader::CsvReader(std::string_view text, std::string filename) : text_(text), filename_(std::move(filename)) {
  if (text_.substr(0, kUtf8Bom.size()) == kUtf8Bom) pos_ = kUtf8Bom.size();
}

bool CsvReader::AtLineBreak() const { return pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r'); }

bool CsvReader::ConsumeLineBreak() {
  if (!AtLineBreak()) return false;
  if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
  ++pos_;
  ++line_;
  return true;
}

StatusOr<bool> CsvReader::Next(CsvRecord* record) {
  while (ConsumeLineBreak()) {
  }
  if (pos_ >= text_.size()) return false;
  record->line = line_;
  record->fields.clear();
  while (true) {
    SG_RETURN_IF_ERROR(ReadField(record->line, &record->fields));
    if (pos_ >= text_.size() || text_[pos_] != ',') break;
    ++pos_;  // a ',' at the end of a record still opens one (empty) field
  }
  ConsumeLineBreak();
  return true;
}

Status CsvReader::ReadField(int64_t record_line, std::vector<std::string>* fields) {
  std::string& field = fields->emplace_back();
  if (pos_ < text_.size() && text_[pos_] == '"') return ReadQuotedField(record_line, &field);
  const size_t begin = pos_;
  while (pos_ < text_.size() && text_[pos_] != ',' && !AtLineBreak()) ++pos_;
  field.assign(text_.substr(begin, pos_ - begin));
  return absl::OkStatus();
}

Status CsvReader::ReadQuotedField(int64_t record_line, std::string* field) {
  ++pos_;  // the opening quote
  while (true) {
    if (pos_ >= text_.size()) {
      return TraceError(filename_, record_line, "csv", "unterminated quoted field");
    }
    const char c = text_[pos_];
    if (c == '"') {
      if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
        field->push_back('"');
        pos_ += 2;
        continue;
      }
      ++pos_;  // the closing quote
      break;
    }
    // Count line breaks inside the field so later records keep true lines.
    if (c == '\n' || (c == '\r' && (pos_ + 1 >= text_.size() || text_[pos_ + 1] != '\n'))) {
      ++line_;
    }
    field->push_back(c);
    ++pos_;
  }
  if (pos_ < text_.size() && text_[pos_] != ',' && !AtLineBreak()) {
    const auto byte = static_cast<unsigned char>(text_[pos_]);
    return TraceError(filename_, line_, "csv",
                      byte >= 0x20 && byte < 0x7f
                          ? fmt::format("unexpected character '{}' after a closing quote", static_cast<char>(byte))
                          : fmt::format("unexpected byte 0x{:02x} after a closing quote", byte));
  }
  return absl::OkStatus();
}

}  // namespace stargate
