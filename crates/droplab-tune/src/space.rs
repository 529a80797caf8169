//! Search spaces: a list of config fields, each named by its dotted path, with the values it may
//! take.
//!
//! The syntax, on the command line (`--space PATH=DIST`) and in a study file's `[tune.space]`
//! table (`"PATH" = "DIST"`, or a TOML array for a fixed list):
//!
//! | DIST | values |
//! |---|---|
//! | `uniform(A,B)` | reals in [A, B] |
//! | `loguniform(A,B)` | reals in [A, B], uniform in log (A > 0) |
//! | `int(A,B)` | integers A..=B |
//! | `choice(V1,V2,...)` | categories (numbers, `true`/`false`, or strings), unordered |
//! | `[V1,V2,...]` | a fixed list of numbers, ordered |

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Result, TuneError};

/// One trial's values: dotted path to value, in path order.
pub type Params = serde_json::Map<String, Value>;

/// The values one field may take.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Dist {
    /// Reals in `[low, high]`.
    Uniform {
        /// The lower bound.
        low: f64,
        /// The upper bound.
        high: f64,
    },
    /// Reals in `[low, high]`, uniform in log.
    LogUniform {
        /// The lower bound; above zero.
        low: f64,
        /// The upper bound.
        high: f64,
    },
    /// Integers `low..=high`.
    Int {
        /// The smallest value.
        low: i64,
        /// The largest value.
        high: i64,
    },
    /// Unordered categories.
    Choice {
        /// The categories.
        values: Vec<Value>,
    },
    /// An ordered list of numbers.
    List {
        /// The numbers, in order.
        values: Vec<f64>,
    },
}

/// One searched field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// Dotted path of the config field (`model.dropout.hidden`).
    pub path: String,
    /// Its values.
    pub dist: Dist,
}

/// The searched fields of a study.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Space {
    /// The searched fields, in the order given; each path at most once.
    pub params: Vec<Param>,
}

fn parse_err(spec: &str, reason: impl std::fmt::Display) -> TuneError {
    TuneError::Space(format!(
        "'{spec}': {reason} (expected PATH=uniform(A,B), loguniform(A,B), int(A,B), choice(V1,V2,...) or [V1,V2,...])"
    ))
}

/// A literal of a `choice(...)`: a number, `true`/`false`, or a (possibly quoted) string.
fn literal(s: &str) -> Value {
    let s = s.trim();
    if let Ok(i) = s.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(f) = s.parse::<f64>() {
        return Value::from(f);
    }
    match s {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(s.trim_matches(|c| c == '"' || c == '\'').to_string()),
    }
}

