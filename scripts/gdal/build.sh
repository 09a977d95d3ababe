#!/usr/bin/env bash
# The GDAL that gdal-lambda ships and that the host's test suites link: GDAL 3.12.1 as one static
# libgdal.a with PROJ, netCDF-C and libjxl compiled from pinned sources (scripts/gdal/versions) and
# every other codec and format library taken from Debian bookworm's static (.a) packages, for
# TARGETARCH amd64 or arm64, natively or with Debian's cross gcc (never under emulation).
#   build.sh deps      apt-get install the build tools and the target's -dev packages (root)
#   build.sh PREFIX    build into PREFIX: lib/libgdal.a and the static libraries it needs,
#                      lib/pkgconfig/gdal.pc (`pkg-config --static --libs gdal` links it all),
#                      include/, share/gdal, share/proj (proj.db), bin/gdalinfo, bin/gdal_translate,
#                      and gdal-build.json (versions, drivers, codecs, architecture)
# Environment: TARGETARCH (default: this machine's), JOBS (default: nproc), STRATUS_GDAL_WORK (the
# build directory, default /var/tmp/stratus-gdal-<arch>; removed after a successful build unless
# KEEP_WORK=1), CARGO_HOME (where cargo keeps the downloaded sources).
# Drivers: GTiff/COG, VRT, MEM, PNG, JPEG, AAIGrid, HFA, JP2OpenJPEG, netCDF, HDF5, HDF4, GRIB and
# nothing else (no network: no curl, no DAP, no /vsicurl/); how to add one: docs/images.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/gdal/versions
source "$here/versions"

build_arch=$(dpkg --print-architecture)
arch=${TARGETARCH:-$build_arch}
case $arch in
  amd64) gnu=x86_64-linux-gnu cpu=x86_64 triple=x86_64-unknown-linux-gnu ;;
  arm64) gnu=aarch64-linux-gnu cpu=aarch64 triple=aarch64-unknown-linux-gnu ;;
  *) echo "gdal: unsupported architecture $arch (amd64 or arm64)" >&2; exit 2 ;;
esac
cross=false
[[ $arch == "$build_arch" ]] || cross=true
log() { echo "gdal: $* [$((SECONDS)) s]" >&2; }
# A CA bundle given as the build secret `ca` (behind a TLS-inspecting proxy), for apt and cargo.
if [[ -s /run/secrets/ca ]]; then
  export SSL_CERT_FILE=/run/secrets/ca CARGO_HTTP_CAINFO=/run/secrets/ca
fi

