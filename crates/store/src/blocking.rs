//! CPU-bound work (an analysis of a large registry) run off the async runtime, so that
//! a server keeps answering while it runs.

/// Runs `f` on the runtime's blocking pool; `None` if it panicked or was cancelled.
pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}
