//! Files named by CRS text. A CRS may name grid or init files
//! (`+nadgrids=/path`, `+init=/path:id`, an ESRI `PROJ4_GRIDS` extension, a
//! WKT2 `PARAMETERFILE`), and PROJ opens such paths as soon as GDAL parses
//! the CRS, outside GDAL's file systems. Bare names (`@null`, `conus`,
//! `epsg`) are looked up in PROJ's own data directory and are harmless.

/// Whether `text` (a PROJ string or WKT) names a file by path or URL.
///
/// An early refusal with a clear message, not the defence: PROJ's file
/// access goes through the lockdown ([`crate::lockdown`]) and the parse
/// worker can open no file at all. White space between a key and its value
/// (`"PROJ4_GRIDS", "/p"`, `+nadgrids = /p`) is read the way PROJ reads it.
pub(crate) fn names_files(text: &str) -> bool {
    if skipped_for_tests() {
        return false;
    }
    let lower = squeeze(&text.to_ascii_lowercase());
    const KEYS: [&str; 6] = [
        "nadgrids=",
        "geoidgrids=",
        "grids=",
        "init=",
        "\"proj4_grids\",\"",
        "parameterfile[",
    ];
    KEYS.iter().any(|key| {
        lower.match_indices(key).any(|(at, _)| {
            let rest = &lower[at + key.len()..];
            // PARAMETERFILE["name","value"]: the value is the second string.
            let rest = if key.starts_with("parameterfile") {
                rest.splitn(3, '"')
                    .nth(2)
                    .and_then(|r| r.split_once('"'))
                    .map_or("", |(_, v)| v)
            } else {
                rest
            };
            let value: String = rest
                .chars()
                .take_while(|c| !matches!(c, ' ' | '"' | '\'' | ']' | '\t' | '\n' | '\r'))
                .collect();
            value.split(',').any(|name| {
                let name = name.trim_start_matches('@');
                // +init=file:id names "file".
                let name = if *key == "init=" {
                    name.split(':').next().unwrap_or(name)
                } else {
                    name
                };
                name.contains(['/', '\\', ':']) || name.starts_with(['.', '~'])
            })
        })
    })
}

/// `text` without white space after a comma or an opening bracket, or
/// around `=`: how PROJ's WKT and PROJ-string parsers tokenise.
fn squeeze(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            let before = out.chars().last();
            while chars.peek().is_some_and(|n| n.is_whitespace()) {
                chars.next();
            }
            let after = chars.peek().copied();
            let joins = matches!(before, Some(',' | '[' | '(' | '='))
                || matches!(after, Some(',' | ']' | ')' | '='));
            if !joins {
                out.push(' ');
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Debug builds only: `STRATUS_TEST_SKIP_STRING_CHECKS=1` turns this check
/// off, so the suites can show that the layers below it hold on their own.
fn skipped_for_tests() -> bool {
    cfg!(debug_assertions) && std::env::var("STRATUS_TEST_SKIP_STRING_CHECKS").as_deref() == Ok("1")
}

#[cfg(test)]
mod tests {
    use super::names_files;

    #[test]
    fn paths_and_urls_are_named_files_bare_names_are_not() {
        for text in [
            "+proj=longlat +ellps=GRS80 +nadgrids=/tmp/x.gsb +no_defs",
            "+proj=longlat +nadgrids=@conus,/proc/self/environ",
            "+proj=longlat +geoidgrids=./egm.gtx",
            "+init=/etc/passwd:1",
            "+init=~/proj:epsg",
            "+proj=hgridshift +grids=https://cdn.example/x.tif",
            r#"GEOGCS["x",DATUM["D",SPHEROID["GRS_1980",6378137.0,298.257222101],EXTENSION["PROJ4_GRIDS","/tmp/x.gsb"]]]"#,
            r#"PARAMETERFILE["Latitude and longitude difference file","../ntv2.gsb"]"#,
            // White space PROJ's parsers skip.
            r#"EXTENSION["PROJ4_GRIDS", "/tmp/x.gsb"]"#,
            "EXTENSION[\"PROJ4_GRIDS\",\n\"/tmp/x.gsb\"]",
            "EXTENSION[ \"proj4_grids\" ,\t\"/dev/stdout\" ]",
            "+proj=longlat +nadgrids = /tmp/x.gsb",
            "PARAMETERFILE[\"Latitude and longitude difference file\",\r\n  \"/etc/passwd\"]",
        ] {
            assert!(names_files(text), "{text}");
        }
        for text in [
            "+proj=merc +a=6378137 +b=6378137 +nadgrids=@null +wktext +no_defs",
            "+proj=longlat +datum=NAD27 +nadgrids=@conus,@alaska",
            "+init=epsg:4326",
            r#"PROJCS["NAD83 / UTM zone 33N",UNIT["metre",1]]"#,
            r#"PARAMETERFILE["Geoid (height correction) model file","us_noaa_g2018u0.tif"]"#,
            "",
        ] {
            assert!(!names_files(text), "{text}");
        }
    }
}
