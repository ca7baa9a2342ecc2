#include "data/hdf5_image.h"

#include <atomic>
#include <cstdint>
#include <cstring>

#include "common/atomic_file.h"
#include "common/check.h"

namespace negatron::data {
namespace {

/// Bob Jenkins' lookup3 hash (hashlittle, read byte by byte), which HDF5 uses for its metadata
/// checksums (H5_checksum_metadata, not part of its public API).
uint32_t lookup3(const unsigned char* k, size_t length) {
  const auto rot = [](uint32_t x, int r) { return (x << r) | (x >> (32 - r)); };
  uint32_t a, b, c;
  a = b = c = 0xdeadbeef + static_cast<uint32_t>(length);
  const auto word = [&](size_t i) {
    return k[i] | (uint32_t{k[i + 1]} << 8) | (uint32_t{k[i + 2]} << 16) | (uint32_t{k[i + 3]} << 24);
  };
  while (length > 12) {
    a += word(0), b += word(4), c += word(8);
    a -= c, a ^= rot(c, 4), c += b;
    b -= a, b ^= rot(a, 6), a += c;
    c -= b, c ^= rot(b, 8), b += a;
    a -= c, a ^= rot(c, 16), c += b;
    b -= a, b ^= rot(a, 19), a += c;
    c -= b, c ^= rot(b, 4), b += a;
    length -= 12, k += 12;
  }
  if (length == 0) return c;
  unsigned char tail[12] = {};
  std::memcpy(tail, k, length);
  const auto tail_word = [&](size_t i) {
    return tail[i] | (uint32_t{tail[i + 1]} << 8) | (uint32_t{tail[i + 2]} << 16) | (uint32_t{tail[i + 3]} << 24);
  };
  a += tail_word(0), b += tail_word(4), c += tail_word(8);
  c ^= b, c -= rot(b, 14);
  a ^= c, a -= rot(c, 11);
  b ^= a, b -= rot(a, 25);
  c ^= b, c -= rot(b, 16);
  a ^= c, a -= rot(c, 4);
  b ^= a, b -= rot(a, 14);
  c ^= b, c -= rot(b, 24);
  return c;
}

/// H5Fget_file_image (HDF5 1.10) clears the superblock's "file is open for writing" flags in the
/// image but does not update the checksum that version 2 and 3 superblocks carry, so the image would
/// fail to open ("incorrect metadata checksum"): recompute it. The superblock is the signature,
/// version, offset and length sizes, flags (4 bytes), four addresses, then the checksum.
void fix_superblock_checksum(std::string& image) {
  if (image.size() < 12 || static_cast<unsigned char>(image[8]) < 2) return;
  const size_t covered = 12 + 4 * static_cast<size_t>(static_cast<unsigned char>(image[9]));
  NEG_CHECK(image.size() >= covered + 4, "HDF5: the in-memory file's superblock is truncated");
  const uint32_t checksum = lookup3(reinterpret_cast<const unsigned char*>(image.data()), covered);
  for (int i = 0; i < 4; ++i) image[covered + i] = static_cast<char>((checksum >> (8 * i)) & 0xff);
}

/// In-memory files still need distinct names: HDF5 refuses to open one name twice.
std::string unique_name() {
  static std::atomic<unsigned> counter{0};
  return "negatron-in-memory-" + std::to_string(counter++) + ".h5";
}

}  // namespace

Hdf5Image::Hdf5Image(bool checksummed_metadata) {
  H5::Exception::dontPrint();
  H5::FileAccPropList access;
  access.setCore(size_t{1} << 20, /*backing_store=*/false);
  if (checksummed_metadata) access.setLibverBounds(H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  // No modification time in the root group's header (shard writers leave it out of their groups and
  // datasets too): the same rows give the same bytes, so a dataset prepared by N ranks has the
  // checksums of a single-process run.
  H5::FileCreatPropList creation;
  H5Pset_obj_track_times(creation.getId(), 0);
  file_ = H5::H5File(unique_name(), H5F_ACC_TRUNC, creation, access);
}

std::string Hdf5Image::bytes() {
  const hid_t id = file_.getId();
  NEG_CHECK(H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0, "HDF5: cannot flush the in-memory file");
  const ssize_t size = H5Fget_file_image(id, nullptr, 0);
  NEG_CHECK(size > 0, "HDF5: cannot size the in-memory file");
  std::string bytes(static_cast<size_t>(size), '\0');
  NEG_CHECK(H5Fget_file_image(id, bytes.data(), bytes.size()) == size, "HDF5: cannot copy the in-memory file");
  fix_superblock_checksum(bytes);
  return bytes;
}

void publish_hdf5(Hdf5Image& image, const std::string& path) {
  std::string bytes;
  try {
    bytes = image.bytes();
  } catch (const H5::Exception& e) {
    NEG_FAIL(path, ": HDF5 error while building the file (", e.getDetailMsg(), ")");
  }
  write_file_atomically(path, bytes);
}

}  // namespace negatron::data
