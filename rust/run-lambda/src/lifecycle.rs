//! Where a Lambda runtime is in Lambda's lifecycle: current, in public
//! preview, or deprecated (with the dates of AWS's runtime deprecation table).
//! run-lambda still runs a deprecated runtime — existing functions keep
//! working after Lambda deprecates their runtime, and so do their Batch jobs —
//! but says so on every run, naming the date, so that a job log shows what to
//! migrate.

use time::Date;

/// A runtime's place in Lambda's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// Supported, with no deprecation scheduled (or one too far off to list).
    Current,
    /// In public preview: not for production (no SLA, may change).
    Preview,
    /// Deprecated on `deprecated` (or scheduled to be), in AWS's table.
    Deprecated(Deprecation),
}

/// A row of Lambda's runtime deprecation table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deprecation {
    /// Lambda stops patching the runtime.
    pub deprecated: Date,
    /// Lambda refuses new functions on it.
    pub block_create: Date,
    /// Lambda refuses updates of functions on it.
    pub block_update: Date,
    /// Why: the component whose end of life took the runtime with it.
    pub because: &'static str,
}

const AL2: &str = "Amazon Linux 2 reached end of life on 2026-06-30";

/// AWS's deprecation table (docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html,
/// with the dates AWS extended in 2026) for the runtimes run-lambda can start;
/// kept in step with docs/run-lambda.md, images/runtimes and lambda-batch-task
/// by tests.
const DEPRECATIONS: &[(&str, [Date; 3], &str)] = {
    use time::macros::date;
    &[
        (
            "python3.11",
            [date!(2027 - 06 - 30), date!(2027 - 07 - 31), date!(2027 - 08 - 31)],
            AL2,
        ),
        (
            "python3.10",
            [date!(2026 - 10 - 31), date!(2027 - 02 - 01), date!(2027 - 03 - 03)],
            "Python 3.10 reached end of life on 2026-10-31, and its runtime's Amazon Linux 2 on 2026-06-30",
        ),
        (
            "provided.al2",
            [date!(2026 - 07 - 31), date!(2027 - 02 - 01), date!(2027 - 03 - 03)],
            AL2,
        ),
        (
            "nodejs20.x",
            [date!(2026 - 04 - 30), date!(2027 - 02 - 01), date!(2027 - 03 - 03)],
            "Node.js 20 reached end of life on 2026-04-30",
        ),
        (
            "python3.9",
            [date!(2025 - 12 - 15), date!(2027 - 02 - 01), date!(2027 - 03 - 03)],
            "Python 3.9 reached end of life",
        ),
        (
            "nodejs18.x",
            [date!(2025 - 09 - 01), date!(2027 - 02 - 01), date!(2027 - 03 - 03)],
            "Node.js 18 reached end of life",
        ),
        (
            "python3.8",
            [date!(2024 - 10 - 14), date!(2027 - 02 - 01), date!(2027 - 03 - 03)],
            "Python 3.8 reached end of life",
        ),
        (
            "nodejs16.x",
            [date!(2024 - 06 - 12), date!(2027 - 02 - 01), date!(2027 - 03 - 03)],
            "Node.js 16 reached end of life",
        ),
        (
            "provided",
            [date!(2024 - 01 - 08), date!(2024 - 02 - 08), date!(2027 - 03 - 03)],
            "Amazon Linux (1) reached end of life",
        ),
        (
            "nodejs14.x",
            [date!(2023 - 12 - 04), date!(2024 - 01 - 09), date!(2027 - 03 - 03)],
            "Node.js 14 reached end of life",
        ),
        (
            "python3.7",
            [date!(2023 - 12 - 04), date!(2024 - 01 - 09), date!(2027 - 03 - 03)],
            "Python 3.7 reached end of life",
        ),
    ]
};

/// The runtimes in public preview (Lambda's preview base images are tagged `-preview`).
const PREVIEWS: &[&str] = &["python3.15", "nodejs26.x"];

