# Sourced by benchmarks/gpu_check.sh: unpacks the carried Debian packages (benchmarks/gpu_fetch_deps.sh)
# into a private prefix with dpkg -x and points the build and the run at it. Sets DEPS and CMAKE_DEPS_ARGS.
CARRY=${CARRY:-.gpu-carry}
DEPS=${DEPS:-/tmp/negatron-deps}
if [[ ! -d "$DEPS/usr" ]]; then
  for deb in "$CARRY"/debs/*.deb; do dpkg -x "$deb" "$DEPS"; done
fi
ARCH_LIB="$DEPS/usr/lib/x86_64-linux-gnu"
export PATH="$DEPS/usr/bin:$PATH"
export LD_LIBRARY_PATH="$ARCH_LIB:$ARCH_LIB/openmpi/lib:$ARCH_LIB/hdf5/serial/lib:$ARCH_LIB/hdf5/serial:${LD_LIBRARY_PATH:-}"
# OpenMPI finds its components, help files and wrapper data under OPAL_PREFIX (Debian builds it with
# prefix /usr, so the relocated tree keeps the same layout below $DEPS/usr).
export OPAL_PREFIX="$DEPS/usr"
export PKG_CONFIG_PATH="$ARCH_LIB/pkgconfig:$DEPS/usr/share/pkgconfig"
# Relocate the Debian symlinks that point at absolute /usr paths (e.g. libhdf5.so -> /usr/lib/...).
while IFS= read -r link; do
  target=$(readlink "$link")
  [[ "$target" == /usr/* || "$target" == /etc/* ]] && ln -sfn "$DEPS$target" "$link"
done < <(find "$DEPS" -type l)
# Debian selects mpicc/mpirun with update-alternatives, which dpkg -x does not run; the h5cc wrappers
# hard-code prefix=/usr.
for tool in mpicc mpicxx mpic++ mpirun mpiexec; do ln -sfn "$tool.openmpi" "$DEPS/usr/bin/$tool"; done
sed -i "s|^prefix=\"/usr\"|prefix=\"$DEPS/usr\"|" "$DEPS/usr/bin/h5cc" "$DEPS/usr/bin/h5c++"
find "$DEPS" -name "*.pc" -exec sed -i "s|^prefix=/usr\$|prefix=$DEPS/usr|" {} +
# h5cc -show also names -lcrypto -lcurl (for static links); give them the unversioned names it looks for.
ln -sfn libcurl-gnutls.so.4 "$ARCH_LIB/libcurl.so"
ln -sfn libcrypto.so.3 "$ARCH_LIB/libcrypto.so"
CMAKE_DEPS_ARGS=(
  -DCMAKE_PREFIX_PATH="$DEPS/usr;$ARCH_LIB/cmake"
  -DMPI_CXX_COMPILER="$DEPS/usr/bin/mpicxx" -DMPI_C_COMPILER="$DEPS/usr/bin/mpicc"
  -DMPIEXEC_EXECUTABLE="$DEPS/usr/bin/mpiexec"
  -DHDF5_C_COMPILER_EXECUTABLE="$DEPS/usr/bin/h5cc" -DHDF5_CXX_COMPILER_EXECUTABLE="$DEPS/usr/bin/h5c++"
  -DPKG_CONFIG_EXECUTABLE="$DEPS/usr/bin/pkgconf"
  -DHDF5_C_LIBRARY_crypto="$ARCH_LIB/libcrypto.so" -DHDF5_CXX_LIBRARY_crypto="$ARCH_LIB/libcrypto.so"
  -DHDF5_C_LIBRARY_curl="$ARCH_LIB/libcurl.so" -DHDF5_CXX_LIBRARY_curl="$ARCH_LIB/libcurl.so"
  -DNEGATRON_ALLOCATOR=system
)
