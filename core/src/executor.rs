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
/// (for parties on separate threads joined by [`crate::transport::memory::duplex`]); before it
/// parks, it yields its core a few times in case the wake comes at once.
#[cfg(feature = "std")]
pub fn block_on_thread<F: Future>(fut: F) -> F::Output {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::Wake;

    /// Wakes the thread, and says so in `woken` for the spin before parking.
    struct Unpark {
        thread: std::thread::Thread,
        woken: AtomicBool,
    }
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.woken.store(true, Ordering::Release);
            self.thread.unpark();
        }
    }

    let unpark = Arc::new(Unpark {
        thread: std::thread::current(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(unpark.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        unpark.woken.store(false, Ordering::Release);
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        // A peer on another thread often answers within microseconds, sooner than a parked
        // thread wakes: yield the core a few times first, then sleep until woken.
        let mut spins = 0;
        while !unpark.woken.load(Ordering::Acquire) && spins < SPINS_BEFORE_PARKING {
            std::thread::yield_now();
            spins += 1;
        }
        if !unpark.woken.load(Ordering::Acquire) {
            std::thread::park();
        }
    }
}

/// How many times [`block_on_thread`] yields its core, waiting for a wake, before it parks.
#[cfg(feature = "std")]
const SPINS_BEFORE_PARKING: u32 = 64;