impl Lifecycle {
    /// The lifecycle of the runtime `name` (`python3.10`, `nodejs24.x`).
    pub fn of(name: &str) -> Lifecycle {
        if PREVIEWS.contains(&name) {
            return Lifecycle::Preview;
        }
        match DEPRECATIONS.iter().find(|(n, _, _)| *n == name) {
            Some((_, [deprecated, block_create, block_update], because)) => {
                Lifecycle::Deprecated(Deprecation {
                    deprecated: *deprecated,
                    block_create: *block_create,
                    block_update: *block_update,
                    because,
                })
            }
            None => Lifecycle::Current,
        }
    }

    /// What to warn about when a function on `runtime` runs on `today`, if anything.
    pub fn warning(&self, runtime: &str, today: Date) -> Option<String> {
        match self {
            Lifecycle::Current => None,
            Lifecycle::Preview => Some(format!(
                "{runtime} is a Lambda preview runtime: not for production (no SLA, it may change \
                 before it is generally available)"
            )),
            Lifecycle::Deprecated(d) => {
                let when = if today >= d.deprecated {
                    format!("was deprecated by Lambda on {}", d.deprecated)
                } else {
                    format!("is deprecated by Lambda on {}", d.deprecated)
                };
                Some(format!(
                    "{runtime} {when} ({}; new functions blocked from {}, updates from {}): \
                     run-lambda runs it for existing functions only; move the function to a \
                     current runtime",
                    d.because, d.block_create, d.block_update
                ))
            }
        }
    }
}

/// Today, in UTC.
pub fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// Every runtime of the table, with its deprecation date (`YYYY-MM-DD`), for
/// the tests that keep docs, images and Terraform in step.
#[cfg(test)]
pub fn deprecation_dates() -> impl Iterator<Item = (&'static str, String)> {
    DEPRECATIONS
        .iter()
        .map(|(name, [deprecated, _, _], _)| (*name, deprecated.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn deprecated_runtimes_name_their_date() {
        let l = Lifecycle::of("python3.10");
        let w = l.warning("python3.10", date!(2026 - 12 - 01)).unwrap();
        assert!(
            w.starts_with("python3.10 was deprecated by Lambda on 2026-10-31"),
            "{w}"
        );
        assert!(w.contains("existing functions only"), "{w}");
        let w = Lifecycle::of("python3.11")
            .warning("python3.11", date!(2026 - 12 - 01))
            .unwrap();
        assert!(
            w.starts_with("python3.11 is deprecated by Lambda on 2027-06-30"),
            "{w}"
        );
        assert!(w.contains("Amazon Linux 2"), "{w}");
        for r in ["provided.al2", "nodejs20.x"] {
            assert!(matches!(Lifecycle::of(r), Lifecycle::Deprecated(_)), "{r}");
        }
        assert_eq!(Lifecycle::of("python3.14"), Lifecycle::Current);
        assert_eq!(Lifecycle::of("provided.al2023"), Lifecycle::Current);
        assert_eq!(Lifecycle::of("python3.15"), Lifecycle::Preview);
        assert!(Lifecycle::of("python3.14")
            .warning("python3.14", today())
            .is_none());
    }

    /// docs/run-lambda.md's runtimes table and images/runtimes carry the same dates,
    /// and so does lambda-batch-task's check of the function's runtime.
    #[test]
    fn docs_images_and_terraform_carry_the_same_dates() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let read = |p: &str| std::fs::read_to_string(format!("{root}/{p}")).unwrap();
        let docs = read("docs/run-lambda.md");
        let images = read("images/runtimes");
        // (terraform fmt aligns the `=` of a map.)
        let terraform = read("terraform/modules/lambda-batch-task/runtimes.tf")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for (runtime, date) in deprecation_dates() {
            let tf = format!("\"{runtime}\" = \"{date}\"");
            assert!(terraform.contains(&tf), "runtimes.tf lacks {tf}");
            let row = format!("| `{runtime}` | {date} |");
            assert!(docs.contains(&row), "docs/run-lambda.md lacks {row}");
            if let Some(line) = images
                .lines()
                .filter(|l| !l.starts_with('#'))
                .find(|l| l.split_whitespace().nth(1) == Some(runtime))
            {
                assert!(line.ends_with(&format!("deprecated:{date}")), "{line}");
            }
        }
        for runtime in PREVIEWS {
            assert!(terraform.contains(&format!("\"{runtime}\"")), "{runtime}");
        }
    }
}
