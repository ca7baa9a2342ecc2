// The fuzz build has no Apache Arrow (pyarrow's C++ libraries are built for the main gcc build):
// this stands in for data/parquet_table.cpp, so that a .parquet path in a fuzzed input is a clean
// error. The Parquet reader is tested against pyarrow-written files in tests/python/test_parquet.py.
#include "common/check.h"
#include "data/parquet_table.h"

namespace negatron::data {

struct ParquetRows::Impl {};

ParquetRows::ParquetRows(const std::string& path, const std::vector<std::string>&, int64_t) {
  NEG_FAIL(path, ": Parquet input is not part of the fuzz build");
}
ParquetRows::~ParquetRows() = default;
ParquetRows::ParquetRows(ParquetRows&&) noexcept = default;
const std::vector<std::string>& ParquetRows::columns() const { NEG_FAIL("unreachable"); }
const std::string& ParquetRows::column_type(size_t) const { NEG_FAIL("unreachable"); }
bool ParquetRows::is_text(size_t) const { NEG_FAIL("unreachable"); }
int64_t ParquetRows::total_rows() const { NEG_FAIL("unreachable"); }
std::vector<int64_t> ParquetRows::row_group_starts() const { NEG_FAIL("unreachable"); }
bool ParquetRows::next(TextRecord&, const std::function<void(int64_t, const std::string&)>&) { NEG_FAIL("unreachable"); }
int64_t ParquetRows::position() const { NEG_FAIL("unreachable"); }

}  // namespace negatron::data
