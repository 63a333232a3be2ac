//! Crash points for the fault tests: with the `failpoints` feature, a point armed through the
//! `FAILPOINTS` environment variable (the `fail` crate's syntax, e.g.
//! `FAILPOINTS="xa::after_decision=2*off->return"`: the third time) kills the whole process with
//! SIGKILL there, as a crash or `kill -9` would, with no cleanup. Without the feature a point
//! compiles to nothing.
//!
//! The points, in the order a two-phase commit passes them:
//! - `xa::before_prepare`: the transaction's branches are all open, none has voted;
//! - `xa::prepared_one`: one branch has prepared (others may still be voting);
//! - `xa::before_decision`: every written branch has prepared, no decision yet;
//! - `xa::after_decision`: the coordinator committed the decision, no branch was told;
//! - `xa::committed_one`: one prepared branch committed, others may not have;
//! - `xa::recover_before_finish`: recovery is about to commit or roll back an in-doubt branch.

/// Kills the process when the failpoint `name` is armed with the `return` action.
#[inline(always)]
pub fn crash_point(name: &str) {
    #[cfg(feature = "failpoints")]
    if fail::eval(name, |_| ()).is_some() {
        eprintln!("shardgate: failpoint {name} reached: killing the process (SIGKILL)");
        // SAFETY: kill(2) on our own pid; no memory is involved.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
    #[cfg(not(feature = "failpoints"))]
    let _ = name;
}

/// Arms the failpoints named in `FAILPOINTS` for the life of the returned guard (a no-op
/// without the `failpoints` feature).
pub fn setup() -> impl Drop {
    #[cfg(feature = "failpoints")]
    {
        fail::FailScenario::setup()
    }
    #[cfg(not(feature = "failpoints"))]
    {
        NoFailpoints
    }
}

#[cfg(not(feature = "failpoints"))]
struct NoFailpoints;

#[cfg(not(feature = "failpoints"))]
impl Drop for NoFailpoints {
    fn drop(&mut self) {}
}
