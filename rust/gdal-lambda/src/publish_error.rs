//! Why publishing cannot start (a destination half configured) or a
//! message did not go out.

/// A publishing configuration the function cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// A destination's setting is missing or malformed.
    #[error("{0}")]
    Invalid(String),
}

/// Why an Item's message did not go out: worth a retry (a topic or queue
/// missing, a policy, a key, throttling) unless the message cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// SNS refused or failed.
    #[error("cannot publish the Item to {topic}: {message}")]
    Sns {
        /// The topic.
        topic: String,
        /// What SNS said.
        message: String,
    },
    /// SQS refused or failed.
    #[error("cannot send the Cirrus payload to {queue}: {message}")]
    Sqs {
        /// The queue.
        queue: String,
        /// What SQS said.
        message: String,
    },
    /// A payload too large for SQS could not be put in S3.
    #[error("cannot put the Cirrus payload at {url}: {message}")]
    Payload {
        /// Where it was to go.
        url: String,
        /// What S3 said.
        message: String,
    },
    /// The message cannot be made (an Item too large even as a reference).
    #[error("{0}")]
    Message(String),
}

impl PublishError {
    /// Whether sending again may succeed: not for a message that cannot be made.
    pub fn is_transient(&self) -> bool {
        !matches!(self, PublishError::Message(_))
    }
}
