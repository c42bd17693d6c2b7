using System;
using System.Collections.Generic;
using System.Linq;
using Leaseq.Native;

namespace Leaseq
{
    /// <summary>
    /// An item of work: a unique id and opaque data.
    ///
    /// The id names the item's keys in Redis; two items with the same id are the same item.
    /// </summary>
    public sealed class Item
    {
        byte[] idUtf8;

        /// <summary>
        /// An item with <paramref name="data"/> and the given <paramref name="id"/>, or a new random UUID (v4)
        /// for its id when <paramref name="id"/> is null; the id is checked when the item is added.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
        public Item(byte[] data, string id = null)
        {
            if (data == null)
            {
                throw new ArgumentNullException("data");
            }
            Data = data;
            // Guid.NewGuid is a random (v4) UUID, formatted as the core's Item::new formats one.
            Id = id ?? Guid.NewGuid().ToString("D");
        }

        internal Item(byte[] data, string id, byte[] idUtf8, int attempts, long fence) : this(data, id)
        {
            this.idUtf8 = idUtf8;
            Attempts = attempts;
            Fence = fence;
        }

        /// <summary>The item's id; the constructor makes a random UUID when none is given.</summary>
        public string Id { get; }

        /// <summary>The item's data, stored as is (not copied: do not change it while an add runs).</summary>
        public byte[] Data { get; }

        /// <summary>
        /// How many times the item has been leased, this lease included (1 on the first delivery).
        /// 0 for an item that did not come from <see cref="WorkQueue.Lease"/>.
        /// </summary>
        public int Attempts { get; }

        /// <summary>
        /// The fencing token of this delivery: a number from a per-queue counter that only grows, so a later delivery
        /// of any item of the queue has a larger one. A handler can pass it to its own storage to refuse writes from a
        /// holder whose lease was superseded; with <see cref="QueueOptions.Fencing"/>, <see cref="WorkQueue.Renew"/>,
        /// <see cref="WorkQueue.Complete"/>, <see cref="WorkQueue.Fail"/> and <see cref="WorkQueue.Release"/> of a
        /// superseded delivery throw <see cref="LeaseLostException"/>. 0 for an item that did not come from
        /// <see cref="WorkQueue.Lease"/> (or a <see cref="Worker"/>); those calls then do not check it.
        /// </summary>
        public long Fence { get; }

        /// <summary>
        /// An item whose data is <paramref name="json"/> (already serialized, by any JSON library) as UTF-8,
        /// with a new random id unless <paramref name="id"/> is given. The core checks it is one JSON document.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
        /// <exception cref="LeaseqArgumentException"><paramref name="json"/> is not JSON.</exception>
        public static unsafe Item FromJson(string json, string id = null)
        {
            if (json == null)
            {
                throw new ArgumentNullException("json");
            }
            var data = Interop.Encode(json, "json");
            CheckJson(data);
            return new Item(data, id);
        }

        /// <summary>The item's data parsed as JSON, returned as its UTF-8 text for any JSON library to read.</summary>
        /// <exception cref="LeaseqArgumentException">The data is not JSON.</exception>
        public unsafe string Json()
        {
            CheckJson(Data);
            fixed (byte* data = Data)
            {
                return Interop.Decode(data, Interop.Length(Data));
            }
        }

        /// <summary>
        /// The item's type, which a worker made with routes routes it by: the string field <c>"type"</c> of its
        /// data when the data is a JSON object (<c>Item.FromJson("{\"type\": \"email\", ...}")</c> is of type
        /// <c>"email"</c>); <c>null</c> for an untyped item. The core reads it from <see cref="Data"/> on each get.
        /// </summary>
        public unsafe string TypeName
        {
            get
            {
                var data = Data;
                // One name, or none for an untyped item.
                return Interop.ReadValue(Readers.Strings, (value, error) =>
                {
                    fixed (byte* start = data)
                    {
                        return NativeMethods.leaseq_item_type_name(start, Interop.Length(data), value, error);
                    }
                }).FirstOrDefault();
            }
        }

        static unsafe void CheckJson(byte[] data)
        {
            LeaseqError* error = null;
            fixed (byte* bytes = data)
            {
                Interop.Check(NativeMethods.leaseq_json_check(bytes, Interop.Length(data), &error), error);
            }
        }

        /// <summary>The id as UTF-8, encoded once.</summary>
        internal byte[] IdUtf8
        {
            get { return idUtf8 ?? (idUtf8 = Interop.Encode(Id, "item id")); }
        }
    }

    /// <summary>What a clean did.</summary>
    public sealed class CleanReport
    {
        /// <summary>A report of <paramref name="requeued"/>, <paramref name="dropped"/> and <paramref name="dead"/> items.</summary>
        public CleanReport(long requeued, long dropped, long dead)
        {
            Requeued = requeued;
            Dropped = dropped;
            Dead = dead;
        }

        /// <summary>Items whose lease had expired (or was never taken), returned to the queue.</summary>
        public long Requeued { get; }

        /// <summary>Ids dropped from the lists because their item no longer exists.</summary>
        public long Dropped { get; }

        /// <summary>Items whose lease expired on their last attempt, moved to the dead letters.</summary>
        public long Dead { get; }

        /// <inheritdoc />
        public override string ToString()
        {
            return "CleanReport(Requeued=" + Requeued + ", Dropped=" + Dropped + ", Dead=" + Dead + ")";
        }
    }

    /// <summary>What <see cref="WorkQueue.CompleteAndLease"/> did.</summary>
    public sealed class CompleteAndLeaseResult
    {
        internal CompleteAndLeaseResult(bool completed, IReadOnlyList<Item> leased)
        {
            Completed = completed;
            Leased = leased;
        }

        /// <summary>Whether this call completed the item, as <see cref="WorkQueue.Complete"/> answers.</summary>
        public bool Completed { get; }

        /// <summary>The items leased, in order (empty when there was nothing to lease).</summary>
        public IReadOnlyList<Item> Leased { get; }
    }
}
