#![doc = r#"
Run any AWS Lambda function's code as a Batch job — a drop-in replacement for
Cirrus' `cirrusgeo/run-lambda` (`run <function> <url>`), done the way Lambda
itself runs code: through a local Lambda Runtime API.

`run` looks the function up (`GetFunction`), downloads its code and layers
(checking `CodeSha256`, extracting safely), reads the payload from S3, serves
the Runtime API on 127.0.0.1 for exactly one invocation, starts the function's
runtime (`bootstrap` for `provided.*`, `awslambdaric` for `python3.*`,
`aws-lambda-ric` for `nodejs*`) with the
environment a Lambda function sees, and writes the response back to S3. A
container-image function's image is its runtime: `run` and `exec --image` start
it with Docker, and `serve` is the Runtime API of a Batch multi-container job
whose other container is the function's image. Any
failure ends with a documented exit code and a last line `ErrorType: message`
(see [`exit`]). `exec` runs local code without any Lambda service, and
`submit` sends a payload to Batch.

Modules: [`cli`] (arguments), `run`, `exec`, `serve`, `submit` (the four
commands), `function` (`GetFunction` → `spec::FunctionSpec`), `code`
(download + SHA-256), `install` (code and layers into the work directory),
`extract` (safe unzip), `payload` (Cirrus I/O
contract), `lifecycle` (Lambda's runtime deprecation table), `ecs` (the
function's container of a multi-container job, through ECS's task metadata), `runtime_api` (the Runtime API server), `runtime_match`
(the image's interpreter and architecture against the function's), `entrypoint` (what
starts the runtime: a `bootstrap`, or Python's or Node.js's runtime interface client, and
the files they start from), `launch` (the runtime's process, from start to end),
`environment` (the variables Lambda sets), `workdir` (the work directory and
its layout), `invoke` (one invocation), `stop` (SIGTERM and SIGINT), `report` (`--report`'s timings), [`exit`] (exit codes).
Only [`cli`] and [`exit`] are public: the library is there for the binary.
"#]

pub mod cli;
mod code;
mod ecs;
mod entrypoint;
mod environment;
mod error;
mod exec;
pub mod exit;
mod extract;
mod function;
mod install;
mod invoke;
mod launch;
mod lifecycle;
mod payload;
mod report;
mod run;
mod runtime_api;
mod runtime_match;
mod serve;
mod spec;
mod stop;
mod submit;
mod workdir;

pub use error::{Error, Result};