impl Dist {
    /// Parses `uniform(0.1,0.7)`, `[0.1,0.3]`, ... (`spec` names the whole entry in errors).
    pub fn parse(spec: &str, text: &str) -> Result<Dist> {
        let t = text.trim();
        let numbers = |inner: &str| -> Result<Vec<f64>> {
            inner
                .split(',')
                .map(|v| {
                    v.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| parse_err(spec, format!("'{}' is not a number", v.trim())))
                })
                .collect()
        };
        if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            let values = numbers(inner)?;
            return Dist::List { values }.checked(spec);
        }
        let (name, inner) = t
            .strip_suffix(')')
            .and_then(|r| r.split_once('('))
            .ok_or_else(|| parse_err(spec, format!("'{t}' is not a distribution")))?;
        let two = |inner: &str| -> Result<(f64, f64)> {
            match numbers(inner)?.as_slice() {
                [a, b] => Ok((*a, *b)),
                _ => Err(parse_err(spec, format!("{name} takes two bounds"))),
            }
        };
        let dist = match name.trim() {
            "uniform" => {
                let (low, high) = two(inner)?;
                Dist::Uniform { low, high }
            }
            "loguniform" | "log_uniform" => {
                let (low, high) = two(inner)?;
                Dist::LogUniform { low, high }
            }
            "int" => {
                let (low, high) = two(inner)?;
                if low.fract() != 0.0 || high.fract() != 0.0 {
                    return Err(parse_err(spec, "int bounds must be integers"));
                }
                Dist::Int {
                    low: low as i64,
                    high: high as i64,
                }
            }
            "choice" => Dist::Choice {
                values: inner.split(',').map(literal).collect(),
            },
            "list" => Dist::List {
                values: numbers(inner)?,
            },
            other => return Err(parse_err(spec, format!("unknown distribution '{other}'"))),
        };
        dist.checked(spec)
    }

    fn checked(self, spec: &str) -> Result<Dist> {
        match &self {
            Dist::Uniform { low, high } if low.partial_cmp(high) != Some(std::cmp::Ordering::Less) => {
                Err(parse_err(spec, "the lower bound must be below the upper"))
            }
            Dist::LogUniform { low, high } if !(*low > 0.0 && low < high) => {
                Err(parse_err(spec, "loguniform needs 0 < lower bound < upper bound"))
            }
            Dist::Int { low, high } if low > high => {
                Err(parse_err(spec, "the lower bound must not exceed the upper"))
            }
            Dist::Choice { values } if values.is_empty() => Err(parse_err(spec, "no values")),
            Dist::List { values } if values.is_empty() => Err(parse_err(spec, "no values")),
            _ => Ok(self),
        }
    }

    /// The grid values: every value of a list, choice or small integer range; `points` evenly
    /// spaced values of a real range (in log for `loguniform`).
    pub fn grid(&self, points: usize) -> Vec<Value> {
        let points = points.max(2);
        let spaced = |a: f64, b: f64| -> Vec<f64> {
            (0..points)
                .map(|i| a + (b - a) * i as f64 / (points - 1) as f64)
                .collect()
        };
        match self {
            Dist::Uniform { low, high } => spaced(*low, *high).into_iter().map(Value::from).collect(),
            Dist::LogUniform { low, high } => spaced(low.ln(), high.ln())
                .into_iter()
                .map(|v| Value::from(round_sig(v.exp())))
                .collect(),
            Dist::Int { low, high } => {
                let span = (high - low) as usize + 1;
                let mut v: Vec<i64> = if span <= points {
                    (*low..=*high).collect()
                } else {
                    spaced(*low as f64, *high as f64)
                        .into_iter()
                        .map(|x| x.round() as i64)
                        .collect()
                };
                v.dedup();
                v.into_iter().map(Value::from).collect()
            }
            Dist::Choice { values } => values.clone(),
            Dist::List { values } => values.iter().map(|v| Value::from(*v)).collect(),
        }
    }

    /// A value from a uniform number `u` in [0, 1) (and a second one for nothing else: one draw
    /// per parameter keeps streams aligned when a space grows).
    pub fn from_unit(&self, u: f64) -> Value {
        let u = u.clamp(0.0, 1.0 - 1e-12);
        match self {
            Dist::Uniform { low, high } => Value::from(low + (high - low) * u),
            Dist::LogUniform { low, high } => Value::from((low.ln() + (high.ln() - low.ln()) * u).exp()),
            Dist::Int { low, high } => {
                let span = (high - low + 1) as f64;
                Value::from(low + (u * span).floor() as i64)
            }
            Dist::Choice { values } => values[(u * values.len() as f64) as usize].clone(),
            Dist::List { values } => Value::from(values[(u * values.len() as f64) as usize]),
        }
    }

    /// The position of a value in this dimension, in the coordinates the Bayesian samplers
    /// model: the value for reals and integers, its log for `loguniform`, its index for
    /// choices and lists. `None` if the value is not one of this dimension's.
    pub fn coordinate(&self, v: &Value) -> Option<f64> {
        match self {
            Dist::Uniform { .. } | Dist::Int { .. } => v.as_f64(),
            Dist::LogUniform { .. } => v.as_f64().filter(|x| *x > 0.0).map(f64::ln),
            Dist::Choice { values } => values.iter().position(|c| c == v).map(|i| i as f64),
            Dist::List { values } => {
                let x = v.as_f64()?;
                values
                    .iter()
                    .position(|c| (c - x).abs() <= 1e-12 * c.abs().max(1.0))
                    .map(|i| i as f64)
            }
        }
    }

    /// The value at a coordinate (the inverse of [`Dist::coordinate`], clamped and rounded to
    /// the dimension's values).
    pub fn from_coordinate(&self, x: f64) -> Value {
        let index = |n: usize| (x.round().max(0.0) as usize).min(n - 1);
        match self {
            Dist::Uniform { low, high } => Value::from(x.clamp(*low, *high)),
            Dist::LogUniform { low, high } => Value::from(x.exp().clamp(*low, *high)),
            Dist::Int { low, high } => Value::from((x.round() as i64).clamp(*low, *high)),
            Dist::Choice { values } => values[index(values.len())].clone(),
            Dist::List { values } => Value::from(values[index(values.len())]),
        }
    }

    /// Whether the dimension is ordered (a real or integer scale) or categorical.
    pub fn is_categorical(&self) -> bool {
        matches!(self, Dist::Choice { .. })
    }

    /// The text form, as parsed.
    pub fn describe(&self) -> String {
        let list = |v: &[String]| v.join(",");
        match self {
            Dist::Uniform { low, high } => format!("uniform({low},{high})"),
            Dist::LogUniform { low, high } => format!("loguniform({low},{high})"),
            Dist::Int { low, high } => format!("int({low},{high})"),
            Dist::Choice { values } => format!(
                "choice({})",
                list(&values.iter().map(|v| v.to_string()).collect::<Vec<_>>())
            ),
            Dist::List { values } => format!(
                "[{}]",
                list(&values.iter().map(|v| v.to_string()).collect::<Vec<_>>())
            ),
        }
    }
}

