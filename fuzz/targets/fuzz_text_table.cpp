// The JSONL / CSV / TSV / txt / label reader. The first byte picks the format and the options
// (header or not, utf-8 or latin-1, bad records reported and skipped or fatal); the rest is the file.
#include <vector>

#include "data/text_table.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kFormats[] = {"jsonl", "csv", "tsv", "txt", "label"};
  const uint8_t selector = data[0];
  negatron::data::TextTableOptions options;
  options.format = kFormats[selector % 5];
  options.has_header = (selector & 0x08) == 0;
  options.encoding = (selector & 0x10) ? "latin-1" : "utf-8";
  if (selector & 0x20) options.on_bad_record = [](int64_t, const std::string&) {};
  if (selector & 0x40) options.select_columns = {"anchor", "positive"};
  const std::string path =
      negatron::fuzz::scratch_file("table", std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  negatron::fuzz::expect_only_negatron_errors([&] {
    negatron::data::TextTableReader reader(path, options);
    std::vector<negatron::data::TextRecord> records;
    while (reader.read(records, 7) > 0) {
      for (const auto& record : records) {
        if (record.fields.size() != reader.columns().size()) __builtin_trap();  // every record is full width
      }
      records.clear();
    }
    if (!reader.columns().empty()) reader.column_index(reader.columns().front());
  });
  return 0;
}
