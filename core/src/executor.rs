//! Running protocol futures without an async runtime.

use crate::error::{Error, ErrorKind};
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

/// Completes a future whose I/O completes at once (a blocking host: C callbacks, a UART driver
/// that waits, an in-memory buffer already filled), by polling it once with a no-op waker.
///
/// Needs no allocator. If the future is not ready after that poll, some transport returned
/// `Pending`: this returns [`ErrorKind::WouldBlock`] rather than spinning.
pub fn block_on<T, F: Future<Output = Result<T, Error>>>(fut: F) -> Result<T, Error> {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(r) => r,
        Poll::Pending => Err(Error::new("block_on", ErrorKind::WouldBlock)),
    }
}

/// Runs a future to completion on the current thread, parking the thread while it waits
/// (for parties on separate threads joined by [`crate::transport::memory::duplex`]).
#[cfg(feature = "std")]
pub fn block_on_thread<F: Future>(fut: F) -> F::Output {
    use std::sync::Arc;
    use std::task::Wake;

    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }

    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}