/// Rounds to 6 significant digits (grid values of a log range print cleanly).
fn round_sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(5 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

impl Param {
    /// Parses `PATH=DIST`.
    pub fn parse(spec: &str) -> Result<Param> {
        let (path, dist) = spec
            .split_once('=')
            .ok_or_else(|| parse_err(spec, "no '=' between the path and the distribution"))?;
        let path = path.trim();
        if path.is_empty()
            || path.split('.').any(|p| p.is_empty())
            || !path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            return Err(parse_err(spec, format!("'{path}' is not a dotted field path")));
        }
        Ok(Param {
            path: path.to_string(),
            dist: Dist::parse(spec, dist)?,
        })
    }
}

impl Space {
    /// Parses `--space` entries.
    pub fn parse(specs: &[String]) -> Result<Space> {
        let mut space = Space::default();
        for s in specs {
            space.push(Param::parse(s)?)?;
        }
        Ok(space)
    }

    /// Parses a `[tune.space]` table: `"PATH" = "DIST"` or `"PATH" = [numbers]`.
    pub fn from_toml(table: &toml::Table) -> Result<Space> {
        let mut space = Space::default();
        for (path, v) in table {
            let text = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Array(a) => format!(
                    "[{}]",
                    a.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",")
                ),
                other => {
                    return Err(TuneError::Space(format!(
                        "tune.space.{path}: {other} is not a distribution (a string such as \"uniform(0.1,0.7)\" or a list of numbers)"
                    )));
                }
            };
            space.push(Param::parse(&format!("{path}={text}"))?)?;
        }
        Ok(space)
    }

    /// Adds a parameter; a path may appear once.
    pub fn push(&mut self, p: Param) -> Result<()> {
        if self.params.iter().any(|q| q.path == p.path) {
            return Err(TuneError::Space(format!(
                "'{}' is searched twice (give each field one distribution)",
                p.path
            )));
        }
        self.params.push(p);
        Ok(())
    }

    /// The full grid in row-major order (the last parameter varies fastest).
    pub fn grid(&self, points: usize) -> Vec<Params> {
        let axes: Vec<Vec<Value>> = self.params.iter().map(|p| p.dist.grid(points)).collect();
        let total: usize = axes.iter().map(Vec::len).product();
        (0..total)
            .map(|mut i| {
                let mut values = vec![Value::Null; axes.len()];
                for (d, axis) in axes.iter().enumerate().rev() {
                    values[d] = axis[i % axis.len()].clone();
                    i /= axis.len();
                }
                self.params
                    .iter()
                    .zip(values)
                    .map(|(p, v)| (p.path.clone(), v))
                    .collect()
            })
            .collect()
    }

    /// The value of each parameter from uniform numbers in [0, 1).
    pub fn from_units(&self, units: &[f64]) -> Params {
        self.params
            .iter()
            .zip(units)
            .map(|(p, u)| (p.path.clone(), p.dist.from_unit(*u)))
            .collect()
    }
}

/// Sets `value` at the dotted `path` of a TOML table, creating tables on the way. A value set
/// on a field that holds a list becomes a one-element list (`model.dropout.hidden = 0.5`
/// means one rate for every hidden layer).
pub fn set_path(table: &mut toml::Table, path: &str, value: &Value) -> Result<()> {
    let tv =
        json_to_toml(value).ok_or_else(|| TuneError::Space(format!("'{path}': {value} has no TOML form")))?;
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().expect("split yields one part");
    let mut t = table;
    for p in parts {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| TuneError::Space(format!("'{path}': '{p}' is a value, not a table of fields")))?;
    }
    let wrapped = match (t.get(last), &tv) {
        (Some(toml::Value::Array(_)), v) if !v.is_array() => toml::Value::Array(vec![tv]),
        _ => tv,
    };
    t.insert(last.to_string(), wrapped);
    Ok(())
}

/// A JSON value as TOML (`None` for null).
pub fn json_to_toml(v: &Value) -> Option<toml::Value> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(a) => toml::Value::Array(a.iter().map(json_to_toml).collect::<Option<_>>()?),
        Value::Object(o) => toml::Value::Table(
            o.iter()
                .map(|(k, v)| Some((k.clone(), json_to_toml(v)?)))
                .collect::<Option<_>>()?,
        ),
    })
}

