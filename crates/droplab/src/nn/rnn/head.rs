//! The pooling heads that turn a sequence of states into one vector.

use crate::error::{Error, Result};
use crate::nn::{Ctx, Layer};
use crate::tensor::Tensor;

/// How a sequence of states becomes one vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqPoolKind {
    /// The state at each sequence's last step.
    Last,
    /// The mean of the states over each sequence's steps.
    Mean,
}

/// `[batch, time, h]` -> `[batch, h]` by the last step or the mean over steps, honouring
/// sequence lengths.
#[derive(Clone, Debug)]
pub struct SeqPool(pub SeqPoolKind);

impl Layer for SeqPool {
    fn kind(&self) -> &'static str {
        match self.0 {
            SeqPoolKind::Last => "last_step",
            SeqPoolKind::Mean => "mean_over_time",
        }
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        match input {
            [_, h] => Ok(vec![*h]),
            _ => Err(Error::ShapeMismatch {
                context: "sequence pooling input (expected [time, features])".into(),
                expected: vec![0, 0],
                got: input.to_vec(),
            }),
        }
    }

    fn forward(&mut self, ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        let [b, steps, h] = x.shape() else {
            return Err(Error::ShapeMismatch {
                context: "sequence pooling input (expected [batch, time, features])".into(),
                expected: vec![0, 0, 0],
                got: x.shape().to_vec(),
            });
        };
        let (b, steps, h) = (*b, *steps, *h);
        y.resize(&[b, h]);
        for bi in 0..b {
            let len = ctx.length(bi, steps).max(1);
            let out = &mut y.data_mut()[bi * h..(bi + 1) * h];
            match self.0 {
                SeqPoolKind::Last => {
                    let r = (bi * steps + len - 1) * h;
                    out.copy_from_slice(&x.data()[r..r + h]);
                }
                SeqPoolKind::Mean => {
                    out.fill(0.0);
                    for t in 0..len {
                        let r = (bi * steps + t) * h;
                        out.iter_mut()
                            .zip(&x.data()[r..r + h])
                            .for_each(|(o, &v)| *o += v);
                    }
                    out.iter_mut().for_each(|o| *o /= len as f32);
                }
            }
        }
        Ok(())
    }

    fn backward(
        &mut self,
        ctx: &Ctx,
        x: &Tensor,
        _y: &Tensor,
        dy: &mut Tensor,
        dx: Option<&mut Tensor>,
    ) -> Result<()> {
        let Some(dx) = dx else { return Ok(()) };
        let (b, steps, h) = (x.shape()[0], x.shape()[1], x.shape()[2]);
        dx.resize(x.shape());
        dx.fill(0.0);
        for bi in 0..b {
            let len = ctx.length(bi, steps).max(1);
            let g = &dy.data()[bi * h..(bi + 1) * h];
            match self.0 {
                SeqPoolKind::Last => {
                    let r = (bi * steps + len - 1) * h;
                    dx.data_mut()[r..r + h].copy_from_slice(g);
                }
                SeqPoolKind::Mean => {
                    for t in 0..len {
                        let r = (bi * steps + t) * h;
                        dx.data_mut()[r..r + h]
                            .iter_mut()
                            .zip(g)
                            .for_each(|(d, &v)| *d = v / len as f32);
                    }
                }
            }
        }
        Ok(())
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        Vec::new()
    }

    fn describe(&self) -> String {
        Layer::kind(self).replace('_', " ")
    }
}
