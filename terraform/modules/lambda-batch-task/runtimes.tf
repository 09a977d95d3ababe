# Lambda's runtime lifecycle, as AWS's runtime deprecation table has it
# (docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html, with the dates AWS extended in
# 2026), for the runtimes run-lambda starts; the same dates as run-lambda's own table
# (rust/run-lambda/src/lifecycle.rs, which a test keeps in step with this file).
locals {
  # Runtime => the date Lambda deprecates it (stops patching it; new functions are blocked
  # later). Jobs still run existing functions on them, with a warning; a runtime given in
  # `function_runtime` (a function created in the same apply: a new one) must not be one.
  lambda_runtime_deprecations = {
    "python3.11"   = "2027-06-30" # Amazon Linux 2 reached end of life on 2026-06-30
    "python3.10"   = "2026-10-31"
    "provided.al2" = "2026-07-31" # Amazon Linux 2 reached end of life on 2026-06-30
    "nodejs20.x"   = "2026-04-30"
    "python3.9"    = "2025-12-15"
    "nodejs18.x"   = "2025-09-01"
    "python3.8"    = "2024-10-14"
    "nodejs16.x"   = "2024-06-12"
    "provided"     = "2024-01-08"
    "nodejs14.x"   = "2023-12-04"
    "python3.7"    = "2023-12-04"
  }
  # Public previews: not for production.
  lambda_preview_runtimes = ["python3.15", "nodejs26.x"]

  runtime_deprecated_on = lookup(local.lambda_runtime_deprecations, local.runtime, null)
}

# A warning at every plan, naming the date, for a job of a function on a runtime Lambda has
# deprecated (from that date on) or on a preview: Lambda runs existing functions on it, and so
# does the job.
check "function_runtime_is_current" {
  assert {
    condition     = local.runtime_deprecated_on == null ? true : timecmp(plantimestamp(), "${coalesce(local.runtime_deprecated_on, "2000-01-01")}T00:00:00Z") < 0
    error_message = "${local.function_name} runs on ${local.runtime}, which Lambda deprecated on ${coalesce(local.runtime_deprecated_on, "-")}: the job runs it for this existing function only; move the function to a current runtime."
  }

  assert {
    condition     = !contains(local.lambda_preview_runtimes, local.runtime)
    error_message = "${local.function_name} runs on ${local.runtime}, a Lambda preview runtime: not for production."
  }
}
