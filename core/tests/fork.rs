//! A forked child keeps working with the objects it inherited (pre-forked worker pools).

mod common;

use std::time::Duration;

use leaseq::blocking::{Connection, WorkQueue};
use leaseq::Item;

#[test]
fn a_forked_child_reconnects_and_works() {
    let connection = Connection::open(&common::redis_url()).unwrap();
    let queue = WorkQueue::new(&connection, &common::prefix("fork")).unwrap();
    for i in 0..3 {
        queue
            .add_item(&Item::with_id(format!("f{i}"), "x"))
            .unwrap();
    }
    // Busy the runtime from other threads while forking, so its locks are likely taken.
    let busy: Vec<_> = (0..4)
        .map(|_| {
            let queue = queue.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    queue.queue_len().unwrap();
                }
            })
        })
        .collect();
    for round in 0..3 {
        // SAFETY: the child only runs leaseq's code and then _exit()s.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let ok = (|| -> leaseq::Result<bool> {
                let item =
                    queue.lease(Duration::from_secs(30), true, Some(Duration::from_secs(2)))?;
                Ok(match item {
                    Some(item) => queue.complete(&item)?,
                    None => false,
                })
            })();
            unsafe { libc::_exit(if matches!(ok, Ok(true)) { 0 } else { 1 }) };
        }
        let mut status = 0;
        let started = std::time::Instant::now();
        // SAFETY: waiting for our own child, without hanging the suite if it hangs.
        while unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == 0 {
            if started.elapsed() > Duration::from_secs(10) {
                unsafe { libc::kill(pid, libc::SIGKILL) };
                panic!("child {round} hung after fork");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child {round} failed: {status}"
        );
    }
    for thread in busy {
        thread.join().unwrap();
    }
    // The parent's own objects still work after its children reconnected.
    assert_eq!(queue.queue_len().unwrap(), 0);
    assert_eq!(queue.processing().unwrap(), 0);
}
