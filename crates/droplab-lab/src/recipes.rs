//! The recipes shipped with droplab (`recipes/`, embedded at build time): TOML run configs that
//! reproduce published results, each with its paper, row and published number.

use crate::config::RunConfig;
use crate::error::{Error, Result};

/// A recipe shipped with droplab.
pub struct Recipe {
    /// File name without `.toml`.
    pub name: &'static str,
    /// The TOML text.
    pub text: &'static str,
}

macro_rules! recipe {
    ($name:literal) => {
        Recipe {
            name: $name,
            text: include_str!(concat!("../../../recipes/", $name, ".toml")),
        }
    };
}

/// Every recipe, in the order `paper list` shows them.
pub const RECIPES: &[Recipe] = &[
    recipe!("srivastava2014-table9-l2"),
    recipe!("srivastava2014-table9-maxnorm"),
    recipe!("srivastava2014-table9-dropout-l2"),
    recipe!("srivastava2014-table9-dropout-maxnorm"),
    recipe!("srivastava2014-table2-dropout-logistic"),
    recipe!("srivastava2014-table2-dropout-relu"),
    recipe!("srivastava2014-table2-dropout-relu-maxnorm"),
    recipe!("hinton2012-standard"),
    recipe!("hinton2012-hidden-dropout"),
    recipe!("hinton2012-input-hidden-dropout"),
    recipe!("keras-mnist-mlp"),
    recipe!("tf-deep-mnist-cnn"),
    recipe!("japanese-vowels-lstm-baseline"),
    recipe!("japanese-vowels-lstm-variational"),
    recipe!("gal2016-uci-boston"),
    recipe!("gal2016-uci-concrete"),
    recipe!("gal2016-uci-energy"),
    recipe!("gal2016-uci-kin8nm"),
    recipe!("gal2016-uci-naval"),
    recipe!("gal2016-uci-power"),
    recipe!("gal2016-uci-protein"),
    recipe!("gal2016-uci-wine"),
    recipe!("gal2016-uci-yacht"),
];

/// What a caller may change of a recipe (each `None` keeps the recipe's own value). Every
/// protocol reads the epochs, batch size, dataset and data directory ([`Overrides::apply`]);
/// `paper run`'s seeds also the training size, validation size and threads, the UCI protocol
/// the Monte Carlo passes and the number of splits.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Epochs of every training.
    pub epochs: Option<usize>,
    /// Minibatch size.
    pub batch_size: Option<usize>,
    /// Another dataset (a published number that does not apply to it is dropped).
    pub dataset: Option<String>,
    /// The data directory.
    pub data_dir: Option<std::path::PathBuf>,
    /// A stratified subset of the training split of this size.
    pub train_size: Option<usize>,
    /// Validation examples held out of a fixed training file.
    pub val_size: Option<usize>,
    /// Threads (0: all cores).
    pub threads: Option<usize>,
    /// Monte Carlo passes of every score (UCI).
    pub mc_samples: Option<usize>,
    /// Only the first N splits (UCI).
    pub splits: Option<usize>,
}

impl Overrides {
    /// Applies the settings every protocol shares to `cfg`; true when the dataset became
    /// another one.
    pub fn apply(&self, cfg: &mut RunConfig) -> bool {
        if let Some(e) = self.epochs {
            cfg.train.epochs = e;
        }
        if let Some(b) = self.batch_size {
            cfg.train.batch_size = b;
        }
        if let Some(d) = &self.data_dir {
            cfg.data.data_dir = d.display().to_string();
        }
        match &self.dataset {
            Some(d) if *d != cfg.data.dataset => {
                cfg.data.dataset = d.clone();
                true
            }
            _ => false,
        }
    }
}

/// Parses a recipe into its run config.
pub fn parse(r: &Recipe) -> Result<RunConfig> {
    RunConfig::parse(&format!("recipes/{}.toml", r.name), r.text)
}

/// The recipes `name` selects: one by its full name, or a group by prefix
/// (`srivastava2014-table9` selects every row of Table 9).
/// Several, comma-separated, run one after the other into one table.
pub fn select(name: &str) -> Result<Vec<&'static Recipe>> {
    if name.contains(',') {
        let mut all = Vec::new();
        for n in name.split(',').filter(|n| !n.is_empty()) {
            for r in select(n)? {
                if !all.iter().any(|a: &&Recipe| a.name == r.name) {
                    all.push(r);
                }
            }
        }
        return Ok(all);
    }
    let exact: Vec<_> = RECIPES.iter().filter(|r| r.name == name).collect();
    if !exact.is_empty() {
        return Ok(exact);
    }
    let group: Vec<_> = RECIPES
        .iter()
        .filter(|r| r.name.starts_with(&format!("{name}-")))
        .collect();
    if group.is_empty() {
        let names: Vec<&str> = RECIPES.iter().map(|r| r.name).collect();
        return Err(Error::usage(format!(
            "paper run: no recipe or group named '{name}' (see `droplab paper list`: {})",
            names.join(", ")
        )));
    }
    Ok(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recipe_parses_validates_and_names_itself() {
        for r in RECIPES {
            let c = parse(r).unwrap_or_else(|e| panic!("{}: {e:?}", r.name));
            c.model.validate().unwrap_or_else(|e| panic!("{}: {e}", r.name));
            c.train.validate().unwrap_or_else(|e| panic!("{}: {e}", r.name));
            let info = c.recipe.expect("a [recipe] table");
            assert_eq!(info.name, r.name);
            // Reproductions carry the published number; the JapaneseVowels pair is droplab's
            // own dropout-against-baseline comparison, without one.
            let own = c.data.dataset == "japanese-vowels";
            let published = info.published_test_error.is_some()
                || info
                    .uci
                    .as_ref()
                    .is_some_and(|u| u.published_rmse.is_some() && u.published_ll.is_some());
            assert_eq!(published, !own, "{}", r.name);
            assert_eq!(
                info.uci.is_some(),
                c.data.dataset.starts_with("uci:"),
                "{}",
                r.name
            );
            assert!(!info.source.is_empty());
        }
    }

    #[test]
    fn every_file_in_recipes_is_registered() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../recipes");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".toml").map(String::from))
            .collect();
        files.sort();
        let mut names: Vec<String> = RECIPES.iter().map(|r| r.name.to_string()).collect();
        names.sort();
        assert_eq!(files, names);
    }

    #[test]
    fn groups_select_by_prefix() {
        assert_eq!(select("srivastava2014-table9").unwrap().len(), 4);
        assert_eq!(select("hinton2012").unwrap().len(), 3);
        assert_eq!(
            select("srivastava2014-table9").unwrap().len(),
            RECIPES
                .iter()
                .filter(|r| r.name.starts_with("srivastava2014-table9-"))
                .count()
        );
        assert_eq!(select("keras-mnist-mlp").unwrap().len(), 1);
        assert_eq!(select("gal2016-uci").unwrap().len(), 9);
        let two = select("gal2016-uci-yacht,hinton2012-standard,gal2016-uci-yacht").unwrap();
        assert_eq!(
            two.iter().map(|r| r.name).collect::<Vec<_>>(),
            ["gal2016-uci-yacht", "hinton2012-standard"]
        );
        assert!(select("nope").is_err());
    }
}
