#include "data/shard.h"

#include <H5Cpp.h>

#include <algorithm>
#include <filesystem>

#include "common/check.h"
#include "data/hashing.h"

namespace negatron::data {
namespace {

constexpr hsize_t kChunkBytes = 64 * 1024;  // small chunks: random row reads decompress little

std::string column_group(size_t column) { return "text_" + std::to_string(column); }

template <typename T> const H5::PredType& file_type();
template <> const H5::PredType& file_type<int32_t>() { return H5::PredType::STD_I32LE; }
template <> const H5::PredType& file_type<int64_t>() { return H5::PredType::STD_I64LE; }
template <> const H5::PredType& file_type<uint64_t>() { return H5::PredType::STD_U64LE; }
template <> const H5::PredType& file_type<float>() { return H5::PredType::IEEE_F32LE; }
template <> const H5::PredType& file_type<char>() { return H5::PredType::STD_U8LE; }
template <typename T> const H5::PredType& memory_type();
template <> const H5::PredType& memory_type<int32_t>() { return H5::PredType::NATIVE_INT32; }
template <> const H5::PredType& memory_type<int64_t>() { return H5::PredType::NATIVE_INT64; }
template <> const H5::PredType& memory_type<uint64_t>() { return H5::PredType::NATIVE_UINT64; }
template <> const H5::PredType& memory_type<float>() { return H5::PredType::NATIVE_FLOAT; }
template <> const H5::PredType& memory_type<char>() { return H5::PredType::NATIVE_UINT8; }

/// A chunked, compressed, checksummed dataset of `rows` x `width` elements.
template <typename T>
void write_array(H5::Group& parent, const char* name, const T* data, hsize_t rows, hsize_t width = 1) {
  const int rank = width == 1 ? 1 : 2;
  hsize_t dims[2] = {rows, width}, max_dims[2] = {H5S_UNLIMITED, width};
  hsize_t chunk[2] = {std::max<hsize_t>(1, std::min<hsize_t>(rows, kChunkBytes / sizeof(T) / width)), width};
  H5::DSetCreatPropList properties;
  properties.setChunk(rank, chunk);
  properties.setFletcher32();
  properties.setShuffle();
  properties.setDeflate(1);
  H5::DataSet dataset = parent.createDataSet(name, file_type<T>(), H5::DataSpace(rank, dims, max_dims), properties);
  if (rows > 0) dataset.write(data, memory_type<T>());
}

template <typename T>
void write_ragged(H5::Group& group, const char* values, const char* offsets, const Ragged<T>& ragged) {
  write_array(group, values, ragged.values.data(), ragged.values.size());
  write_array(group, offsets, ragged.offsets.data(), ragged.offsets.size());
}

void write_labels(H5::H5File& file, const ShardBlock& block, const DatasetManifest& m) {
  const auto rows = static_cast<hsize_t>(block.rows());
  if (m.label_kind == LabelKind::kInt64) {
    NEG_CHECK(block.int_labels.size() == rows, "shard block: ", block.int_labels.size(), " labels for ", rows, " rows");
    write_array(file, "labels", block.int_labels.data(), rows);
  } else if (m.label_kind != LabelKind::kNone) {
    const hsize_t width = m.label_kind == LabelKind::kFloat32Vector ? m.label_dimension : 1;
    NEG_CHECK(block.float_labels.size() == rows * width, "shard block: ", block.float_labels.size(),
              " label values for ", rows, " rows of width ", width);
    write_array(file, "labels", block.float_labels.data(), rows, width);
  }
}

template <typename T>
void read_range(const H5::DataSet& dataset, hsize_t start, hsize_t count, T* out, hsize_t width = 1) {
  if (count == 0) return;
  H5::DataSpace file_space = dataset.getSpace();
  hsize_t offset[2] = {start, 0}, size[2] = {count, width};
  file_space.selectHyperslab(H5S_SELECT_SET, size, offset);
  H5::DataSpace memory_space(width == 1 ? 1 : 2, size);
  dataset.read(out, memory_type<T>(), memory_space, file_space);
}

hsize_t length_of(const H5::DataSet& dataset) {
  hsize_t dims[2] = {0, 0};
  dataset.getSpace().getSimpleExtentDims(dims);
  return dims[0];
}

}  // namespace

ShardInfo write_shard(const std::string& path, const ShardBlock& block, const DatasetManifest& m) {
  NEG_CHECK(block.ids.size() == m.text_columns.size() && block.hashes.size() == m.text_columns.size(), path,
            ": block has ", block.ids.size(), " columns, the manifest ", m.text_columns.size());
  try {
    H5::Exception::dontPrint();
    // The newest format versions checksum all metadata too, so a corrupt header is an error, not a crash.
    H5::FileAccPropList access;
    access.setLibverBounds(H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    H5::H5File file(path, H5F_ACC_TRUNC, H5::FileCreatPropList::DEFAULT, access);
    for (size_t c = 0; c < block.ids.size(); ++c) {
      H5::Group group = file.createGroup(column_group(c));
      write_ragged(group, "ids", "offsets", block.ids[c]);
      write_array(group, "hashes", block.hashes[c].data(), block.hashes[c].size());
      if (m.has_text) write_ragged(group, "utf8", "utf8_offsets", block.texts.at(c));
    }
    write_labels(file, block, m);
  } catch (const H5::Exception& e) {
    NEG_FAIL(path, ": HDF5 write failed: ", e.getDetailMsg());
  }
  ShardInfo info;
  info.file = std::filesystem::path(path).filename().string();
  info.rows = block.rows();
  info.bytes = static_cast<int64_t>(std::filesystem::file_size(path));
  info.checksum = file_checksum(path);
  return info;
}

struct ShardColumn {
  H5::DataSet ids, offsets, hashes, utf8, utf8_offsets;
};

struct ShardReader::Impl {
  std::string path;
  H5::H5File file;
  std::vector<ShardColumn> columns;
  H5::DataSet labels;
  LabelKind label_kind = LabelKind::kNone;
  hsize_t label_width = 1;
  bool has_text = false;
  int64_t rows = 0;

  template <typename F>
  auto guarded(const char* what, F&& f) const {
    try {
      return f();
    } catch (const H5::Exception& e) {
      NEG_FAIL(path, ": corrupt shard, cannot ", what, " (", e.getDetailMsg(), ")");
    }
  }

  void open_columns(size_t count) {
    for (size_t c = 0; c < count; ++c) {
      H5::Group group = file.openGroup(column_group(c));
      ShardColumn column{group.openDataSet("ids"), group.openDataSet("offsets"), group.openDataSet("hashes"), {}, {}};
      if (has_text) {
        column.utf8 = group.openDataSet("utf8");
        column.utf8_offsets = group.openDataSet("utf8_offsets");
      }
      NEG_CHECK(length_of(column.offsets) == static_cast<hsize_t>(rows + 1) &&
                    length_of(column.hashes) == static_cast<hsize_t>(rows),
                path, ": column ", c, " does not hold ", rows, " rows as the manifest says");
      columns.push_back(std::move(column));
    }
  }

  template <typename T>
  std::vector<T> ragged_row(const H5::DataSet& values, const H5::DataSet& offsets, int64_t row) const {
    int64_t bounds[2];
    read_range(offsets, row, 2, bounds);
    NEG_CHECK(0 <= bounds[0] && bounds[0] <= bounds[1], path, ": corrupt offsets at row ", row);
    std::vector<T> out(bounds[1] - bounds[0]);
    read_range(values, bounds[0], out.size(), out.data());
    return out;
  }
};

ShardReader::ShardReader(const std::string& path, const ShardInfo& info, const DatasetManifest& m)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  std::error_code error;
  const auto bytes = std::filesystem::file_size(path, error);
  NEG_CHECK(!error, path, ": shard file is missing (", error.message(), ")");
  NEG_CHECK(static_cast<int64_t>(bytes) == info.bytes, path, ": shard is truncated or altered: ", bytes,
            " bytes, the manifest says ", info.bytes);
  impl_->rows = info.rows;
  impl_->has_text = m.has_text;
  impl_->label_kind = m.label_kind;
  impl_->label_width = m.label_kind == LabelKind::kFloat32Vector ? m.label_dimension : 1;
  impl_->guarded("open", [&] {
    H5::Exception::dontPrint();
    impl_->file = H5::H5File(path, H5F_ACC_RDONLY);
    impl_->open_columns(m.text_columns.size());
    if (m.label_kind != LabelKind::kNone) impl_->labels = impl_->file.openDataSet("labels");
  });
}

ShardReader::~ShardReader() = default;
ShardReader::ShardReader(ShardReader&&) noexcept = default;

ShardRows ShardReader::read(const std::vector<int64_t>& rows, bool with_text) const {
  const Impl& s = *impl_;
  ShardRows out;
  out.ids.resize(s.columns.size());
  if (with_text && s.has_text) out.texts.resize(s.columns.size());
  s.guarded("read rows", [&] {
    for (size_t c = 0; c < s.columns.size(); ++c) {
      for (int64_t row : rows) {
        NEG_CHECK(0 <= row && row < s.rows, s.path, ": row ", row, " out of range [0, ", s.rows, ")");
        out.ids[c].push_back(s.ragged_row<int32_t>(s.columns[c].ids, s.columns[c].offsets, row));
        if (out.texts.empty()) continue;
        auto bytes = s.ragged_row<char>(s.columns[c].utf8, s.columns[c].utf8_offsets, row);
        out.texts[c].emplace_back(bytes.begin(), bytes.end());
      }
    }
    for (int64_t row : rows) {
      if (s.label_kind == LabelKind::kInt64) {
        read_range(s.labels, row, 1, &out.int_labels.emplace_back());
      } else if (s.label_kind != LabelKind::kNone) {
        out.float_labels.resize(out.float_labels.size() + s.label_width);
        read_range(s.labels, row, 1, out.float_labels.data() + out.float_labels.size() - s.label_width, s.label_width);
      }
    }
    return 0;
  });
  return out;
}

std::vector<uint64_t> ShardReader::read_hashes(const std::vector<int64_t>& rows) const {
  const Impl& s = *impl_;
  std::vector<uint64_t> out(rows.size() * s.columns.size());
  s.guarded("read text hashes", [&] {
    for (size_t i = 0; i < rows.size(); ++i) {
      for (size_t c = 0; c < s.columns.size(); ++c) read_range(s.columns[c].hashes, rows[i], 1, &out[i * s.columns.size() + c]);
    }
    return 0;
  });
  return out;
}

std::vector<int64_t> ShardReader::read_all_int_labels() const {
  const Impl& s = *impl_;
  NEG_CHECK(s.label_kind == LabelKind::kInt64, s.path, ": has no int64 labels");
  std::vector<int64_t> out(s.rows);
  s.guarded("read labels", [&] {
    read_range(s.labels, 0, out.size(), out.data());
    return 0;
  });
  return out;
}

}  // namespace negatron::data
