// Compiled as C++20 (src/CMakeLists.txt): the only file that includes Arrow's headers.
#include "data/parquet_table.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>

#include <algorithm>
#include <cstdio>

#include "common/check.h"

namespace negatron::data {
namespace {

void check_ok(const arrow::Status& status, const std::string& path, const char* what) {
  NEG_CHECK(status.ok(), path, ": ", what, ": ", status.ToString());
}

template <typename T>
T value_or_fail(arrow::Result<T> result, const std::string& path, const char* what) {
  check_ok(result.status(), path, what);
  return std::move(result).ValueUnsafe();
}

bool is_string_type(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING:
    case arrow::Type::STRING_VIEW: return true;
    case arrow::Type::DICTIONARY:
      return is_string_type(*static_cast<const arrow::DictionaryType&>(type).value_type());
    default: return false;
  }
}

bool is_number_type(const arrow::DataType& type) {
  return arrow::is_integer(type.id()) || type.id() == arrow::Type::FLOAT || type.id() == arrow::Type::DOUBLE ||
         type.id() == arrow::Type::BOOL;
}

bool is_number_list_type(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::LIST:
    case arrow::Type::LARGE_LIST:
    case arrow::Type::FIXED_SIZE_LIST:
      return is_number_type(*static_cast<const arrow::BaseListType&>(type).value_type());
    default: return false;
  }
}

bool is_readable_type(const arrow::DataType& type) {
  return is_string_type(type) || is_number_type(type) || is_number_list_type(type);
}

/// Appends element `i` of a number array (is_number_type) as text; false for a null.
bool append_number(const arrow::Array& array, int64_t i, std::string& out) {
  if (array.IsNull(i)) return false;
  char buffer[40];
  switch (array.type_id()) {
    case arrow::Type::BOOL:
      out += static_cast<const arrow::BooleanArray&>(array).Value(i) ? '1' : '0';
      return true;
    case arrow::Type::FLOAT:
      std::snprintf(buffer, sizeof buffer, "%.9g", static_cast<const arrow::FloatArray&>(array).Value(i));
      break;
    case arrow::Type::DOUBLE:
      std::snprintf(buffer, sizeof buffer, "%.17g", static_cast<const arrow::DoubleArray&>(array).Value(i));
      break;
#define NEGATRON_INTEGER_CASE(TYPE, ARRAY) \
  case arrow::Type::TYPE: out += std::to_string(static_cast<const arrow::ARRAY&>(array).Value(i)); return true;
      NEGATRON_INTEGER_CASE(INT8, Int8Array)
      NEGATRON_INTEGER_CASE(INT16, Int16Array)
      NEGATRON_INTEGER_CASE(INT32, Int32Array)
      NEGATRON_INTEGER_CASE(INT64, Int64Array)
      NEGATRON_INTEGER_CASE(UINT8, UInt8Array)
      NEGATRON_INTEGER_CASE(UINT16, UInt16Array)
      NEGATRON_INTEGER_CASE(UINT32, UInt32Array)
      NEGATRON_INTEGER_CASE(UINT64, UInt64Array)
#undef NEGATRON_INTEGER_CASE
    default: NEG_FAIL("internal: append_number on ", array.type()->ToString());
  }
  out += buffer;
  return true;
}

/// Sets `out` to the text of string element `i`; false for a null.
bool string_value(const arrow::Array& array, int64_t i, std::string& out) {
  if (array.IsNull(i)) return false;
  std::string_view view;
  switch (array.type_id()) {
    case arrow::Type::STRING: view = static_cast<const arrow::StringArray&>(array).GetView(i); break;
    case arrow::Type::LARGE_STRING: view = static_cast<const arrow::LargeStringArray&>(array).GetView(i); break;
    case arrow::Type::STRING_VIEW: view = static_cast<const arrow::StringViewArray&>(array).GetView(i); break;
    case arrow::Type::DICTIONARY: {
      const auto& dictionary = static_cast<const arrow::DictionaryArray&>(array);
      return string_value(*dictionary.dictionary(), dictionary.GetValueIndex(i), out);
    }
    default: NEG_FAIL("internal: string_value on ", array.type()->ToString());
  }
  out.assign(view.data(), view.size());
  return true;
}

