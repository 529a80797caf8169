//! The error of an experiment: a one-line message, classified by whose fault it is, so that a
//! front end (the `droplab` command, the Python package) can map it to an exit code or an
//! exception class.

/// A failure, classified for its exit code.
#[derive(Debug)]
pub enum Error {
    /// Bad usage, config or data: the caller can fix it (the command exits 2).
    Usage(String),
    /// A failure at run time, such as divergence (the command exits 1).
    Runtime(String),
}

impl Error {
    /// Bad usage, config or data.
    pub fn usage(msg: impl std::fmt::Display) -> Self {
        Error::Usage(droplab::error::one_line(msg.to_string()))
    }

    /// A failure at run time.
    pub fn runtime(msg: impl std::fmt::Display) -> Self {
        Error::Runtime(droplab::error::one_line(msg.to_string()))
    }

    /// The message.
    pub fn message(&self) -> &str {
        match self {
            Error::Usage(m) | Error::Runtime(m) => m,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

impl From<droplab::Error> for Error {
    fn from(e: droplab::Error) -> Self {
        match e {
            droplab::Error::Diverged { .. } => Error::Runtime(e.to_string()),
            _ => Error::Usage(e.to_string()),
        }
    }
}

/// Result of an experiment step.
pub type Result<T = ()> = std::result::Result<T, Error>;

/// Adds context to I/O failures: `path: what happened`.
pub fn io_err(path: &std::path::Path, e: impl std::fmt::Display) -> Error {
    Error::usage(format!("{}: {e}", path.display()))
}
