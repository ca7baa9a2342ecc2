# Every third-party dependency is found here, once.
set(NEGATRON_PYTHON "${CMAKE_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH
    "Python interpreter whose pip 'torch' wheel provides libtorch")
if(NOT EXISTS "${NEGATRON_PYTHON}")
  message(FATAL_ERROR "NEGATRON_PYTHON=${NEGATRON_PYTHON} does not exist; run launch/setup.sh first")
endif()

# negatron_python_lines(OUT MODULE CODE): the lines CODE prints under NEGATRON_PYTHON, as a list; the
# pip wheels in the venv carry libraries CMake needs (torch, pyarrow).
function(negatron_python_lines out module code)
  execute_process(COMMAND "${NEGATRON_PYTHON}" -c "${code}" OUTPUT_VARIABLE _lines OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "cannot import ${module} with ${NEGATRON_PYTHON}; run launch/setup.sh (requirements.txt pins it)")
  endif()
  string(REPLACE "\n" ";" _lines "${_lines}")
  set(${out} "${_lines}" PARENT_SCOPE)
endfunction()

find_package(MPI REQUIRED COMPONENTS CXX)
find_package(HDF5 REQUIRED COMPONENTS C CXX)
find_package(spdlog CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)  # PNG plots of the training curves (report)
# TensorBoard event files (report). Found before torch's prefix joins the search path: the torch wheel
# ships protobuf headers of its own, which must not be mixed with Debian's library.
find_package(Protobuf 3.21 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)

# libtorch from the pip wheel (C++11 ABI from 2.7 on). The wheel is CUDA-enabled; its CMake config
# looks for a CUDA toolkit, which lives in /usr/local/cuda on our machines.
negatron_python_lines(_torch_out torch
  "import torch,os;print(torch.utils.cmake_prefix_path);print(os.path.dirname(torch.__file__))")
list(GET _torch_out 0 NEGATRON_TORCH_CMAKE_PREFIX)
list(GET _torch_out 1 NEGATRON_TORCH_DIR)
list(APPEND CMAKE_PREFIX_PATH "${NEGATRON_TORCH_CMAKE_PREFIX}")
if(NOT DEFINED CUDAToolkit_ROOT AND EXISTS /usr/local/cuda)
  set(CUDAToolkit_ROOT /usr/local/cuda)
endif()
if(NOT DEFINED TORCH_CUDA_ARCH_LIST)
  set(TORCH_CUDA_ARCH_LIST "9.0")
endif()
find_package(Torch REQUIRED)
message(STATUS "libtorch ${Torch_VERSION} from ${NEGATRON_TORCH_DIR}")

# Apache Arrow and Parquet C++ (Parquet input) from the pip `pyarrow` wheel, found through the same
# Python as torch: the wheel ships the headers (pyarrow/include) and the libraries as libarrow.so.<so>
# and libparquet.so.<so> without unversioned symlinks, so they are imported by full path. Arrow's
# headers need C++20: only the translation unit that reads Parquet includes them (src/CMakeLists.txt).
negatron_python_lines(_arrow_out pyarrow
  "import pyarrow as pa;print(pa.get_include());print(pa.get_library_dirs()[0]);print(pa.cpp_build_info.so_version);print(pa.__version__)")
list(GET _arrow_out 0 NEGATRON_ARROW_INCLUDE_DIR)
list(GET _arrow_out 1 _arrow_lib_dir)
list(GET _arrow_out 2 _arrow_so)
list(GET _arrow_out 3 _arrow_version)
foreach(_lib arrow parquet)
  set(_path "${_arrow_lib_dir}/lib${_lib}.so.${_arrow_so}")
  if(NOT EXISTS "${_path}")
    message(FATAL_ERROR "pyarrow ${_arrow_version} has no ${_path}")
  endif()
  add_library(Arrow::${_lib} SHARED IMPORTED)
  set_target_properties(Arrow::${_lib} PROPERTIES IMPORTED_LOCATION "${_path}" IMPORTED_SONAME "lib${_lib}.so.${_arrow_so}"
                        INTERFACE_INCLUDE_DIRECTORIES "${NEGATRON_ARROW_INCLUDE_DIR}")
