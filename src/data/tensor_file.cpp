#include "data/tensor_file.h"

#include <H5Cpp.h>

#include "common/check.h"
#include "data/hdf5_image.h"

namespace negatron::data {

struct TensorFileReader::File {
  H5::H5File h5;
};

TensorFileReader::TensorFileReader(std::string path) : path_(std::move(path)), file_(std::make_unique<File>()) {
  try {
    file_->h5.openFile(path_, H5F_ACC_RDONLY);
  } catch (const H5::Exception& e) {
    NEG_FAIL(path_, ": cannot open as HDF5 (", e.getDetailMsg(), ")");
  }
}

TensorFileReader::~TensorFileReader() = default;

bool TensorFileReader::has(const std::string& name) const {
  try {
    // nameExists does not look through missing intermediate groups, so check each level.
    for (size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
      if (!file_->h5.nameExists(name.substr(0, slash))) return false;
    }
    return file_->h5.nameExists(name);
  } catch (const H5::Exception& e) {
    NEG_FAIL(path_, ": cannot look up '", name, "' (", e.getDetailMsg(), ")");
  }
}

at::Tensor TensorFileReader::read(const std::string& name) const {
  try {
    H5::DataSet dataset = file_->h5.openDataSet(name);
    H5::DataSpace space = dataset.getSpace();
    std::vector<hsize_t> dims(static_cast<size_t>(space.getSimpleExtentNdims()));
    if (!dims.empty()) space.getSimpleExtentDims(dims.data());
    const std::vector<int64_t> shape(dims.begin(), dims.end());
    const H5T_class_t type_class = dataset.getTypeClass();
    if (type_class == H5T_INTEGER) {
      at::Tensor out = at::empty(shape, at::kLong);
      if (out.numel() > 0) dataset.read(out.data_ptr(), H5::PredType::NATIVE_INT64);
      return out;
    }
    NEG_CHECK(type_class == H5T_FLOAT, path_, ": dataset '", name, "' must be integer or float");
    const bool is_double = dataset.getFloatType().getSize() == 8;
    at::Tensor out = at::empty(shape, is_double ? at::kDouble : at::kFloat);
    if (out.numel() > 0) {
      dataset.read(out.data_ptr(), is_double ? H5::PredType::NATIVE_DOUBLE : H5::PredType::NATIVE_FLOAT);
    }
    return out;
  } catch (const H5::Exception& e) {
    NEG_FAIL(path_, ": cannot read dataset '", name, "' (", e.getDetailMsg(), ")");
  }
}

std::vector<at::Tensor> TensorFileReader::read_numbered(const std::string& group) const {
  std::vector<at::Tensor> out;
  while (has(group + "/" + std::to_string(out.size()))) out.push_back(read(group + "/" + std::to_string(out.size())));
  return out;
}

struct TensorFileWriter::File {
  Hdf5Image image;  // built in memory, published atomically by close()
};

TensorFileWriter::TensorFileWriter(std::string path) : path_(std::move(path)), file_(std::make_unique<File>()) {}

TensorFileWriter::~TensorFileWriter() = default;

void TensorFileWriter::write(const std::string& name, const at::Tensor& tensor) {
  NEG_CHECK(file_, path_, ": write after close");
  at::Tensor value = tensor.detach().cpu().contiguous();
  if (value.scalar_type() != at::kFloat && value.scalar_type() != at::kLong) value = value.to(at::kDouble);
  const std::vector<hsize_t> dims(value.sizes().begin(), value.sizes().end());
  const auto [file_type, memory_type] =
      value.scalar_type() == at::kFloat  ? std::pair{H5::PredType::IEEE_F32LE, H5::PredType::NATIVE_FLOAT}
      : value.scalar_type() == at::kLong ? std::pair{H5::PredType::STD_I64LE, H5::PredType::NATIVE_INT64}
                                         : std::pair{H5::PredType::IEEE_F64LE, H5::PredType::NATIVE_DOUBLE};
  try {
    H5::DataSpace space = dims.empty() ? H5::DataSpace(H5S_SCALAR)
                                       : H5::DataSpace(static_cast<int>(dims.size()), dims.data());
    H5::LinkCreatPropList links;
    links.setCreateIntermediateGroup(true);
    H5::DataSet dataset = file_->image.file().createDataSet(name, file_type, space, H5::DSetCreatPropList::DEFAULT,
                                                  H5::DSetAccPropList::DEFAULT, links);
    if (value.numel() > 0) dataset.write(value.data_ptr(), memory_type);
  } catch (const H5::Exception& e) {
    NEG_FAIL(path_, ": cannot write dataset '", name, "' (", e.getDetailMsg(), ")");
  }
}

void TensorFileWriter::close() {
  NEG_CHECK(file_, path_, ": closed twice");
  publish_hdf5(file_->image, path_);
  file_.reset();
}

}  // namespace negatron::data
