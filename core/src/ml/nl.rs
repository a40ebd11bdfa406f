//! The non-linear operations the models use, in one place: ReLU and its derivative, the sigmoids,
//! argmax and max pooling, from the non-linear layer of [`crate::Party`].

use super::Sigmoid;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::party::Party;
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;

fn missing<V>(op: &'static str) -> Result<V, Error> {
    Err(Error::new(
        op,
        ErrorKind::InvalidArgument("needs the non-linear layer"),
    ))
}

/// `max(x, 0)` elementwise.
pub(crate) async fn relu<T: Transport, C: Correlations, R: Ring>(
    p: &mut Party<T, C, R>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let _ = (p, x);
    missing("ml.relu")
}

/// `(max(x, 0), [x >= 0])` elementwise.
pub(crate) async fn relu_with_derivative<T: Transport, C: Correlations, R: Ring>(
    p: &mut Party<T, C, R>,
    x: &Shares<R>,
) -> Result<(Shares<R>, Shares<R>), Error> {
    let _ = (p, x);
    missing("ml.relu")
}

/// The sigmoid approximation `s` elementwise.
pub(crate) async fn sigmoid<T: Transport, C: Correlations, R: Ring>(
    p: &mut Party<T, C, R>,
    x: &Shares<R>,
    s: Sigmoid,
) -> Result<Shares<R>, Error> {
    let _ = (p, x, s);
    missing("ml.sigmoid")
}

/// The index of the largest value of each row (as a fixed-point integer), `rows x 1`.
pub(crate) async fn argmax<T: Transport, C: Correlations, R: Ring>(
    p: &mut Party<T, C, R>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let _ = (p, x);
    missing("ml.argmax")
}

/// Max pooling of each row (an image, channel-major) with square windows.
pub(crate) async fn max_pool<T: Transport, C: Correlations, R: Ring>(
    p: &mut Party<T, C, R>,
    x: &Shares<R>,
    shape: [usize; 5],
) -> Result<Shares<R>, Error> {
    let _ = (p, x, shape);
    missing("ml.max_pool")
}
