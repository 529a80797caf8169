//! Token embeddings with embedding ("word") dropout (Gal & Ghahramani 2016): a dropped word
//! type is dropped at every one of its occurrences in a sequence, instead of single positions.

use super::drawn::Drawn;
use super::{Ctx, Layer, Param, Role};
use crate::error::{Error, Result};
use crate::plan::Bernoulli;
use crate::rng::SeqRng;
use crate::tensor::Tensor;

/// `[batch, time]` token ids (integers stored as f32) -> `[batch, time, dim]` vectors.
#[derive(Debug)]
pub struct Embedding {
    weight: Param,
    word_drop: Option<Bernoulli>,
    mask: Drawn,
}

impl Embedding {
    /// A table of `vocab` vectors of `dim` values, N(0, 1) as PyTorch's `nn.Embedding`.
    pub fn new(vocab: usize, dim: usize, rng: &mut SeqRng) -> Result<Self> {
        if vocab == 0 || dim == 0 {
            return Err(Error::ZeroWidth {
                field: "embedding".into(),
            });
        }
        let w = Tensor::from_vec(&[vocab, dim], (0..vocab * dim).map(|_| rng.normal()).collect())?;
        Ok(Embedding {
            weight: Param::new("weight", w, Role::Weight),
            word_drop: None,
            mask: Drawn::default(),
        })
    }

    /// Embedding dropout: each sequence drops each word type with probability `p`.
    pub fn with_word_dropout(mut self, d: Option<Bernoulli>) -> Self {
        self.word_drop = d.filter(|d| d.p() > 0.0);
        self
    }

    fn vocab_dim(&self) -> (usize, usize) {
        (self.weight.value.shape()[0], self.weight.value.shape()[1])
    }

    /// The token ids of `x`, checked.
    fn ids(&self, x: &Tensor) -> Result<Vec<usize>> {
        let (v, _) = self.vocab_dim();
        x.data()
            .iter()
            .map(|&t| {
                let id = t.round();
                if (t - id).abs() > 1e-3 || id < 0.0 || id as usize >= v {
                    Err(Error::OutOfRange {
                        field: "embedding input".into(),
                        value: t as f64,
                        range: format!("token ids 0..{v} (integers)"),
                    })
                } else {
                    Ok(id as usize)
                }
            })
            .collect()
    }

    /// The factor the last forward pass applied to word `id` in sequence `b`.
    pub fn word_factor(&self, b: usize, id: usize) -> f32 {
        self.mask.factor(b, id)
    }
}

impl Layer for Embedding {
    fn kind(&self) -> &'static str {
        "embedding"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let (_, d) = self.vocab_dim();
        match input {
            [t] => Ok(vec![*t, d]),
            _ => Err(Error::ShapeMismatch {
                context: "embedding input (token ids [time])".into(),
                expected: vec![0],
                got: input.to_vec(),
            }),
        }
    }

    fn forward(&mut self, ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        let (v, d) = self.vocab_dim();
        let (b, t) = (x.rows(), x.cols());
        let ids = self.ids(x)?;
        match self.word_drop {
            Some(wd) => self.mask.draw(wd.plan(ctx.mode, ctx.step), b, v, false),
            None => self.mask.clear(),
        }
        y.resize(&[b, t, d]);
        let w = self.weight.value.data();
        for (r, (&id, out)) in ids.iter().zip(y.data_mut().chunks_exact_mut(d)).enumerate() {
            out.copy_from_slice(&w[id * d..(id + 1) * d]);
            if self.mask.active() {
                let f = self.word_factor(r / t.max(1), id);
                out.iter_mut().for_each(|o| *o *= f);
            }
        }
        Ok(())
    }

    fn backward(
        &mut self,
        _ctx: &Ctx,
        x: &Tensor,
        _y: &Tensor,
        dy: &mut Tensor,
        dx: Option<&mut Tensor>,
    ) -> Result<()> {
        let (_, d) = self.vocab_dim();
        let t = x.cols().max(1);
        let ids = self.ids(x)?;
        self.weight.grad.fill(0.0);
        for (r, (&id, g)) in ids.iter().zip(dy.data().chunks_exact(d)).enumerate() {
            let f = self.word_factor(r / t, id);
            let row = &mut self.weight.grad.data_mut()[id * d..(id + 1) * d];
            row.iter_mut().zip(g).for_each(|(a, &v)| *a += v * f);
        }
        if let Some(dx) = dx {
            // Token ids are not differentiable.
            dx.resize(x.shape());
            dx.fill(0.0);
        }
        Ok(())
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.weight]
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.weight]
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        vec!["Embedding"]
    }

    fn describe(&self) -> String {
        let (v, d) = self.vocab_dim();
        let mut s = format!("embedding {v}x{d}");
        if let Some(wd) = &self.word_drop {
            s.push_str(&format!(" + word dropout p={}", wd.p()));
        }
        s
    }
}
