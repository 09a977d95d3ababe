//! Empty: this package only carries the GDAL build's pinned sources (see Cargo.toml).
