//! The environment a function's runtime sees: what Lambda sets (its
//! `AWS_LAMBDA_*` variables, the task root, the search paths of the code and
//! layers), over the runner's own, under the function's variables.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::entrypoint::Entrypoint;
use crate::spec::FunctionSpec;
use crate::workdir::Layout;
use crate::{Error, Result};

/// Variables Lambda reserves: a function cannot set them, so neither can its
/// configuration here. Credentials are the job's, never the function's.
pub const RESERVED: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// The runner's own variables a container-image function's container gets
/// (a container does not inherit the runner's environment): its credentials
/// and the endpoints it talks to, as a function in Lambda has its role's.
const PASSED_TO_CONTAINERS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_EC2_METADATA_DISABLED",
];

/// What a runtime process is started with.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// The environment of the process run-lambda starts.
    pub process: Vec<(OsString, OsString)>,
    /// For a container-image function, the variables of `process` that `docker
    /// run` passes into the container (the rest are the docker CLI's own).
    pub passed: Vec<String>,
}

/// The environment of the runtime: the runner's own (the image's settings and
/// the job role's credentials), minus anything Lambda-specific left over, plus
/// what Lambda sets, plus the function's variables (reserved names ignored).
/// A container-image function's container gets what Lambda sets, the
/// function's variables and the runner's credentials only: its image has its
/// own paths.
pub fn environment(
    spec: &FunctionSpec,
    layout: &Layout,
    entrypoint: &Entrypoint,
    api: SocketAddr,
) -> Result<Environment> {
    let mut env: BTreeMap<OsString, OsString> = std::env::vars_os()
        .filter(|(k, _)| {
            let k = k.to_string_lossy();
            !(k.starts_with("AWS_LAMBDA_")
                || k == "_HANDLER"
                || k == "_X_AMZN_TRACE_ID"
                || k == "LAMBDA_TASK_ROOT"
                || k == "LAMBDA_RUNTIME_DIR"
                || k == "AWS_EXECUTION_ENV")
        })
        .collect();
    if let Entrypoint::Container(_) = entrypoint {
        let mut passed: Vec<String> = env
            .keys()
            .filter_map(|k| k.to_str())
            .filter(|k| PASSED_TO_CONTAINERS.contains(k) || k.starts_with("AWS_ENDPOINT_URL_"))
            .map(str::to_string)
            .collect();
        for (k, v) in lambda_variables(spec, api)
            .into_iter()
            .chain(function_variables(spec))
        {
            passed.push(k.clone());
            env.insert(k.into(), v.into());
        }
        passed.sort();
        passed.dedup();
        return Ok(Environment {
            process: env.into_iter().collect(),
            passed,
        });
    }
    let mut set = |k: &str, v: OsString| {
        env.insert(OsString::from(k), v);
    };
    for (k, v) in lambda_variables(spec, api) {
        set(&k, v.into());
    }
    let opt = &layout.opt;
    set("_HANDLER", spec.handler.clone().into());
    set("LAMBDA_TASK_ROOT", layout.task_root.as_os_str().to_owned());
    set(
        "LAMBDA_RUNTIME_DIR",
        layout.runtime_dir.as_os_str().to_owned(),
    );
    set(
        "AWS_EXECUTION_ENV",
        format!("AWS_Lambda_{}", spec.runtime).into(),
    );
    // Lambda's search paths: the system's first, then the code, then the layers.
    let inherited = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let path = join_paths(
        split(inherited("PATH"))
            .into_iter()
            .chain([opt.join("bin")])
            .collect(),
    )?;
    set("PATH", path);
    let ld = join_paths(
        split(inherited("LD_LIBRARY_PATH"))
            .into_iter()
            .chain([
                layout.task_root.clone(),
                layout.task_root.join("lib"),
                opt.join("lib"),
            ])
            .collect(),
    )?;
    set("LD_LIBRARY_PATH", ld);
    match entrypoint {
        Entrypoint::Bootstrap(_) | Entrypoint::Container(_) => {}
        Entrypoint::Python { version, .. } => {
            let py = join_paths(
                [
                    layout.task_root.clone(),
                    opt.join("python"),
                    opt.join(format!("python/lib/python{version}/site-packages")),
                ]
                .into_iter()
                .chain(split(inherited("PYTHONPATH")))
                .collect(),
            )?;
            set("PYTHONPATH", py);
        }
        // Lambda's order: the layers' modules for this Node.js version, the
        // layers' modules, the runtime's, the runtime, the code. A function's own
        // NODE_PATH (set below) replaces it, as in Lambda.
        Entrypoint::Node { major, client, .. } => {
            let node_path = join_paths(
                [
                    opt.join(format!("nodejs/node{major}/node_modules")),
                    opt.join("nodejs/node_modules"),
                    client.modules.clone(),
                    client.dir.clone(),
                    layout.task_root.clone(),
                ]
                .into_iter()
                .chain(split(inherited("NODE_PATH")))
                .collect(),
            )?;
            set("NODE_PATH", node_path);
        }
    }
    for (k, v) in function_variables(spec) {
        env.insert(k.into(), v.into());
    }
    Ok(Environment {
        process: env.into_iter().collect(),
        passed: Vec::new(),
    })
}