endforeach()
set_target_properties(Arrow::parquet PROPERTIES INTERFACE_LINK_LIBRARIES Arrow::arrow)
message(STATUS "Arrow/Parquet ${_arrow_version} from ${_arrow_lib_dir}")

# NCCL: link the copy torch itself loads (the nvidia-nccl wheel), so one process never holds two.
find_package(CUDAToolkit)
find_path(NCCL_INCLUDE_DIR nccl.h
  HINTS "${NEGATRON_TORCH_DIR}/../nvidia/nccl/include" ${CUDAToolkit_INCLUDE_DIRS} $ENV{NCCL_ROOT}/include)
find_library(NCCL_LIBRARY NAMES libnccl.so.2 nccl
  HINTS "${NEGATRON_TORCH_DIR}/../nvidia/nccl/lib" ${CUDAToolkit_LIBRARY_DIR} $ENV{NCCL_ROOT}/lib)
if(CUDAToolkit_FOUND AND NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
  set(NEGATRON_HAVE_NCCL ON)
  add_library(NCCL::nccl UNKNOWN IMPORTED)
  set_target_properties(NCCL::nccl PROPERTIES IMPORTED_LOCATION "${NCCL_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${NCCL_INCLUDE_DIR}" INTERFACE_LINK_LIBRARIES CUDA::cudart)
  message(STATUS "NCCL: ${NCCL_LIBRARY}")
else()
  set(NEGATRON_HAVE_NCCL OFF)
  message(STATUS "NCCL not found: the NCCL communicator is not built")
endif()

# malloc for the negatron executable. glibc keeps freed activation memory in its heaps and lets it
# fragment: packed encoder activations come in a new size every mini-batch, so a cached step at batch
# 1024 peaked at 1.32x the RSS of batch 32, and all of the excess was retention. gperftools'
# tcmalloc (Debian libgoogle-perftools-dev) measured 1.16x with 23% less RSS and 5-10% faster steps
# (benchmarks/RESULTS.md); jemalloc 1.17x but slower. Linked, not LD_PRELOADed, so every launch
# (mpirun, Slurm, tests) gets it. "system" keeps glibc.
set(NEGATRON_ALLOCATOR "tcmalloc" CACHE STRING "malloc of the negatron executable: tcmalloc or system")
set_property(CACHE NEGATRON_ALLOCATOR PROPERTY STRINGS tcmalloc system)
set(NEGATRON_ALLOCATOR_LINK "")
if(NEGATRON_ALLOCATOR STREQUAL "tcmalloc")
  find_library(TCMALLOC_LIBRARY NAMES libtcmalloc_minimal.so.4 tcmalloc_minimal)
  if(TCMALLOC_LIBRARY)
    # --no-as-needed: nothing calls tcmalloc by name; it replaces malloc by being loaded before libc.
    set(NEGATRON_ALLOCATOR_LINK "-Wl,--push-state,--no-as-needed" "${TCMALLOC_LIBRARY}" "-Wl,--pop-state")
    message(STATUS "allocator: tcmalloc (${TCMALLOC_LIBRARY})")
  else()
    message(WARNING "NEGATRON_ALLOCATOR=tcmalloc but libtcmalloc_minimal was not found "
                    "(apt-get install libgoogle-perftools-dev); the negatron executable uses glibc malloc")
  endif()
elseif(NOT NEGATRON_ALLOCATOR STREQUAL "system")
  message(FATAL_ERROR "NEGATRON_ALLOCATOR must be tcmalloc or system, got '${NEGATRON_ALLOCATOR}'")
endif()

# mpirun as root in containers and CI; oversubscription for -np > cores.
set(NEGATRON_MPI_ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none)
