//! The PostgreSQL backend (feature `postgres`, on by default): several machines share one
//! study through it.

use std::error::Error as StdError;
use std::time::Duration;

use postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::backend::{Backend, Dialect, Row, Sql, redact};
use crate::error::{Result, TuneError};

/// A PostgreSQL connection (no TLS: the store is reached on a trusted network or loopback).
pub struct Postgres {
    client: postgres::Client,
    url: String,
}

impl Postgres {
    pub fn open(url: &str) -> Result<Self> {
        let shown = redact(url);
        let mut cfg: postgres::Config = url.parse().map_err(|e: postgres::Error| TuneError::Store {
            url: shown.clone(),
            msg: format!("not a PostgreSQL URL ({e})"),
        })?;
        cfg.connect_timeout(Duration::from_secs(10));
        let client = cfg.connect(postgres::NoTls).map_err(|e| TuneError::Store {
            url: shown.clone(),
            msg: format!(
                "cannot connect ({}); check that the server runs and the URL's host, port, user and database",
                one_line(&e)
            ),
        })?;
        Ok(Postgres { client, url: shown })
    }

    fn err(&self, e: postgres::Error) -> TuneError {
        TuneError::Store {
            url: self.url.clone(),
            msg: one_line(&e),
        }
    }
}

fn one_line(e: &postgres::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s.replace('\n', " ")
}

/// `?` placeholders to `$1, $2, ...` (no statement here has a `?` inside a string literal).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

impl ToSql for Sql {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Sql::Null => Ok(IsNull::Yes),
            Sql::Int(i) if *ty == Type::INT4 => (*i as i32).to_sql(ty, out),
            Sql::Int(i) if *ty == Type::FLOAT8 => (*i as f64).to_sql(ty, out),
            Sql::Int(i) => i.to_sql(ty, out),
            Sql::Real(f) => f.to_sql(ty, out),
            Sql::Text(s) => s.to_sql(ty, out),
        }
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

impl Backend for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn exec(&mut self, sql: &str, args: &[Sql]) -> Result<u64> {
        let refs: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        let sql = numbered(sql);
        self.client.execute(sql.as_str(), &refs).map_err(|e| self.err(e))
    }

    fn query(&mut self, sql: &str, args: &[Sql]) -> Result<Vec<Row>> {
        let refs: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        let sql = numbered(sql);
        let rows = self.client.query(sql.as_str(), &refs).map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut row = Vec::with_capacity(r.len());
            for (i, c) in r.columns().iter().enumerate() {
                let t = c.type_();
                let v = if *t == Type::INT8 {
                    r.try_get::<_, Option<i64>>(i).map(|v| v.map(Sql::Int))
                } else if *t == Type::INT4 {
                    r.try_get::<_, Option<i32>>(i)
                        .map(|v| v.map(|x| Sql::Int(x as i64)))
                } else if *t == Type::FLOAT8 {
                    r.try_get::<_, Option<f64>>(i).map(|v| v.map(Sql::Real))
                } else {
                    r.try_get::<_, Option<String>>(i).map(|v| v.map(Sql::Text))
                };
                row.push(v.map_err(|e| self.err(e))?.unwrap_or(Sql::Null));
            }
            out.push(row);
        }
        Ok(out)
    }

    fn begin(&mut self) -> Result<()> {
        self.client.batch_execute("BEGIN").map_err(|e| self.err(e))
    }
    fn commit(&mut self) -> Result<()> {
        self.client.batch_execute("COMMIT").map_err(|e| self.err(e))
    }
    fn rollback(&mut self) -> Result<()> {
        self.client.batch_execute("ROLLBACK").map_err(|e| self.err(e))
    }
    fn relax_durability(&mut self) -> Result<()> {
        self.client
            .batch_execute("SET LOCAL synchronous_commit TO OFF")
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(numbered("a = ? AND b < ? - ?"), "a = $1 AND b < $2 - $3");
    }
}
