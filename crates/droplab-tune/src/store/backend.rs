//! The two databases behind one small interface: statements with `?` placeholders, values of
//! four kinds, rows as vectors. The store's logic is written once over it.

use std::time::Duration;

use crate::error::{Result, TuneError};

/// A value bound to or read from a statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Sql {
    /// SQL `NULL`; a non-finite real is bound as this.
    Null,
    /// An integer.
    Int(i64),
    /// A finite real.
    Real(f64),
    /// A string.
    Text(String),
}

impl Sql {
    /// The value as an integer (a real is truncated); `None` for null and text.
    pub fn int(&self) -> Option<i64> {
        match self {
            Sql::Int(i) => Some(*i),
            Sql::Real(f) => Some(*f as i64),
            _ => None,
        }
    }
    /// The value as a real; `None` for null and text.
    pub fn real(&self) -> Option<f64> {
        match self {
            Sql::Int(i) => Some(*i as f64),
            Sql::Real(f) => Some(*f),
            _ => None,
        }
    }
    /// The value as a string; `None` for anything but text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Sql::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl From<i64> for Sql {
    fn from(v: i64) -> Self {
        Sql::Int(v)
    }
}
impl From<f64> for Sql {
    fn from(v: f64) -> Self {
        if v.is_finite() { Sql::Real(v) } else { Sql::Null }
    }
}
impl From<&str> for Sql {
    fn from(v: &str) -> Self {
        Sql::Text(v.to_string())
    }
}
impl From<String> for Sql {
    fn from(v: String) -> Self {
        Sql::Text(v)
    }
}
impl<T: Into<Sql>> From<Option<T>> for Sql {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Sql::Null)
    }
}

/// A result row.
pub type Row = Vec<Sql>;

/// Which SQL dialect a backend speaks (for the few statements that differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Dialect {
    /// The database's clock, in seconds since 1970: heartbeats from workers on several
    /// machines are compared on one clock.
    pub fn now(self) -> &'static str {
        match self {
            Dialect::Sqlite => "((julianday('now') - 2440587.5) * 86400.0)",
            Dialect::Postgres => "(extract(epoch from clock_timestamp())::float8)",
        }
    }
    /// The suffix that lets concurrent claimers pass rows another transaction has locked.
    pub fn skip_locked(self) -> &'static str {
        match self {
            // SQLite serialises writers with BEGIN IMMEDIATE instead.
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
    /// An auto-numbered primary key column.
    pub fn id_column(self) -> &'static str {
        match self {
            Dialect::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
            Dialect::Postgres => "id BIGSERIAL PRIMARY KEY",
        }
    }
}

/// A connection.
pub trait Backend: Send {
    /// The SQL dialect this connection speaks.
    fn dialect(&self) -> Dialect;
    /// Runs one statement; returns the rows it changed.
    fn exec(&mut self, sql: &str, args: &[Sql]) -> Result<u64>;
    /// Runs one query.
    fn query(&mut self, sql: &str, args: &[Sql]) -> Result<Vec<Row>>;
    /// Opens a write transaction (SQLite: `BEGIN IMMEDIATE`, taking the write lock at once).
    fn begin(&mut self) -> Result<()>;
    /// Commits the open transaction.
    fn commit(&mut self) -> Result<()>;
    /// Discards the open transaction.
    fn rollback(&mut self) -> Result<()>;
    /// Inside a transaction: let its commit return before the log reaches the disk. A
    /// database crash may then forget the transaction (never corrupt anything); used for
    /// claims, heartbeats and fold reports, which a worker redoes if forgotten, and never for
    /// the end of a trial. SQLite in WAL mode with `synchronous = NORMAL` already commits so.
    fn relax_durability(&mut self) -> Result<()> {
        Ok(())
    }
}

// ---- SQLite -----------------------------------------------------------------------------

/// An SQLite file in WAL mode, shared by the processes of one machine.
pub struct Sqlite {
    conn: rusqlite::Connection,
    url: String,
}

impl Sqlite {
    pub fn open(path: &str, url: &str) -> Result<Self> {
        let err = |e: rusqlite::Error| TuneError::Store {
            url: url.to_string(),
            msg: e.to_string(),
        };
        let conn = rusqlite::Connection::open(path).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(60)).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(err)?;
        Ok(Sqlite {
            conn,
            url: url.to_string(),
        })
    }

    fn err(&self, e: rusqlite::Error) -> TuneError {
        TuneError::Store {
            url: self.url.clone(),
            msg: e.to_string(),
        }
    }
}

fn to_sqlite(v: &Sql) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        Sql::Null => V::Null,
        Sql::Int(i) => V::Integer(*i),
        Sql::Real(f) => V::Real(*f),
        Sql::Text(s) => V::Text(s.clone()),
    }
}

impl Backend for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn exec(&mut self, sql: &str, args: &[Sql]) -> Result<u64> {
        let n = self
            .conn
            .execute(sql, rusqlite::params_from_iter(args.iter().map(to_sqlite)))
            .map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, args: &[Sql]) -> Result<Vec<Row>> {
        use rusqlite::types::ValueRef;
        let run = |conn: &rusqlite::Connection| -> rusqlite::Result<Vec<Row>> {
            let mut st = conn.prepare_cached(sql)?;
            let cols = st.column_count();
            let mut rows = st.query(rusqlite::params_from_iter(args.iter().map(to_sqlite)))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let mut row = Vec::with_capacity(cols);
                for i in 0..cols {
                    row.push(match r.get_ref(i)? {
                        ValueRef::Null => Sql::Null,
                        ValueRef::Integer(v) => Sql::Int(v),
                        ValueRef::Real(v) => Sql::Real(v),
                        ValueRef::Text(t) => Sql::Text(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(b) => Sql::Text(String::from_utf8_lossy(b).into_owned()),
                    });
                }
                out.push(row);
            }
            Ok(out)
        };
        run(&self.conn).map_err(|e| self.err(e))
    }

    fn begin(&mut self) -> Result<()> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))
    }
    fn commit(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT").map_err(|e| self.err(e))
    }
    fn rollback(&mut self) -> Result<()> {
        self.conn.execute_batch("ROLLBACK").map_err(|e| self.err(e))
    }
}

/// The URL without its password.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://tune:secret@127.0.0.1:5432/db"),
            "postgres://tune:***@127.0.0.1:5432/db"
        );
        assert_eq!(redact("postgres://127.0.0.1/db"), "postgres://127.0.0.1/db");
    }
}
