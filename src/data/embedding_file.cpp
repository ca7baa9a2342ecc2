#include "data/embedding_file.h"

#include <H5Cpp.h>

#include <cstdio>

#include "common/check.h"
#include "data/hdf5_image.h"

namespace negatron::data {
namespace {

void write_string_attribute(H5::H5Object& object, const char* name, const std::string& value) {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  object.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, value);
}

}  // namespace

void write_embedding_file(const std::string& path, const EmbeddingFile& file) {
  NEG_CHECK(file.values.size() == static_cast<size_t>(file.rows * file.dimension), path, ": ", file.values.size(),
            " values do not make ", file.rows, " x ", file.dimension);
  try {
    Hdf5Image image;
    hsize_t dims[2] = {static_cast<hsize_t>(file.rows), static_cast<hsize_t>(file.dimension)};
    H5::DataSpace space(2, dims);
    H5::DataSet dataset = image.file().createDataSet("embeddings", H5::PredType::IEEE_F32LE, space);
    if (!file.values.empty()) dataset.write(file.values.data(), H5::PredType::NATIVE_FLOAT);
    write_string_attribute(dataset, "model", file.model);
    const int64_t dimension = file.dimension;
    dataset.createAttribute("dimension", H5::PredType::STD_I64LE, H5::DataSpace(H5S_SCALAR))
        .write(H5::PredType::NATIVE_INT64, &dimension);
    const int8_t normalized = file.normalized ? 1 : 0;
    dataset.createAttribute("normalized", H5::PredType::STD_I8LE, H5::DataSpace(H5S_SCALAR))
        .write(H5::PredType::NATIVE_INT8, &normalized);
    publish_hdf5(image, path);
  } catch (const H5::Exception& e) {
    NEG_FAIL(path, ": HDF5 error while building the file (", e.getDetailMsg(), ")");
  }
}

EmbeddingFile read_embedding_file(const std::string& path) {
  EmbeddingFile file;
  try {
    H5::H5File h5(path, H5F_ACC_RDONLY);
    H5::DataSet dataset = h5.openDataSet("embeddings");
    H5::DataSpace space = dataset.getSpace();
    NEG_CHECK(space.getSimpleExtentNdims() == 2, path, ": 'embeddings' must be 2-D");
    hsize_t dims[2];
    space.getSimpleExtentDims(dims);
    file.rows = static_cast<int64_t>(dims[0]);
    file.dimension = static_cast<int64_t>(dims[1]);
    file.values.resize(dims[0] * dims[1]);
    if (!file.values.empty()) dataset.read(file.values.data(), H5::PredType::NATIVE_FLOAT);
    if (dataset.attrExists("normalized")) {
      int8_t normalized = 0;
      dataset.openAttribute("normalized").read(H5::PredType::NATIVE_INT8, &normalized);
      file.normalized = normalized != 0;
    }
    if (dataset.attrExists("model")) {
      H5::Attribute attribute = dataset.openAttribute("model");
      attribute.read(attribute.getStrType(), file.model);
    }
  } catch (const H5::Exception& e) {
    NEG_FAIL(path, ": cannot read embeddings (", e.getDetailMsg(), ")");
  }
  return file;
}

}  // namespace negatron::data
