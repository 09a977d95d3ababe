//! A float for JSON records and STAC fields that may be NaN or infinite.

use serde::{Deserialize, Serialize};

/// A float that may be NaN or infinite: JSON has no such numbers, so those
/// are written as `"nan"`, `"inf"`, `"-inf"` (the STAC raster extension's form).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(pub f64);

impl Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            s.serialize_str("nan")
        } else if v.is_infinite() {
            s.serialize_str(if v > 0.0 { "inf" } else { "-inf" })
        } else if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
            s.serialize_i64(v as i64)
        } else {
            s.serialize_f64(v)
        }
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            F(f64),
            S(String),
        }
        Ok(Number(match Raw::deserialize(d)? {
            Raw::F(f) => f,
            Raw::S(s) => match s.as_str() {
                "nan" => f64::NAN,
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                other => return Err(serde::de::Error::custom(format!("not a number: {other}"))),
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_serialise_like_stac() {
        let v = serde_json::to_value([
            Number(f64::NAN),
            Number(f64::INFINITY),
            Number(-9999.0),
            Number(0.5),
        ])
        .unwrap();
        assert_eq!(v, serde_json::json!(["nan", "inf", -9999, 0.5]));
        let back: Vec<Number> = serde_json::from_value(v).unwrap();
        assert!(back[0].0.is_nan());
        assert_eq!(back[2].0, -9999.0);
    }
}
