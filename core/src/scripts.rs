//! The Lua scripts of `core/lua/`, embedded at compile time so `cargo package` carries them.

use std::sync::LazyLock;

use redis::Script;

macro_rules! script {
    ($name:ident, $file:literal) => {
        pub(crate) static $name: LazyLock<Script> =
            LazyLock::new(|| Script::new(include_str!(concat!("../lua/", $file))));
    };
}

script!(ADD, "add-2.lua");
script!(ADD_UNIQUE, "add-unique-2.lua");
script!(ADD_ITEMS, "add-items-n.lua");
script!(LEASE, "lease-4.lua");
script!(RENEW, "renew-1.lua");
script!(COMPLETE, "complete-5.lua");
script!(LIGHT_CLEAN, "light-clean-5.lua");
script!(CLEAN_ORPHAN, "clean-orphan-6.lua");
