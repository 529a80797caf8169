//! The tuner's errors: one variant per kind of failure, each message one line naming what is
//! wrong and, where there is one, the fix.

/// A failure of the tuner.
#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    /// An unparsable or inconsistent search space.
    #[error("--space {0}")]
    Space(String),
    /// A bad study option (sampler, folds, trials, ...).
    #[error("{0}")]
    Config(String),
    /// The trial store could not be reached, or refused an operation.
    #[error("store {url}: {msg}")]
    Store {
        /// The store's address.
        url: String,
        /// What went wrong.
        msg: String,
    },
    /// A store address the caller can fix: not a store URL, a directory that does not
    /// exist, a study that is not there.
    #[error("store {url}: {msg}")]
    StoreAddress {
        /// The store's address.
        url: String,
        /// What is wrong, and the fix.
        msg: String,
    },
    /// A study of this name exists with other settings.
    #[error("{0}")]
    Conflict(String),
    /// A sampler failed.
    #[error("sampler {sampler}: {msg}")]
    Sampler {
        /// The sampler's name.
        sampler: String,
        /// What went wrong.
        msg: String,
    },
    /// A trial's training failed.
    #[error("{0}")]
    Trial(String),
    /// An I/O failure on a named file.
    #[error("{path}: {msg}")]
    Io {
        /// The file's path.
        path: String,
        /// What went wrong.
        msg: String,
    },
}

/// Result of the tuner.
pub type Result<T> = std::result::Result<T, TuneError>;
