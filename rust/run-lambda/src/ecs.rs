//! The function's container in a Batch multi-container job (`serve`), seen
//! through ECS's task metadata endpoint (version 4, whose URL ECS gives every
//! container in `ECS_CONTAINER_METADATA_URI_V4`, on EC2 and on Fargate alike).
//! `GET ${ECS_CONTAINER_METADATA_URI_V4}/task` lists the task's containers
//! with their `KnownStatus` and, once stopped, their `ExitCode`: that is how
//! the runner learns that the function's runtime exited without answering
//! (the container is not essential, so ECS keeps the task running), and which
//! image the job really runs.

use std::time::Duration;

use serde::Deserialize;

/// The variable ECS sets to the task metadata endpoint of the container.
const METADATA_URI: &str = "ECS_CONTAINER_METADATA_URI_V4";

/// How often the task's containers are looked at.
const POLL: Duration = Duration::from_millis(500);

/// The part of the task metadata read here.
#[derive(Debug, Deserialize)]
struct TaskMetadata {
    #[serde(rename = "Containers", default)]
    containers: Vec<ContainerMetadata>,
}

#[derive(Debug, Deserialize)]
struct ContainerMetadata {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Image", default)]
    image: Option<String>,
    #[serde(rename = "KnownStatus", default)]
    known_status: Option<String>,
    #[serde(rename = "ExitCode", default)]
    exit_code: Option<i64>,
}

/// The runtime's container of this task, watched.
pub struct Watch {
    task_url: Option<String>,
    container: String,
    client: reqwest::Client,
}

impl Watch {
    /// Watch the task's container named `container` (the job definition's
    /// name for the function's container), when ECS's metadata endpoint is there.
    pub fn from_env(container: &str) -> Watch {
        let task_url = std::env::var(METADATA_URI)
            .ok()
            .filter(|u| !u.is_empty())
            .map(|u| format!("{}/task", u.trim_end_matches('/')));
        if task_url.is_none() {
            tracing::warn!(
                "{METADATA_URI} is not set (not an ECS task): a runtime that exits without \
                 answering is noticed only by --timeout or the job's own timeout"
            );
        }
        Watch {
            task_url,
            container: container.to_string(),
            client: reqwest::Client::new(),
        }
    }

    async fn container(&self) -> Option<ContainerMetadata> {
        let url = self.task_url.as_ref()?;
        let resp = self
            .client
            .get(url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        let task: TaskMetadata = serde_json::from_slice(&resp.bytes().await.ok()?).ok()?;
        task.containers
            .into_iter()
            .find(|c| c.name == self.container)
    }

    /// The image the runtime's container runs, as the task's definition names it.
    pub async fn image(&self) -> Option<String> {
        self.container().await.and_then(|c| c.image)
    }

    /// Wait until the runtime's container has stopped: how it ended
    /// (`exit status 1`). Waits forever without the metadata endpoint or the
    /// container.
    pub async fn stopped(&mut self) -> String {
        if self.task_url.is_none() {
            return std::future::pending().await;
        }
        let mut missing_said = false;
        loop {
            match self.container().await {
                Some(c) if c.known_status.as_deref() == Some("STOPPED") => {
                    return match c.exit_code {
                        Some(code) => format!("exit status {code}"),
                        None => "the container stopped".to_string(),
                    };
                }
                Some(_) => {}
                None if !missing_said => {
                    tracing::warn!(
                        container = %self.container,
                        "the task metadata lists no such container (yet): is --runtime-container \
                         the job definition's name for the function's container?"
                    );
                    missing_said = true;
                }
                None => {}
            }
            tokio::time::sleep(POLL).await;
        }
    }
}
