# Included after every project() of the GDAL build's CMake projects (CMAKE_PROJECT_INCLUDE, set by
# scripts/gdal/build.sh): find_library finds static archives only, so no dependency can quietly
# resolve to a Debian shared library.
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
