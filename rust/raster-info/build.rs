//! `static_gdal`: GDAL is linked statically (the build the image ships,
//! scripts/gdal, which gdal-sys links with `GDAL_STATIC`), so its private symbols are reachable (GDAL's PROJ context,
//! for routing PROJ's file access through GDAL's file systems).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(static_gdal)");
    println!("cargo::rerun-if-env-changed=GDAL_STATIC");
    if std::env::var_os("GDAL_STATIC").is_some() {
        println!("cargo::rustc-cfg=static_gdal");
    }
}
