//! The unit of work: an id and some bytes.

use serde::{de::DeserializeOwned, Serialize};

use crate::error::{Error, Result};

/// The largest item data Redis accepts in one value (its 512 MB string limit).
pub const MAX_ITEM_BYTES: usize = 512 * 1024 * 1024;

/// An item of work: a unique id and opaque data.
///
/// The id names the item's keys in Redis; two items with the same id are the same item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The item's id; [`Item::new`] makes a random UUID.
    pub id: String,
    /// The item's data, stored as is.
    pub data: Vec<u8>,
    /// How many times the item has been leased, this lease included (1 on the first delivery).
    /// 0 for an item that did not come from [`crate::WorkQueue::lease`].
    pub attempts: u32,
    /// The fencing token of this delivery: a number from a per-queue counter that only grows,
    /// so a later delivery of any item of the queue always has a larger one. A handler can pass
    /// it to its own storage to refuse writes from a holder whose lease was superseded. With
    /// [`crate::QueueOptions::fencing`], renew, complete, fail and release of a superseded
    /// delivery fail with `LeaseLost`. 0 for an item that did not come from
    /// [`crate::WorkQueue::lease`] (then those calls do not check it).
    pub fence: u64,
}

impl Item {
    /// An item with `data` and a new random UUID (v4) for its id.
    pub fn new(data: impl Into<Vec<u8>>) -> Item {
        Item {
            id: uuid::Uuid::new_v4().to_string(),
            data: data.into(),
            attempts: 0,
            fence: 0,
        }
    }

    /// An item with the given id and data; the id is checked when the item is added.
    pub fn with_id(id: impl Into<String>, data: impl Into<Vec<u8>>) -> Item {
        Item {
            id: id.into(),
            data: data.into(),
            attempts: 0,
            fence: 0,
        }
    }

    /// An item whose data is `value` serialized as JSON, with a new random id.
    pub fn from_json<T: Serialize + ?Sized>(value: &T) -> Result<Item> {
        Ok(Item::new(serde_json::to_vec(value)?))
    }

    /// The item's data parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        Ok(serde_json::from_slice(&self.data)?)
    }

    /// The item's type name, for [`crate::Router`]: the string field `type` of its data, when
    /// the data is a JSON object that has one (asynq's task type, BullMQ's job name). The
    /// field is looked up without parsing the rest of the object into values.
    pub fn type_name(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Typed {
            #[serde(rename = "type")]
            type_name: String,
        }
        // serde would also read the struct from an array (`["email"]`): only an object counts.
        let starts_an_object = self
            .data
            .iter()
            .find(|byte| !byte.is_ascii_whitespace())
            .is_some_and(|&byte| byte == b'{');
        if !starts_an_object {
            return None;
        }
        serde_json::from_slice::<Typed>(&self.data)
            .ok()
            .map(|typed| typed.type_name)
    }

    /// Checks the id and the data size; every operation that writes an item calls it.
    pub fn validate(&self) -> Result<()> {
        validate_id(&self.id)?;
        if self.data.len() > MAX_ITEM_BYTES {
            return Err(Error::invalid_argument(format!(
                "item {} is {} bytes; Redis stores at most 512 MB ({MAX_ITEM_BYTES} bytes) per item",
                self.id,
                self.data.len()
            )));
        }
        Ok(())
    }
}

/// Checks an item id: it must not be empty (it names a key).
pub fn validate_id(id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid_argument("item id must not be empty"));
    }
    Ok(())
}

/// Turns raw id bytes (from a binding) into an id, refusing bytes that are not UTF-8.
pub fn id_from_bytes(bytes: Vec<u8>) -> Result<String> {
    let id = String::from_utf8(bytes)
        .map_err(|_| Error::invalid_argument("item id must be valid UTF-8"))?;
    validate_id(&id)?;
    Ok(id)
}