/// "[a, b, ...]" for list element `i`; false for a null list or a null inside it.
bool list_value(const arrow::Array& array, int64_t i, std::string& out) {
  if (array.IsNull(i)) return false;
  int64_t begin = 0, length = 0;
  std::shared_ptr<arrow::Array> values;
  switch (array.type_id()) {
    case arrow::Type::LIST: {
      const auto& list = static_cast<const arrow::ListArray&>(array);
      begin = list.value_offset(i), length = list.value_length(i), values = list.values();
      break;
    }
    case arrow::Type::LARGE_LIST: {
      const auto& large = static_cast<const arrow::LargeListArray&>(array);
      begin = large.value_offset(i), length = large.value_length(i), values = large.values();
      break;
    }
    case arrow::Type::FIXED_SIZE_LIST: {
      const auto& fixed = static_cast<const arrow::FixedSizeListArray&>(array);
      begin = fixed.value_offset(i), length = fixed.value_length(i), values = fixed.values();
      break;
    }
    default: NEG_FAIL("internal: list_value on ", array.type()->ToString());
  }
  out = "[";
  for (int64_t k = 0; k < length; ++k) {
    if (k > 0) out += ", ";
    if (!append_number(*values, begin + k, out)) return false;
  }
  out += "]";
  return true;
}

bool cell_text(const arrow::Array& array, int64_t i, std::string& out) {
  if (is_string_type(*array.type())) return string_value(array, i, out);
  if (is_number_list_type(*array.type())) return list_value(array, i, out);
  out.clear();
  return append_number(array, i, out);
}

