//! The Lua scripts of `core/lua/`, embedded at compile time so `cargo package` carries them.

use std::sync::LazyLock;

use redis::Script;

// lib/wrong-types.lua goes first in every script (Redis scripts cannot load one another): each
// checks the keys it may write before writing anything. The scripts that read attempt counts also
// get lib/attempt-count.lua, so the rule and the error text for a count that is not one are kept
// once.
macro_rules! script {
    ($name:ident, $file:literal $(, $lib:literal)*) => {
        pub(crate) static $name: LazyLock<Script> = LazyLock::new(|| {
            Script::new(concat!(
                include_str!("../lua/lib/wrong-types.lua"),
                $(include_str!(concat!("../lua/lib/", $lib)),)*
                include_str!(concat!("../lua/", $file))
            ))
        });
    };
}

script!(ADD, "add-3.lua");
script!(ADD_UNIQUE, "add-unique-2.lua");
script!(ADD_ITEMS, "add-items-n.lua");
script!(ADD_SCHEDULED, "add-scheduled-7.lua");
script!(LEASE, "lease-15.lua", "attempt-count.lua");
script!(RENEW, "renew-3.lua");
script!(COMPLETE, "complete-15.lua");
script!(COMPLETE_ITEMS, "complete-items-n.lua");

// Complete-and-lease runs both scripts' text unchanged, each wrapped as a function whose
// parameters shadow KEYS and ARGV, so the combined call keeps the two single forms' guarantees.
pub(crate) static COMPLETE_LEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("../lua/lib/wrong-types.lua"),
        include_str!("../lua/lib/attempt-count.lua"),
        "local function complete_items(KEYS, ARGV)\n",
        include_str!("../lua/complete-items-n.lua"),
        "\nend\nlocal function lease(KEYS, ARGV)\n",
        include_str!("../lua/lease-15.lua"),
        "\nend\n",
        include_str!("../lua/complete-lease-n.lua")
    ))
});
script!(FAIL, "fail-14.lua", "attempt-count.lua");
script!(LIGHT_CLEAN, "light-clean-12.lua", "attempt-count.lua");
script!(CLEAN_ORPHAN, "clean-orphan-9.lua");
script!(DEAD_ITEMS, "dead-items-4.lua");
script!(REQUEUE_DEAD, "requeue-dead-6.lua");
script!(PURGE_DEAD, "purge-dead-6.lua");
script!(RESUME, "resume-2.lua");
script!(PRUNE, "prune-2.lua");
script!(RELEASE, "release-10.lua", "attempt-count.lua");