if [[ ${1:-} == deps ]]; then
  # Build tools for the build machine; libraries for the target.
  packages=(cmake ninja-build make pkg-config sqlite3 ca-certificates)
  suffix=""
  if $cross; then
    dpkg --add-architecture "$arch"
    packages+=("g++-${gnu//_/-}" "libc6-dev-$arch-cross")
    suffix=":$arch"
  else
    packages+=(g++)
  fi
  for entry in "${DEBIAN_STATIC[@]}"; do
    read -r package _ <<<"$entry"
    packages+=("$package$suffix")
  done
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  rm -rf /var/lib/apt/lists/*
  exit 0
fi

prefix=${1:?usage: build.sh deps | build.sh PREFIX}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
work=${STRATUS_GDAL_WORK:-/var/tmp/stratus-gdal-$arch}
jobs=${JOBS:-$(nproc)}
mkdir -p "$work/src" "$prefix/lib" "$prefix/bin" "$prefix/share"
start=$SECONDS

cc=$gnu-gcc cxx=$gnu-g++
export STRATUS_GNU_TRIPLE=$gnu STRATUS_CPU=$cpu
# pkg-config (libjxl's .pc, GDAL's finders) sees only what this build installed.
export PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig
unset PKG_CONFIG_PATH

# ---------------------------------------------------------------------------------------------
# Sources: the crates of scripts/gdal/sources/Cargo.lock, checked against versions.
log "sources (cargo fetch, SHA-256 checked)"
cargo fetch --locked --quiet --manifest-path "$here/sources/Cargo.toml" --target "$triple"
cache_dirs=("${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/)
declare -A src
for entry in "${SOURCES[@]}"; do
  read -r crate version sum <<<"$entry"
  file=""
  for dir in "${cache_dirs[@]}"; do
    [[ -f $dir/$crate-$version.crate ]] && file=$dir/$crate-$version.crate
  done
  [[ -n $file ]] || { echo "gdal: cargo fetched no $crate $version" >&2; exit 1; }
  echo "$sum  $file" | sha256sum --check --quiet \
    || { echo "gdal: $file does not have the SHA-256 scripts/gdal/versions pins" >&2; exit 1; }
  if [[ ! -f $work/src/$crate-$version/.unpacked ]]; then
    rm -rf "$work/src/$crate-$version"
    tar -C "$work/src" -xzf "$file"
    touch "$work/src/$crate-$version/.unpacked"
  fi
  src[$crate]=$work/src/$crate-$version
done
proj_tar=${src[proj-sys]}/PROJSRC/$PROJ_TARBALL
echo "$PROJ_SHA256  $proj_tar" | sha256sum --check --quiet \
  || { echo "gdal: $proj_tar does not have the pinned SHA-256" >&2; exit 1; }
proj_src=$work/src/${PROJ_TARBALL%.tar.gz}
[[ -d $proj_src ]] || tar -C "$work/src" -xzf "$proj_tar"
gdal_src=${src[gdal-src]}/source
netcdf_src=${src[netcdf-src]}/source
jxl_src=${src[jpegxl-src]}/libjxl
grep -q "GDAL_RELEASE_NAME *\"$GDAL_VERSION\"" "$gdal_src/gcore/gdal_version.h.in" \
  || { echo "gdal: the gdal-src crate does not carry GDAL $GDAL_VERSION" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Debian's static libraries, copied into PREFIX/lib: the prefix is self-contained (linking it needs
# no -dev package), and pkg-config's users (gdal-sys) link them statically because they are
# outside /usr.
log "Debian's static libraries ($arch)"
multiarch=/usr/lib/$gnu
debian_libs=()
for entry in "${DEBIAN_STATIC[@]}"; do
  read -r package libs <<<"$entry"
  for lib in $libs; do
    found=""
    for dir in "$multiarch" /usr/lib; do
      [[ -f $dir/$lib ]] && { found=$(readlink -f "$dir/$lib"); break; }
    done
    [[ -n $found ]] || { echo "gdal: $lib of $package is missing (build.sh deps)" >&2; exit 1; }
    cp "$found" "$prefix/lib/$(basename "$lib")"
    debian_libs+=("$(basename "$lib")")
  done
done

# CMake settings every component shares. -ffunction-sections lets the final link (Rust's
# --gc-sections) drop the code nothing calls.
sections="-ffunction-sections -fdata-sections"
cmake_common=(
  -G Ninja -Wno-dev
  -DCMAKE_BUILD_TYPE=Release
  "-DCMAKE_C_FLAGS=$sections" "-DCMAKE_CXX_FLAGS=$sections"
  "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG" "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG"
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx"
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_INSTALL_LIBDIR=lib
  -DCMAKE_PROJECT_INCLUDE="$here/static.cmake"
  -DBUILD_SHARED_LIBS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_TESTING=OFF
)
$cross && cmake_common+=(-DCMAKE_TOOLCHAIN_FILE="$here/cross.cmake")
L=$prefix/lib

# Builds and installs one CMake project: <name> <source dir> [cmake arguments...]. A stamp skips
# the build (not the install) when a kept STRATUS_GDAL_WORK holds one made with the same sources
# and arguments; GDAL's stamp also covers the components built before it, which it links.
built=()
component() {
  local name=$1 source=$2 stamp after=()
  shift 2
  [[ $name == gdal ]] && after=("${built[@]}")
  stamp=$(printf '%s\n' "${after[@]}" "$source" "${cmake_common[@]}" "$@" | sha256sum | cut -c1-16)
  built+=("$stamp")
  if [[ -f $work/$name.done && $(cat "$work/$name.done") == "$stamp" ]]; then
    log "$name: built before with the same settings, installing"
    cmake --install "$work/build-$name" >"$work/$name.install.log" 2>&1
    return
  fi
  local t=$SECONDS
  # The stamp goes first: a build stopped half-way must not pass for a finished one next time.
  rm -f "$work/$name.done"
  rm -rf "$work/build-$name"
  log "$name: configure"
  cmake -S "$source" -B "$work/build-$name" "${cmake_common[@]}" "$@" >"$work/$name.configure.log" 2>&1 \
    || { tail -n 40 "$work/$name.configure.log" >&2; echo "gdal: $name: configure failed" >&2; exit 1; }
  # Only static archives may be linked (static.cmake; a package's CMake config could still name
  # a shared library).
  if grep -E '\.so(\.[0-9]+)*(;|$)' "$work/build-$name/CMakeCache.txt" >&2; then
    echo "gdal: $name: a dependency resolved to a shared library (above)" >&2
    exit 1
  fi
  log "$name: build"
  cmake --build "$work/build-$name" -j "$jobs" >"$work/$name.build.log" 2>&1 \
    || { grep -A20 -m3 -E '^FAILED:|error:' "$work/$name.build.log" | tail -n 60 >&2; echo "gdal: $name: build failed" >&2; exit 1; }
  cmake --install "$work/build-$name" >"$work/$name.install.log" 2>&1
  echo "$stamp" >"$work/$name.done"
  log "$name: done in $((SECONDS - t)) s"
}

# ---------------------------------------------------------------------------------------------
# PROJ: no network (curl) and no TIFF grids; proj.db is made with the build machine's sqlite3 and
# shipped as a file (share/proj), not embedded: one copy in the image, not one per binary (9 MB).
component proj "$proj_src" \
  -DENABLE_CURL=OFF -DENABLE_TIFF=OFF -DBUILD_APPS=OFF -DEMBED_PROJ_DATA_PATH=OFF \
  -DEMBED_RESOURCE_FILES=OFF \
  -DSQLite3_INCLUDE_DIR=/usr/include -DSQLite3_LIBRARY="$L/libsqlite3.a" -DEXE_SQLITE3="$(command -v sqlite3)"

# HDF5 for netCDF and GDAL: Debian's serial build, static. (Its ROS3 S3 driver, the one part that
# would need libcurl, is never referenced and so never linked.)
hdf5=(-DHDF5_hdf5_LIBRARY_RELEASE="$L/libhdf5.a" -DHDF5_hdf5_hl_LIBRARY_RELEASE="$L/libhdf5_hl.a"
  -DHDF5_C_INCLUDE_DIR=/usr/include/hdf5/serial -DHDF5_INCLUDE_DIR=/usr/include/hdf5/serial
  -DHDF5_USE_STATIC_LIBRARIES=ON -DHDF5_PREFER_PARALLEL=OFF -DHDF5_NO_FIND_PACKAGE_CONFIG_FILE=ON
  -DHDF5_C_COMPILER_EXECUTABLE=HDF5_C_COMPILER_EXECUTABLE-NOTFOUND)

# netCDF-C: classic and netCDF-4 (HDF5) files only. Every remote access (DAP2/4, byte ranges,
# S3/NCZarr) and run-time plugin loading is compiled out.
component netcdf "$netcdf_src" "${hdf5[@]}" \
  -DNETCDF_ENABLE_REMOTE_FUNCTIONALITY=OFF -DNETCDF_ENABLE_DAP=OFF -DNETCDF_ENABLE_DAP4=OFF \
  -DNETCDF_ENABLE_BYTERANGE=OFF -DNETCDF_ENABLE_S3=OFF -DNETCDF_ENABLE_NCZARR=OFF \
  -DNETCDF_ENABLE_NCZARR_ZIP=OFF -DNETCDF_ENABLE_PLUGINS=OFF -DNETCDF_ENABLE_LIBXML2=OFF \
  -DNETCDF_ENABLE_FILTER_SZIP=OFF -DNETCDF_ENABLE_FILTER_BZ2=OFF -DNETCDF_ENABLE_FILTER_BLOSC=OFF \
  -DNETCDF_ENABLE_FILTER_ZSTD=OFF -DNETCDF_ENABLE_HDF4=OFF -DNETCDF_ENABLE_HDF5=ON \
  -DNETCDF_ENABLE_PARALLEL4=OFF -DNETCDF_BUILD_UTILITIES=OFF -DNETCDF_ENABLE_EXAMPLES=OFF \
  -DNETCDF_ENABLE_TESTS=OFF -DNETCDF_ENABLE_FILTER_TESTING=OFF -DNETCDF_ENABLE_DOXYGEN=OFF \
  -DNETCDF_FIND_SHARED_LIBS=OFF -DNETCDF_ENABLE_LOGGING=OFF \
  -DZLIB_LIBRARY="$L/libz.a" -DZLIB_INCLUDE_DIR=/usr/include

# libjxl (for GeoTIFF's JPEG-XL codec): the library alone, its bundled highway and skcms,
# Debian's brotli. HWY_COMPILE_ONLY_STATIC compiles each SIMD kernel for the baseline target
# only (SSE2/SSE4 on x86_64, NEON on arm64) instead of once per CPU generation: a fraction of the
# compile time and size, for a codec GDAL only decodes when pixels are read.
component jxl "$jxl_src" \
  "-DCMAKE_CXX_FLAGS=$sections -DHWY_COMPILE_ONLY_STATIC=1" "-DCMAKE_C_FLAGS=$sections -DHWY_COMPILE_ONLY_STATIC=1" \
  -DJPEGXL_ENABLE_TOOLS=OFF -DJPEGXL_ENABLE_DEVTOOLS=OFF -DJPEGXL_ENABLE_DOXYGEN=OFF \
  -DJPEGXL_ENABLE_MANPAGES=OFF -DJPEGXL_ENABLE_BENCHMARK=OFF -DJPEGXL_ENABLE_EXAMPLES=OFF \
  -DJPEGXL_ENABLE_JNI=OFF -DJPEGXL_ENABLE_SJPEG=OFF -DJPEGXL_ENABLE_OPENEXR=OFF \
  -DJPEGXL_ENABLE_VIEWERS=OFF -DJPEGXL_ENABLE_PLUGINS=OFF -DJPEGXL_ENABLE_FUZZERS=OFF \
  -DJPEGXL_ENABLE_JPEGLI=OFF -DJPEGXL_ENABLE_TCMALLOC=OFF -DJPEGXL_ENABLE_SKCMS=ON \
  -DJPEGXL_BUNDLE_LIBPNG=OFF -DJPEGXL_FORCE_SYSTEM_BROTLI=ON -DJPEGXL_FORCE_SYSTEM_HWY=OFF \
  -DJPEGXL_ENABLE_TRANSCODE_JPEG=OFF -DJPEGXL_STATIC=OFF -DJPEGXL_WARNINGS_AS_ERRORS=OFF \
  -DBROTLI_INCLUDE_DIR=/usr/include -DBROTLIDEC_LIBRARY="$L/libbrotlidec.a" \
  -DBROTLIENC_LIBRARY="$L/libbrotlienc.a" -DBROTLICOMMON_LIBRARY="$L/libbrotlicommon.a"

# Everything libgdal.a needs at link time besides itself, in link order: what gdal.pc's
# Libs.private lists, what GDAL's own programs are linked with.
jxl_libs=()
for lib in jxl jxl_cms hwy; do [[ -f $L/lib$lib.a ]] && jxl_libs+=("-l$lib"); done
deps_libs=(-lproj -lnetcdf -lhdf5_hl -lhdf5 -lmfhdfalt -ldfalt -ltirpc "${jxl_libs[@]}"
  -lbrotlienc -lbrotlidec -lbrotlicommon -lopenjp2 -lwebp -lpng16 -ljpeg -lzstd -llzma -ldeflate
  -lsz -laec -lz -lsqlite3)
system_libs=(-lstdc++ -lm -lpthread -ldl)

# ---------------------------------------------------------------------------------------------
# GDAL: the drivers raster metadata needs, their codecs, nothing that reaches a network.
drivers=(GTIFF VRT MEM PNG JPEG AAIGRID HFA JP2OPENJPEG NETCDF HDF5 HDF4 GRIB)
driver_flags=()
for d in "${drivers[@]}"; do driver_flags+=("-DGDAL_ENABLE_DRIVER_$d=ON"); done
link_all="-L$L -Wl,--start-group ${deps_libs[*]} -Wl,--end-group ${system_libs[*]}"
# GDAL's checks for functions of libjxl and HDF4 link a test program against the one library
# alone, which fails for a static library whose own dependencies (highway, libstdc++; libtirpc)
# are not named: the answers for the pinned libjxl and Debian's HDF4 4.2.15, given as cache entries.
answers=()
for f in JxlEncoderFrameSettingsSetOption JxlEncoderFrameSettingsCreate JxlEncoderSetFrameLossless \
  JxlEncoderSetFrameDistance JxlEncoderSetCodestreamLevel JxlEncoderInitExtraChannelInfo \
  JxlEncoderSetExtraChannelDistance; do
  answers+=("-DHAVE_$f=1")
done
answers+=(-DHDF4_HAS_MAXOPENFILES=1)
component gdal "$gdal_src" "${hdf5[@]}" \
  -DBUILD_APPS=OFF -DBUILD_DOCS=OFF -DBUILD_PYTHON_BINDINGS=OFF \
  -DENABLE_GNM=OFF -DGDAL_ENABLE_ALGORITHMS=OFF \
  -DGDAL_BUILD_OPTIONAL_DRIVERS=OFF -DOGR_BUILD_OPTIONAL_DRIVERS=OFF \
  -DOGR_ENABLE_DRIVER_GEOJSON=OFF -DOGR_ENABLE_DRIVER_SHAPE=OFF -DOGR_ENABLE_DRIVER_TAB=OFF \
  "${driver_flags[@]}" \
  -DGDAL_USE_EXTERNAL_LIBS=OFF -DGDAL_USE_INTERNAL_LIBS=OFF \
  -DGDAL_USE_TIFF_INTERNAL=ON -DGDAL_USE_GEOTIFF_INTERNAL=ON -DGDAL_USE_JSONC_INTERNAL=ON \
  -DGDAL_USE_LERC_INTERNAL=ON -DGDAL_USE_JPEG12_INTERNAL=ON \
  -DGDAL_USE_ZLIB=ON -DGDAL_USE_DEFLATE=ON -DGDAL_USE_ZSTD=ON -DGDAL_USE_WEBP=ON \
  -DGDAL_USE_LIBLZMA=ON -DGDAL_USE_JXL=ON -DGDAL_USE_JXL_THREADS=OFF -DGDAL_USE_PNG=ON \
  -DGDAL_USE_JPEG=ON -DGDAL_USE_OPENJPEG=ON -DGDAL_USE_LIBAEC=ON -DGDAL_USE_NETCDF=ON \
  -DGDAL_USE_HDF5=ON -DGDAL_USE_HDF4=ON -DGDAL_USE_CURL=OFF \
  -DGDAL_FIND_PACKAGE_PROJ_MODE=CONFIG -DGDAL_FIND_PACKAGE_OpenJPEG_MODE=MODULE \
  -DGDAL_CHECK_PACKAGE_ZSTD_NAMES= -DGDAL_CHECK_PACKAGE_NetCDF_NAMES= \
  -DNC_CONFIG="$prefix/bin/nc-config" -DNETCDF_INCLUDE_DIR="$prefix/include" -DNETCDF_LIBRARY="$L/libnetcdf.a" \
  -DZLIB_LIBRARY="$L/libz.a" -DZLIB_INCLUDE_DIR=/usr/include \
  -DHDF4_INCLUDE_DIR=/usr/include/hdf -DHDF4_COMPONENTS="df;mfhdf" \
  -DHDF4_df_LIBRARY_RELEASE="$L/libdfalt.a" -DHDF4_mfhdf_LIBRARY_RELEASE="$L/libmfhdfalt.a" \
  -DOPENJPEG_INCLUDE_DIR=/usr/include/openjpeg-2.5 -DOPENJPEG_LIBRARY="$L/libopenjp2.a" \
  "-DCMAKE_C_STANDARD_LIBRARIES=$link_all" "-DCMAKE_CXX_STANDARD_LIBRARIES=$link_all" \
  "${answers[@]}"

# ---------------------------------------------------------------------------------------------
# The format libraries' own file access through GDAL's file systems (vsi_io.c): netCDF-C, HDF5
# and HDF4 open and read files with the C library, on a /vsi path GDAL hands them or on any path a
# file names (HDF5 external links and storage, HDF4 external elements, netCDF's rc files). Their
# archives' references to the C library's file functions are renamed to vsi_io.c's (vsi_io.syms),
# which open every path with VSIFOpenL: an upload's bytes come through gdal-lambda's object
# reader, and whatever GDAL may not open, they cannot open either. Done after GDAL's own build,
# whose configure checks link these libraries as they are; redone on every run (the install
# above copies them anew).
log "vsi_io: netCDF-C, HDF5 and HDF4 read through GDAL's file systems"
"$cc" -O2 $sections -fPIC -Wall -Werror -I"$prefix/include" -c "$here/vsi_io.c" -o "$work/vsi_io.o"
rm -f "$L/libstratus_vsi_io.a"
"$gnu-ar" rcs "$L/libstratus_vsi_io.a" "$work/vsi_io.o"
renames=$work/vsi_io.renames
grep -v '^#' "$here/vsi_io.syms" >"$renames"
for lib in libnetcdf.a libhdf5.a libhdf5_hl.a libmfhdfalt.a libdfalt.a; do
  "$gnu-objcopy" --redefine-syms="$renames" "$L/$lib"
  # Nothing of the C library's file access may be left in them.
  left=$("$gnu-nm" -u "$L/$lib" 2>/dev/null | awk '{print $NF}' | sort -u \
    | comm -12 - <(cut -d' ' -f1 "$renames" | sort -u) | tr '\n' ' ')
  [[ -z $left ]] || { echo "gdal: $lib still calls the C library's $left(vsi_io.syms)" >&2; exit 1; }
done
# What links the prefix: GDAL's libraries with libstratus_vsi_io after the format libraries whose
# references it resolves (GDAL's own build above linked them unrenamed, without it).
link_libs=()
for lib in "${deps_libs[@]}"; do
  link_libs+=("$lib")
  [[ $lib == -ldfalt ]] && link_libs+=(-lstratus_vsi_io)
done

# ---------------------------------------------------------------------------------------------
# gdal.pc: what links this prefix, relative to where the file is (the prefix can move: the
# host's copy lives in target/gdal/).
log "gdal.pc, bin/gdalinfo, bin/gdal_translate"
mkdir -p "$L/pkgconfig"
cat >"$L/pkgconfig/gdal.pc" <<PC
prefix=\${pcfiledir}/../..
libdir=\${prefix}/lib
includedir=\${prefix}/include
datadir=\${prefix}/share/gdal

Name: libgdal
Description: GDAL $GDAL_VERSION, static, with the drivers Stratus ships (gdal-build.json)
Version: $GDAL_VERSION
Libs: -L\${libdir} -lgdal
Libs.private: ${link_libs[*]} ${system_libs[*]}
Cflags: -I\${includedir}
PC
# Nothing but gdal.pc describes this prefix: the other components' .pc, CMake and config files
# name the build's paths (and Debian's shared libraries).
find "$L/pkgconfig" -name '*.pc' ! -name gdal.pc -delete
rm -rf "$L/cmake" "$L/libnetcdf.settings" "$L/libjxl_threads.a" "$prefix/bin/nc-config" \
  "$prefix/bin/gdal-config" "$prefix/share/man" "$prefix/share/doc" "$prefix/share/bash-completion"

# GDAL's own gdalinfo and gdal_translate, linked from the installed libgdal.a with gdal.pc's
# libraries, in the order a Rust build gets them: the very link the test suites and the handler do.
flags=$(PKG_CONFIG_LIBDIR=$L/pkgconfig pkg-config --static --libs gdal)
for app in gdalinfo gdal_translate; do
  # shellcheck disable=SC2086 # pkg-config's words
  "$cxx" -O2 -I"$prefix/include" -I"$gdal_src/apps" -o "$prefix/bin/$app" "$gdal_src/apps/${app}_bin.cpp" \
    -Wl,--gc-sections -Wl,--start-group $flags -Wl,--end-group
  "$gnu-strip" "$prefix/bin/$app"
done

# ---------------------------------------------------------------------------------------------
# The manifest: what this build is, for docs, tests and the image.
cache=$work/build-gdal/CMakeCache.txt
enabled() { sed -n "s/^$1\([A-Z0-9_]*\):BOOL=ON$/\1/p" "$cache" | sort | tr '\n' ' '; }
debian_versions=()
for entry in "${DEBIAN_STATIC[@]}"; do
  read -r package _ <<<"$entry"
  v=$(dpkg-query -W -f '${Version}' "$package$($cross && echo ":$arch")" 2>/dev/null || echo unknown)
  debian_versions+=("\"$package\": \"$v\"")
done
json_join() { local first=1; for w in "$@"; do ((first)) || printf ', '; printf '%s' "$w"; first=0; done; }
json_list() { local w quoted=(); for w in "$@"; do quoted+=("\"$w\""); done; json_join "${quoted[@]}"; }
# shellcheck disable=SC2046 # word lists on purpose
{
  echo '{'
  echo "  \"gdal\": \"$GDAL_VERSION\","
  echo "  \"arch\": \"$arch\","
  echo "  \"triple\": \"$triple\","
  echo "  \"sources\": {$(for e in "${SOURCES[@]}"; do read -r c v s <<<"$e"; printf '"%s": {"version": "%s", "sha256": "%s"}, ' "$c" "$v" "$s"; done | sed 's/, $//')},"
  echo "  \"proj\": \"${PROJ_TARBALL#proj-}\","
  echo "  \"debian\": {$(json_join "${debian_versions[@]}")},"
  echo "  \"drivers_enabled\": [$(json_list $(enabled GDAL_ENABLE_DRIVER_))],"
  echo "  \"ogr_drivers_enabled\": [$(json_list $(enabled OGR_ENABLE_DRIVER_))],"
  echo "  \"libraries_used\": [$(json_list $(enabled GDAL_USE_))],"
  echo "  \"gtiff_codecs\": [\"DEFLATE (libdeflate)\", \"LZW\", \"PackBits\", \"JPEG (8 and 12 bit)\", \"LERC\", \"LERC_DEFLATE\", \"LERC_ZSTD\", \"ZSTD\", \"WEBP\", \"LZMA\", \"JXL\", \"CCITT\"],"
  echo "  \"static_libraries\": [$(json_list $(cd "$L" && printf '%s\n' *.a))],"
  echo "  \"link\": \"-L<prefix>/lib ${flags#* }\""
  echo '}'
} >"$prefix/gdal-build.json"

# What GDAL reports about itself (on the build machine's architecture only: a cross build's
# programs cannot run here).
if ! $cross; then
  export GDAL_DATA=$prefix/share/gdal PROJ_DATA=$prefix/share/proj
  "$prefix/bin/gdalinfo" --version
  "$prefix/bin/gdalinfo" --formats
  echo "GTiff compressions: $("$prefix/bin/gdalinfo" --format GTiff | sed -n '/name="COMPRESS"/,/<\/Option>/p' \
    | grep -o '<Value>[^<]*</Value>' | sed 's/<[^>]*>//g' | awk '!seen[$0]++' | tr '\n' ' ')"
fi
echo "gdal: drivers: $(enabled GDAL_ENABLE_DRIVER_)"
echo "gdal: libraries: $(enabled GDAL_USE_)"
echo "gdal: $(du -sh "$L" | cut -f1) in $L ($(du -sh "$L/libgdal.a" | cut -f1) libgdal.a); built in $((SECONDS - start)) s"
[[ ${KEEP_WORK:-} == 1 ]] || rm -rf "$work"