void leaf_columns(const parquet::arrow::SchemaField& field, std::vector<int>& out) {
  if (field.is_leaf()) out.push_back(field.column_index);
  for (const auto& child : field.children) leaf_columns(child, out);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

struct ParquetRows::Impl {
  std::string path;
  std::unique_ptr<parquet::arrow::FileReader> file;
  std::unique_ptr<arrow::RecordBatchReader> batches;
  std::vector<std::string> columns, types;
  std::vector<bool> text;
  std::vector<int64_t> group_starts;  // + total
  std::shared_ptr<arrow::RecordBatch> batch;
  std::vector<std::shared_ptr<arrow::Array>> batch_columns;  // selected columns of `batch`, in order
  int64_t batch_row = 0;   // next row inside `batch`
  int64_t row = 0;         // file row of the next record
  bool done = false;

  void open(const std::string& file_path) {
    path = file_path;
    auto input = value_or_fail(arrow::io::ReadableFile::Open(path), path, "cannot open");
    parquet::ArrowReaderProperties properties(/*use_threads=*/false);
    properties.set_batch_size(kParquetBatchRows);
    properties.set_pre_buffer(false);
    parquet::arrow::FileReaderBuilder builder;
    try {
      check_ok(builder.Open(input), path, "not a readable Parquet file");
    } catch (const parquet::ParquetException& e) {
      NEG_FAIL(path, ": not a readable Parquet file: ", e.what());
    }
    builder.properties(properties);
    file = value_or_fail(builder.Build(), path, "cannot read the Parquet metadata");
    const auto metadata = file->parquet_reader()->metadata();
    int64_t start = 0;
    for (int g = 0; g < metadata->num_row_groups(); ++g) {
      group_starts.push_back(start);
      start += metadata->RowGroup(g)->num_rows();
    }
    group_starts.push_back(start);
  }

  /// The top-level fields by name (all readable ones when `wanted` is empty); their leaf columns.
  std::vector<int> select(const std::vector<std::string>& wanted) {
    const auto& fields = file->manifest().schema_fields;
    std::vector<std::string> available;
    for (const auto& field : fields) available.push_back(field.field->name());
    std::vector<const parquet::arrow::SchemaField*> chosen;
    if (wanted.empty()) {
      for (const auto& field : fields) {
        if (is_readable_type(*field.field->type())) chosen.push_back(&field);
      }
    }
    for (const auto& name : wanted) {
      const parquet::arrow::SchemaField* match = nullptr;
      for (const auto& field : fields) {
        if (field.field->name() != name) continue;
        NEG_CHECK(!match, path, ": more than one column is named '", name, "'");
        match = &field;
      }
      NEG_CHECK(match, path, ": no column '", name, "' (columns: ", join(available), ")");
      chosen.push_back(match);
    }
    std::vector<int> leaves;
    for (const auto* field : chosen) {
      const auto& type = *field->field->type();
      NEG_CHECK(is_readable_type(type), path, ": column '", field->field->name(), "' has type ", type.ToString(),
                ", which negatron cannot read (expected a string, integer, float or bool column, or a list of numbers)");
      columns.push_back(field->field->name());
      types.push_back(type.ToString());
      text.push_back(is_string_type(type));
      leaf_columns(*field, leaves);
    }
    std::sort(leaves.begin(), leaves.end());
    leaves.erase(std::unique(leaves.begin(), leaves.end()), leaves.end());
    return leaves;
  }

  void start_at(int64_t first_row, const std::vector<int>& leaves) {
    NEG_CHECK(first_row >= 0 && first_row <= group_starts.back(), path, ": row ", first_row, " is outside the file's ",
              group_starts.back(), " rows");
    std::vector<int> groups;
    int64_t first_group_start = group_starts.back();
    for (size_t g = 0; g + 1 < group_starts.size(); ++g) {
      if (group_starts[g + 1] <= first_row) continue;
      if (groups.empty()) first_group_start = group_starts[g];
      groups.push_back(static_cast<int>(g));
    }
    row = first_group_start;
    if (groups.empty()) {
      done = true;
      return;
    }
    batches = value_or_fail(file->GetRecordBatchReader(groups, leaves), path, "cannot read row groups");
    while (row < first_row) {
      NEG_CHECK(next_batch(), path, ": ends before row ", first_row);
      const int64_t skip = std::min(first_row - row, batch->num_rows());
      batch_row = skip;
      row += skip;
    }
  }

  bool next_batch() {
    while (true) {
      std::shared_ptr<arrow::RecordBatch> next;
      try {
        check_ok(batches->ReadNext(&next), path, "cannot read rows");
      } catch (const parquet::ParquetException& e) {
        NEG_FAIL(path, ": cannot read rows near row ", row + 1, ": ", e.what());
      }
      if (!next) return false;
      if (next->num_rows() == 0) continue;
      batch = std::move(next);
      batch_row = 0;
      batch_columns.clear();
      for (const auto& name : columns) {
        const int index = batch->schema()->GetFieldIndex(name);
        NEG_CHECK(index >= 0, path, ": internal: column '", name, "' missing from a record batch");
        batch_columns.push_back(batch->column(index));
      }
      return true;
    }
  }
};

ParquetRows::ParquetRows(const std::string& path, const std::vector<std::string>& columns, int64_t first_row)
    : impl_(std::make_unique<Impl>()) {
  impl_->open(path);
  const std::vector<int> leaves = impl_->select(columns);
  impl_->start_at(first_row, leaves);
}

ParquetRows::~ParquetRows() = default;
ParquetRows::ParquetRows(ParquetRows&&) noexcept = default;

const std::vector<std::string>& ParquetRows::columns() const { return impl_->columns; }
const std::string& ParquetRows::column_type(size_t index) const { return impl_->types.at(index); }
bool ParquetRows::is_text(size_t index) const { return impl_->text.at(index); }
int64_t ParquetRows::total_rows() const { return impl_->group_starts.back(); }
std::vector<int64_t> ParquetRows::row_group_starts() const { return impl_->group_starts; }
int64_t ParquetRows::position() const { return impl_->row; }

bool ParquetRows::next(TextRecord& out,
                       const std::function<void(int64_t line, const std::string& message)>& on_bad_record) {
  Impl& m = *impl_;
  while (!m.done) {
    if (!m.batch || m.batch_row == m.batch->num_rows()) {
      if (!m.next_batch()) {
        m.done = true;
        break;
      }
    }
    const int64_t i = m.batch_row++;
    const int64_t row = m.row++;
    TextRecord record{row + 1, std::vector<std::string>(m.columns.size()), row};
    std::string problem;
    for (size_t c = 0; c < m.columns.size() && problem.empty(); ++c) {
      if (!cell_text(*m.batch_columns[c], i, record.fields[c])) problem = "column '" + m.columns[c] + "' is null";
    }
    if (problem.empty()) {
      out = std::move(record);
      return true;
    }
    const std::string message = detail::concat(m.path, ":", row + 1, ": ", problem);
    NEG_CHECK(on_bad_record, message);
    on_bad_record(row + 1, message);
  }
  return false;
}

}  // namespace negatron::data