/// A short text of a value for tables (`0.35`, `1e-4`, `relu`).
pub fn show(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.as_i64().is_none() => {
                if f != 0.0 && (f.abs() < 1e-3 || f.abs() >= 1e5) {
                    format!("{f:.2e}")
                } else {
                    format!("{}", (f * 1e4).round() / 1e4)
                }
            }
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_distribution() {
        let s = Space::parse(&[
            "dropout.hidden=uniform(0.1,0.7)".into(),
            "l2=loguniform(1e-6, 1e-2)".into(),
            "train.epochs=int(5,20)".into(),
            "model.activation=choice(relu,tanh)".into(),
            "optimizer.lr=[0.01,0.1]".into(),
        ])
        .unwrap();
        assert_eq!(s.params.len(), 5);
        assert_eq!(s.params[0].dist, Dist::Uniform { low: 0.1, high: 0.7 });
        assert_eq!(
            s.params[3].dist,
            Dist::Choice {
                values: vec![Value::from("relu"), Value::from("tanh")]
            }
        );
        assert_eq!(
            s.params[4].dist,
            Dist::List {
                values: vec![0.01, 0.1]
            }
        );
    }

    #[test]
    fn refuses_bad_specs_with_the_entry_named() {
        for bad in [
            "dropout.hidden",
            "dropout.hidden=uniform(0.7,0.1)",
            "l2=loguniform(0,1)",
            "x=normal(0,1)",
            "x=uniform(a,1)",
            "x..y=[1]",
            "x=int(1.5,3)",
            "x=[]",
        ] {
            let e = Space::parse(&[bad.to_string()]).unwrap_err().to_string();
            assert!(e.contains(bad.split('=').next().unwrap()), "{e}");
        }
        let e = Space::parse(&["a=[1]".into(), "a=[2]".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("twice"), "{e}");
    }

    #[test]
    fn grid_is_the_product_in_row_major_order() {
        let s = Space::parse(&["a=[1,2]".into(), "b=loguniform(1e-4,1e-2)".into()]).unwrap();
        let g = s.grid(3);
        assert_eq!(g.len(), 6);
        assert_eq!(g[0]["a"], Value::from(1.0));
        assert_eq!(g[0]["b"], Value::from(1e-4));
        assert_eq!(g[1]["b"], Value::from(1e-3));
        assert_eq!(g[3]["a"], Value::from(2.0));
        let ints = Dist::Int { low: 1, high: 3 }.grid(5);
        assert_eq!(ints, vec![Value::from(1), Value::from(2), Value::from(3)]);
    }

    #[test]
    fn coordinates_round_trip() {
        let dists = [
            Dist::Uniform { low: 0.0, high: 1.0 },
            Dist::LogUniform { low: 1e-4, high: 1.0 },
            Dist::Int { low: 2, high: 9 },
            Dist::Choice {
                values: vec![Value::from("a"), Value::from("b")],
            },
            Dist::List {
                values: vec![0.1, 0.2, 0.4],
            },
        ];
        for d in &dists {
            for u in [0.0, 0.3, 0.99] {
                let v = d.from_unit(u);
                let x = d.coordinate(&v).unwrap();
                assert_eq!(d.from_coordinate(x), v, "{d:?} {u}");
            }
        }
    }

    #[test]
    fn set_path_wraps_list_fields_and_creates_tables() {
        let mut t: toml::Table = toml::from_str("[model.dropout]\nhidden = [0.5]\n").unwrap();
        set_path(&mut t, "model.dropout.hidden", &Value::from(0.3)).unwrap();
        set_path(&mut t, "train.optimizer.lr", &Value::from(0.01)).unwrap();
        assert_eq!(t["model"]["dropout"]["hidden"].as_array().unwrap().len(), 1);
        assert_eq!(t["train"]["optimizer"]["lr"].as_float(), Some(0.01));
        let e = set_path(&mut t, "train.optimizer.lr.x", &Value::from(1)).unwrap_err();
        assert!(e.to_string().contains("not a table"), "{e}");
    }

    #[test]
    fn toml_space_table() {
        let t: toml::Table =
            toml::from_str("\"dropout.hidden\" = \"uniform(0.1,0.5)\"\nl2 = [0.0, 1e-4]\n").unwrap();
        let s = Space::from_toml(&t).unwrap();
        assert_eq!(s.params.len(), 2);
        assert!(Space::from_toml(&toml::from_str("a = 3").unwrap()).is_err());
    }
}
