// File: csv_reader.h
// A small RFC 4180 record splitter for trace files held in memory.
//
// Fields are separated by ',' and records by LF, CRLF or a lone CR. A field
// that starts with '"' is quoted: it may hold commas, line breaks and doubled
// quotes ("") standing for one quote. A quote inside an unquoted field is kept
// literally (lenient, as Python's csv module is). Empty lines are skipped
// because exported traces often end with one or have blank separators.
// A UTF-8 byte-order mark at the start is ignored.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stargate {

// One record and the 1-based line its first field starts on.
struct CsvRecord {
  int64_t line = 0;
  std::vector<std::string> fields;
};

class CsvReader {
 public:
  // `text` must outlive the reader; `filename` only labels errors.
  CsvReader(std::string_view text, std::string filename);

  // Reads the next non-empty record into *record. Returns false at the end
  // of the input, and an InvalidArgument "FILE:LINE: csv: ..." for an
  // unterminated quoted field or a character after a closing quote.
  StatusOr<bool> Next(CsvRecord* record);

 private:
  // Reads one field at pos_ and appends it to *fields.
  Status ReadField(int64_t record_line, std::vector<std::string>* fields);
  Status ReadQuotedField(int64_t record_line, std::string* field);
  // Consumes one line break at pos_ if there is one.
  bool ConsumeLineBreak();
  bool AtLineBreak() const;

  std::string_view text_;
  std::string filename_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

}  // namespace stargate
