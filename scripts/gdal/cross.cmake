# CMake toolchain of scripts/gdal/build.sh when the target is not the build machine: Debian's cross
# gcc (g++-<triple>) and the target's multiarch libraries in /usr/lib/<triple>, no sysroot. The
# build exports STRATUS_GNU_TRIPLE (aarch64-linux-gnu, x86_64-linux-gnu) and STRATUS_CPU.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR $ENV{STRATUS_CPU})
set(CMAKE_C_COMPILER $ENV{STRATUS_GNU_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER $ENV{STRATUS_GNU_TRIPLE}-g++)
set(CMAKE_AR $ENV{STRATUS_GNU_TRIPLE}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB $ENV{STRATUS_GNU_TRIPLE}-ranlib CACHE FILEPATH "")
set(CMAKE_STRIP $ENV{STRATUS_GNU_TRIPLE}-strip CACHE FILEPATH "")
# find_library looks in /usr/lib/<triple> (the target's packages), never at the build machine's.
set(CMAKE_LIBRARY_ARCHITECTURE $ENV{STRATUS_GNU_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# Programs built for the target cannot run here: checks that would run one must be answered
# by cache entries (build.sh passes them) rather than by running it under emulation.
