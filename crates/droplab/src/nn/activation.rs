//! The standalone activation layer over [`crate::tensor::Activation`].

use super::{Ctx, Layer};
use crate::error::Result;
use crate::tensor::{Activation, Tensor};

/// A standalone activation layer.
#[derive(Clone, Debug)]
pub struct Act(pub Activation);

impl Layer for Act {
    fn kind(&self) -> &'static str {
        self.0.name()
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }

    fn forward(&mut self, _ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        y.resize(x.shape());
        y.data_mut().copy_from_slice(x.data());
        self.0.apply(y.data_mut());
        Ok(())
    }

    fn backward(
        &mut self,
        _ctx: &Ctx,
        _x: &Tensor,
        y: &Tensor,
        dy: &mut Tensor,
        dx: Option<&mut Tensor>,
    ) -> Result<()> {
        if let Some(dx) = dx {
            dx.resize(y.shape());
            for ((d, &g), &t) in dx.data_mut().iter_mut().zip(dy.data()).zip(y.data()) {
                *d = g * self.0.derivative_from_output(t);
            }
        }
        Ok(())
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        self.0.torch_module().into_iter().collect()
    }

    fn describe(&self) -> String {
        self.0.name().to_string()
    }
}
