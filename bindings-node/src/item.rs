//! The unit of work: an id and some bytes.

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use crate::convert::{read_optional, Arg, Data};
use crate::error::{guard, Result};

/// An item of work: a unique id and opaque data.
///
/// The id names the item's keys in Redis; two items with the same id are the same item.
#[napi]
pub struct Item {
    pub(crate) inner: leaseq::Item,
}

#[napi]
impl Item {
    /// An item with `data` (a Buffer or other Uint8Array, or a string stored as UTF-8) and an `id`; without an id,
    /// a new random UUID (v4). The id is checked when the item is added.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        #[napi(ts_arg_type = "Uint8Array | string")] data: Arg<Data>,
        #[napi(ts_arg_type = "string | undefined | null")] id: Option<Arg<String>>,
    ) -> Result<Item> {
        guard(|| {
            let data = data.read("data")?.0;
            Ok(Item {
                inner: match read_optional(id, "id")? {
                    Some(id) => leaseq::Item::with_id(id, data),
                    None => leaseq::Item::new(data),
                },
            })
        })
    }

    /// An item whose data is `value` serialized as JSON, with a new random id.
    #[napi(factory, catch_unwind)]
    pub fn from_json(#[napi(ts_arg_type = "any")] value: Arg<serde_json::Value>) -> Result<Item> {
        guard(|| leaseq::Item::from_json(&value.read("value")?).map(Item::from))
    }

    /// The item's data parsed as JSON.
    #[napi(catch_unwind)]
    pub fn json(&self) -> Result<serde_json::Value> {
        guard(|| self.inner.json())
    }

    /// The item's id; `new Item(data)` makes a random UUID.
    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> String {
        self.inner.id.clone()
    }

    /// The item's data, stored as is (a copy each time it is read).
    #[napi(getter, catch_unwind)]
    pub fn data(&self) -> Buffer {
        self.inner.data.clone().into()
    }

    /// How many times the item has been leased, this lease included (1 on the first delivery).
    /// 0 for an item that did not come from {@link WorkQueue.lease} (or a {@link Worker}).
    #[napi(getter, catch_unwind)]
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// The fencing token of this delivery: a number from a per-queue counter that only grows, so
    /// a later delivery of any item of the queue has a larger one. A handler can pass it to its
    /// own storage to refuse writes from a holder whose lease was superseded; with the queue's
    /// `fencing` option, {@link WorkQueue.renew}, {@link WorkQueue.complete},
    /// {@link WorkQueue.fail} and {@link WorkQueue.release} of a superseded delivery reject with
    /// an `ELEASE_LOST` error. 0 for an item that did not come from {@link WorkQueue.lease} (or a
    /// {@link Worker}); those calls then do not check it.
    #[napi(getter, catch_unwind)]
    pub fn fence(&self) -> f64 {
        // Exact up to 2^53 (Number.MAX_SAFE_INTEGER): a queue leasing a million items a second
        // takes 285 years to get there.
        self.inner.fence as f64
    }

    /// The item's type: the string field `type` of its data when that is a JSON object (as
    /// `Item.fromJson({ type: 'email', ... })` makes), or `null`. A {@link Worker} given a
    /// handler per type routes items by it.
    #[napi(getter, catch_unwind)]
    pub fn type_name(&self) -> Option<String> {
        self.inner.type_name()
    }
}

impl From<leaseq::Item> for Item {
    fn from(inner: leaseq::Item) -> Item {
        Item { inner }
    }
}
