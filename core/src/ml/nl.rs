//! The non-linear operations the models use, in one place: ReLU and its derivative, the sigmoids,
//! argmax and max pooling, from the non-linear layer ([`crate::nonlinear`]).

use super::Sigmoid;
use crate::correlated::Correlations;
use crate::error::Error;
use crate::nonlinear::Pool2d;
use crate::party::Party;
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;

/// `max(x, 0)` elementwise.
pub(crate) async fn relu<T: Transport, C: Correlations, R: Ring>(
    p: &mut Party<T, C, R>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    p.relu(x).await
}

/// `(max(x, 0), [x >= 0])` elementwise.
pub(crate) async fn relu_with_derivative<T: Transport, C: Correlations, R: Ring>(
    p: &mut Party<T, C, R>,
    x: &Shares<R>,
) -> Result<(Shares<R>, Shares<R>), Error> {
    p.relu_with_derivative(x).await
}

/// The sigmoid approximation `s` elementwise.
pub(crate) async fn sigmoid<T: Transport, C: Correlations, R: Ring>(
    p: &mut Party<T, C, R>,
    x: &Shares<R>,
    s: Sigmoid,
) -> Result<Shares<R>, Error> {
    match s {
        Sigmoid::Piecewise => p.sigmoid_piecewise(x).await,
        Sigmoid::Accurate => p.sigmoid(x).await,
    }
}

/// The index of the largest value of each row (as a fixed-point integer), `rows x 1`.
pub(crate) async fn argmax<T: Transport, C: Correlations, R: Ring>(
    p: &mut Party<T, C, R>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    Ok(p.argmax(x).await?.1)
}

/// Max pooling of each row (an image, channel-major) with square windows:
/// `[channels, height, width, window, stride]`.
pub(crate) async fn max_pool<T: Transport, C: Correlations, R: Ring>(
    p: &mut Party<T, C, R>,
    x: &Shares<R>,
    [channels, height, width, window, stride]: [usize; 5],
) -> Result<Shares<R>, Error> {
    let pool = Pool2d {
        channels,
        height,
        width,
        window,
        stride,
    };
    p.max_pool(x, pool).await
}