/// What Lambda sets for every function, whatever its packaging.
fn lambda_variables(spec: &FunctionSpec, api: SocketAddr) -> Vec<(String, String)> {
    let mut vars = vec![
        ("AWS_LAMBDA_RUNTIME_API", api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", spec.version.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            spec.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_LOG_GROUP_NAME", spec.log_group.clone()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream_name(spec)),
        (
            "AWS_LAMBDA_INITIALIZATION_TYPE",
            spec.init_type.as_str().to_string(),
        ),
        ("AWS_REGION", spec.region.clone()),
        ("AWS_DEFAULT_REGION", spec.region.clone()),
        ("TZ", ":UTC".to_string()),
    ];
    if let Some(format) = &spec.log_format {
        vars.push(("AWS_LAMBDA_LOG_FORMAT", format.clone()));
    }
    if let Some(level) = &spec.log_level {
        vars.push(("AWS_LAMBDA_LOG_LEVEL", level.clone()));
    }
    vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The function's own variables, without the names Lambda reserves.
fn function_variables(spec: &FunctionSpec) -> Vec<(String, String)> {
    spec.environment
        .iter()
        .filter(|(k, _)| {
            let reserved = RESERVED.contains(&k.as_str());
            if reserved {
                tracing::warn!(variable = %k, "ignoring a reserved variable in the function's environment");
            }
            !reserved
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn split(v: Option<OsString>) -> Vec<PathBuf> {
    v.map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default()
}

fn join_paths(paths: Vec<PathBuf>) -> Result<OsString> {
    std::env::join_paths(paths).map_err(|e| {
        Error::Usage(format!(
            "a search path contains ':' and cannot be used: {e}"
        ))
    })
}

/// `2026/11/21/[$LATEST]0123…`, the form of Lambda's log stream names.
fn log_stream_name(spec: &FunctionSpec) -> String {
    let date = time::OffsetDateTime::now_utc().date();
    format!(
        "{:04}/{:02}/{:02}/[{}]{}",
        date.year(),
        u8::from(date.month()),
        date.day(),
        spec.version,
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entrypoint::{Container, NodeClient};
    use crate::spec::{Image, Runtime};

    fn env_of(
        spec: &FunctionSpec,
        layout: &Layout,
        entrypoint: &Entrypoint,
        api: SocketAddr,
    ) -> BTreeMap<String, String> {
        environment(spec, layout, entrypoint, api)
            .unwrap()
            .process
            .into_iter()
            .map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap()))
            .collect()
    }

    #[test]
    fn environment_is_lambdas() {
        let mut spec = FunctionSpec::local(
            "f",
            Runtime::parse("python3.12").unwrap(),
            "app.handler",
            "eu-west-1",
        );
        spec.environment
            .insert("AWS_ACCESS_KEY_ID".into(), "from-function".into());
        spec.environment.insert("MY_VAR".into(), "1".into());
        let layout = Layout {
            task_root: "/w/task".into(),
            opt: "/w/opt".into(),
            runtime_dir: "/w/runtime".into(),
        };
        let api: SocketAddr = "127.0.0.1:9001".parse().unwrap();
        let python = Entrypoint::Python {
            python: "python3".into(),
            version: "3.12".into(),
        };
        let env = env_of(&spec, &layout, &python, api);
        assert_eq!(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9001");
        assert_eq!(env["_HANDLER"], "app.handler");
        assert_eq!(env["LAMBDA_TASK_ROOT"], "/w/task");
        assert_eq!(env["AWS_REGION"], "eu-west-1");
        assert_eq!(env["MY_VAR"], "1");
        assert_ne!(
            env.get("AWS_ACCESS_KEY_ID").map(String::as_str),
            Some("from-function")
        );
        assert!(env["PYTHONPATH"]
            .starts_with("/w/task:/w/opt/python:/w/opt/python/lib/python3.12/site-packages"));
        assert!(env["LD_LIBRARY_PATH"].ends_with("/w/task:/w/task/lib:/w/opt/lib"));
        assert!(env["PATH"].ends_with(":/w/opt/bin"));
        assert!(env["AWS_LAMBDA_LOG_STREAM_NAME"].contains("/[$LATEST]"));
    }

    fn layout() -> Layout {
        Layout {
            task_root: "/w/task".into(),
            opt: "/w/opt".into(),
            runtime_dir: "/w/runtime".into(),
        }
    }

    #[test]
    fn an_image_gets_lambdas_variables_and_the_functions_only() {
        let image = Image {
            uri: "r/f:1".into(),
            ..Image::default()
        };
        let mut spec = FunctionSpec::local("f", Runtime::image(image.clone()), "", "eu-west-1");
        spec.environment.insert("MY_VAR".into(), "1".into());
        spec.environment
            .insert("AWS_SESSION_TOKEN".into(), "from-function".into());
        let entrypoint = Entrypoint::Container(Container {
            docker: "docker".into(),
            name: "c".into(),
            platform: "linux/amd64".into(),
            image,
            image_cmd: Vec::new(),
        });
        let api: SocketAddr = "127.0.0.1:9001".parse().unwrap();
        let env = environment(&spec, &layout(), &entrypoint, api).unwrap();
        for name in [
            "AWS_LAMBDA_RUNTIME_API",
            "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "AWS_REGION",
            "TZ",
            "MY_VAR",
        ] {
            assert!(
                env.passed.iter().any(|p| p == name),
                "{name} not passed: {:?}",
                env.passed
            );
        }
        for name in [
            "PATH",
            "LAMBDA_TASK_ROOT",
            "_HANDLER",
            "AWS_EXECUTION_ENV",
            "HOME",
        ] {
            assert!(!env.passed.iter().any(|p| p == name), "{name} passed");
        }
        let values: BTreeMap<String, String> = env
            .process
            .into_iter()
            .map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap()))
            .collect();
        assert_eq!(values["AWS_LAMBDA_INITIALIZATION_TYPE"], "on-demand");
        assert_ne!(
            values.get("AWS_SESSION_TOKEN").map(String::as_str),
            Some("from-function")
        );
    }

    #[test]
    fn node_path_is_lambdas_with_our_opt() {
        let spec = FunctionSpec::local(
            "f",
            Runtime::parse("nodejs22.x").unwrap(),
            "index.handler",
            "eu-west-1",
        );
        let node = Entrypoint::Node {
            node: "node".into(),
            major: 22,
            client: NodeClient {
                entry: "/var/runtime/index.mjs".into(),
                dir: "/var/runtime".into(),
                modules: "/var/runtime/node_modules".into(),
            },
        };
        let api: SocketAddr = "127.0.0.1:9001".parse().unwrap();
        let env = env_of(&spec, &layout(), &node, api);
        assert!(
            env["NODE_PATH"].starts_with(
                "/w/opt/nodejs/node22/node_modules:/w/opt/nodejs/node_modules:\
                 /var/runtime/node_modules:/var/runtime:/w/task"
            ),
            "{}",
            env["NODE_PATH"]
        );
        assert_eq!(env["AWS_EXECUTION_ENV"], "AWS_Lambda_nodejs22.x");
        assert!(!env.contains_key("PYTHONPATH"));
        // A function's own NODE_PATH wins, as in Lambda.
        let mut spec = spec;
        spec.environment.insert("NODE_PATH".into(), "/mine".into());
        assert_eq!(env_of(&spec, &layout(), &node, api)["NODE_PATH"], "/mine");
        let (program, args) = node.command_line(&spec, &layout(), &[]);
        assert_eq!(program, PathBuf::from("node"));
        assert_eq!(
            args,
            [
                "--expose-gc",
                "--max-http-header-size=81920",
                "--require",
                "/w/runtime/preload.cjs",
                "/var/runtime/index.mjs",
                "index.handler"
            ]
            .map(OsString::from)
        );
    }
}
