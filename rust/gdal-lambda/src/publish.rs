//! Telling consumers that an Item exists, once it is written: an SNS topic
//! in the form stac-server's ingest reads ([`crate::publish_sns`]) and a
//! Cirrus process queue ([`crate::publish_cirrus`]). Both are optional and
//! off unless configured.
//!
//! A message goes out only after its Item was written, so no consumer is
//! told of an Item that does not exist. A publish that fails is transient
//! (the record is retried), unless the message cannot be made at all. The Item then stays without the mark
//! [`PUBLISHED`], which a backfill's re-run checks ([`crate::unchanged`]):
//! an Item whose message never left is processed again, never skipped as
//! current. The mark names the destinations, so a re-run after a
//! destination is added publishes the Items written before it.

use serde_json::Value;
use stratus_aws::S3Url;
use tokio::sync::OnceCell;

pub use crate::publish_cirrus::Source;
use crate::publish_cirrus::{self, hex16, CirrusQueue};
pub use crate::publish_error::{DestinationError, PublishError};
use crate::publish_sns::{self, ItemTopic};

/// The Item's S3 metadata naming the destinations it was published to.
pub const PUBLISHED: &str = "stratus-published";

/// Where Items are published, read once from the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Destinations {
    /// The SNS topic (`ITEM_TOPIC_ARN`).
    pub topic: Option<ItemTopic>,
    /// The Cirrus process queue (`CIRRUS_PROCESS_QUEUE_URL` and its options).
    pub cirrus: Option<CirrusQueue>,
}

impl Destinations {
    /// Read the destinations through `get` (the environment in production).
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Destinations, DestinationError> {
        let set = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let topic = set("ITEM_TOPIC_ARN").map(|topic_arn| ItemTopic { topic_arn });
        let cirrus = CirrusQueue::from_lookup(&set)?;
        Ok(Destinations { topic, cirrus })
    }

    /// Whether any destination is configured.
    pub fn any(&self) -> bool {
        self.topic.is_some() || self.cirrus.is_some()
    }

    /// The value of [`PUBLISHED`] on an Item published to these
    /// destinations: a digest of them, `None` when there are none.
    pub fn mark(&self) -> Option<String> {
        if !self.any() {
            return None;
        }
        let mut text = String::new();
        if let Some(t) = &self.topic {
            text.push_str(&format!("sns {}\n", t.topic_arn));
        }
        if let Some(c) = &self.cirrus {
            text.push_str(&format!("cirrus {} {}\n", c.queue_url, c.workflow));
        }
        Some(hex16(text.as_bytes()))
    }
}

struct Clients {
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
}

/// Sends Items to the configured destinations; its clients are made on
/// first use, from the environment as the function's S3 client is.
pub struct Publisher {
    destinations: Destinations,
    clients: OnceCell<Clients>,
}

impl Publisher {
    /// A publisher to `destinations` (none: it does nothing).
    pub fn new(destinations: Destinations) -> Publisher {
        Publisher {
            destinations,
            clients: OnceCell::new(),
        }
    }

    /// The [`PUBLISHED`] metadata an Item gets once published, `None` when
    /// nothing is configured.
    pub fn mark(&self) -> Option<(&'static str, String)> {
        self.destinations.mark().map(|m| (PUBLISHED, m))
    }

    async fn clients(&self) -> &Clients {
        self.clients
            .get_or_init(|| async {
                let sdk = stratus_aws::config::sdk_config_with_timeouts().await;
                Clients {
                    sns: aws_sdk_sns::Client::new(&sdk),
                    sqs: aws_sdk_sqs::Client::new(&sdk),
                }
            })
            .await
    }

    /// Send `item`, written at `item_url`, to every destination; the first
    /// failure ends it (a retry sends again to all: consumers take a
    /// repeated message as the same one).
    pub async fn publish(
        &self,
        s3: &aws_sdk_s3::Client,
        item: &Value,
        item_url: &S3Url,
        source: &Source<'_>,
    ) -> Result<(), PublishError> {
        if !self.destinations.any() {
            return Ok(());
        }
        let clients = self.clients().await;
        if let Some(topic) = &self.destinations.topic {
            publish_sns::publish(&clients.sns, topic, item, item_url).await?;
        }
        if let Some(queue) = &self.destinations.cirrus {
            publish_cirrus::send(&clients.sqs, s3, queue, item, source).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destinations(vars: &[(&str, &str)]) -> Result<Destinations, DestinationError> {
        Destinations::from_lookup(&|k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn off_unless_configured() {
        let none = destinations(&[("ITEM_TOPIC_ARN", " ")]).unwrap();
        assert!(!none.any());
        assert_eq!(none.mark(), None);
        let topic = destinations(&[("ITEM_TOPIC_ARN", "arn:aws:sns:us-east-1:1:t")]).unwrap();
        let both = destinations(&[
            ("ITEM_TOPIC_ARN", "arn:aws:sns:us-east-1:1:t"),
            ("CIRRUS_PROCESS_QUEUE_URL", "https://sqs/q"),
            ("CIRRUS_WORKFLOW", "wf"),
        ])
        .unwrap();
        assert!(topic.any() && both.any());
        // Adding a destination changes the mark: Items published before are published again.
        assert_ne!(topic.mark(), both.mark());
        assert_eq!(topic.mark().unwrap().len(), 16);
    }
}
