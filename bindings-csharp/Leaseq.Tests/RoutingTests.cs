using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Leaseq.Tests
{
    /// <summary>Routing by item type: a handler per type name, routed (and refused) by the core's Router.</summary>
    [TestFixture]
    public class RoutingTests : QueueTest
    {
        // The core's errors (core/src/worker.rs, Router::handler_for), word for word.
        const string UnknownFax = "unknown item type \"fax\"; this worker handles: email, resize";
        const string Untyped = "item has no type (its data is not a JSON object with a string field \"type\"); this worker handles: email, resize";

        static readonly Func<Item, CancellationToken, Task> Succeed = (item, token) => Task.FromResult(true);

        static WorkerOptions Options()
        {
            return new WorkerOptions { Concurrency = 2, CleanEvery = null, ShutdownTimeout = TimeSpan.FromSeconds(5) };
        }

        static void StopAndWait(Worker worker, Task run)
        {
            worker.Stop();
            Wait.For(run, 15);
        }

        [Test]
        public void EachTypedItemRunsOnTheHandlerOfItsType()
        {
            var ran = new ConcurrentQueue<string>();
            var outcomes = new ConcurrentDictionary<string, string>();
            var options = Options();
            options.After = (item, outcome) => outcomes[item.Id] = outcome.ToString();
            var routes = new Dictionary<string, Func<Item, CancellationToken, Task>>
            {
                { "email", (item, token) => { ran.Enqueue("email " + item.Id + " " + item.TypeName); return Task.FromResult(0); } },
                { "resize", async (item, token) => { await Task.Yield(); ran.Enqueue("resize " + item.Id + " " + item.TypeName); } },
            };
            using (var queue = new WorkQueue(Connection, Prefix, new QueueOptions { MaxAttempts = 1 }))
            using (var worker = new Worker(queue, routes, options))
            {
                // The worker copied the routes: a handler added now is not one of them.
                routes.Add("fax", Succeed);
                queue.AddItem(Item.FromJson("{\"type\": \"email\", \"to\": \"a@example.com\"}", "mail-1"));
                queue.AddItem(Item.FromJson("{\"to\": \"b@example.com\", \"type\": \"email\"}", "mail-2"));
                queue.AddItem(Item.FromJson("{\"type\": \"resize\", \"photo\": 17}", "photo"));
                queue.AddItem(Item.FromJson("{\"type\": \"fax\", \"to\": \"+1 555\"}", "fax"));
                queue.AddItem(Item.FromJson("{\"kind\": \"email\"}", "no type field"));
                queue.AddItem(Item.FromJson("{\"type\": 7}", "numeric type"));
                queue.AddItem(Item.FromJson("{\"type\": \"Email\"}", "other case"));
                queue.AddItem(new Item(Bytes("email"), "not json"));
                var run = worker.RunAsync();
                Wait.Until(() => worker.Counters.Completed == 3 && queue.DeadLength() == 5, 10000);
                StopAndWait(worker, run);

                CollectionAssert.AreEquivalent(
                    new[] { "email mail-1 email", "email mail-2 email", "resize photo resize" }, ran.ToArray(),
                    "each typed item ran once, on its type's handler, and nothing else ran");
                var dead = queue.DeadItems(0, 10).ToDictionary(item => item.Item.Id, item => item.Error);
                CollectionAssert.AreEquivalent(new[] { "fax", "no type field", "numeric type", "other case", "not json" }, dead.Keys);
                Assert.AreEqual(UnknownFax, dead["fax"]);
                Assert.AreEqual(Untyped, dead["no type field"]);
                Assert.AreEqual(Untyped, dead["numeric type"]);
                Assert.AreEqual(Untyped, dead["not json"]);
                Assert.AreEqual("unknown item type \"Email\"; this worker handles: email, resize", dead["other case"], "names match exactly");
                Assert.AreEqual(5, worker.Counters.Failed);
                Assert.AreEqual("Failed(" + UnknownFax + ")", outcomes["fax"], "the After hook sees the routing failure");
                Assert.AreEqual("Completed(true)", outcomes["photo"]);
            }
        }

        [Test]
        public void AnUnknownTypeIsRetriedSoALaterWorkerWithItsHandlerRunsIt()
        {
            var faxed = new ManualResetEventSlim();
            var fast = new QueueOptions { BackoffBase = TimeSpan.FromMilliseconds(20), BackoffMax = TimeSpan.FromMilliseconds(40) };
            using (var queue = new WorkQueue(Connection, Prefix, fast))
            {
                queue.AddItem(Item.FromJson("{\"type\": \"fax\"}", "fax"));
                var routes = new Dictionary<string, Func<Item, CancellationToken, Task>> { { "email", Succeed }, { "resize", Succeed } };
                using (var old = new Worker(queue, routes, Options()))
                {
                    var run = old.RunAsync();
                    Wait.Until(() => old.Counters.Retried >= 1, 10000);
                    StopAndWait(old, run);
                    Assert.AreEqual(0, old.Counters.Completed);
                }
                Assert.AreEqual(0, queue.DeadLength(), "retried, not buried");
                var later = new Dictionary<string, Func<Item, CancellationToken, Task>>
                {
                    { "fax", (item, token) => { faxed.Set(); return Task.FromResult(0); } },
                };
                using (var worker = new Worker(queue, later, Options()))
                {
                    var run = worker.RunAsync();
                    Assert.IsTrue(faxed.Wait(TimeSpan.FromSeconds(10)), "the later worker ran the fax");
                    Wait.Until(() => worker.Counters.Completed == 1, 10000);
                    StopAndWait(worker, run);
                }
                Assert.AreEqual(0, queue.QueueLength() + queue.Processing() + queue.DelayedLength() + queue.DeadLength());
            }
        }

        [Test]
        public void BadRoutesAreRefusedAtConstruction()
        {
            Assert.Throws<ArgumentNullException>(() => new Worker(Queue, (IDictionary<string, Func<Item, CancellationToken, Task>>)null));
            Assert.Throws<ArgumentNullException>(() => new Worker(null, Routes(Pair("email", Succeed))));
            // No routes, an empty name and a name given twice are the core's to refuse.
            var empty = Assert.Throws<LeaseqArgumentException>(() => new Worker(Queue, new Dictionary<string, Func<Item, CancellationToken, Task>>()));
            StringAssert.Contains("at least one item type", empty.Message);
            var nullHandler = Assert.Throws<ArgumentException>(() => new Worker(Queue, Routes(Pair("email", Succeed), Pair("resize", null))));
            StringAssert.Contains("\"resize\"", nullHandler.Message);
            // Dictionary refuses null keys, but an IDictionary need not.
            var nullName = Assert.Throws<ArgumentException>(() => new Worker(Queue, new PairList(Pair("email", Succeed), Pair(null, Succeed))));
            Assert.AreEqual("routes", nullName.ParamName);
            // Nor need it have distinct keys.
            var twice = Assert.Throws<LeaseqArgumentException>(() => new Worker(Queue, new PairList(Pair("email", Succeed), Pair("email", Succeed))));
            StringAssert.Contains("item type \"email\"", twice.Message);
            Assert.Throws<LeaseqArgumentException>(() => new Worker(Queue, Routes(Pair("\ud800", Succeed))));
            // The options are checked as for one handler.
            Assert.Throws<LeaseqArgumentException>(() => new Worker(Queue, Routes(Pair("email", Succeed)), new WorkerOptions { Concurrency = 0 }));
            // The single-handler form is unchanged.
            Assert.Throws<ArgumentNullException>(() => new Worker(Queue, (Func<Item, CancellationToken, Task>)null));
            var emptyName = Assert.Throws<LeaseqArgumentException>(() => new Worker(Queue, Routes(Pair("", Succeed))));
            StringAssert.Contains("empty", emptyName.Message);
        }

        [Test]
        public void TheTypeNameIsTheStringFieldTypeOfJsonObjectData()
        {
            Assert.AreEqual("email", Item.FromJson("{\"type\": \"email\", \"to\": \"a@example.com\"}").TypeName);
            Assert.AreEqual("email", Item.FromJson("{\"to\": {\"type\": \"nested\"}, \"type\": \"email\"}").TypeName);
            Assert.AreEqual("r\u00e9size \u2713", Item.FromJson("{\"type\": \"r\\u00e9size \u2713\"}").TypeName, "JSON escapes and UTF-8 decoded");
            Assert.AreEqual("", Item.FromJson("{\"type\": \"\"}").TypeName);
            Assert.AreEqual("email", new Item(Bytes("{\"type\":\"email\"}")).TypeName, "any bytes that are such JSON");
            foreach (var json in new[] { "{}", "{\"kind\": \"email\"}", "{\"type\": 7}", "{\"type\": null}", "{\"type\": {\"name\": \"email\"}}",
                "{\"job\": {\"type\": \"email\"}}", "\"email\"", "17", "null" })
            {
                Assert.IsNull(Item.FromJson(json).TypeName, json);
            }
            Assert.IsNull(new Item(Bytes("email")).TypeName, "not JSON");
            Assert.IsNull(new Item(new byte[0]).TypeName, "no data");
            Assert.IsNull(new Item(new byte[] { 0xff, 0xfe }).TypeName, "not UTF-8");
            // Read from the data on each get.
            var item = new Item(Bytes("{\"type\":\"a\"}"));
            Assert.AreEqual("a", item.TypeName);
            item.Data[9] = (byte)'b';
            Assert.AreEqual("b", item.TypeName);
            // A leased item has its type too.
            Queue.AddItem(Item.FromJson("{\"type\": \"resize\", \"photo\": 17}", "photo"));
            Assert.AreEqual("resize", Queue.Lease(LeaseTime, false).TypeName);
        }

        static KeyValuePair<string, Func<Item, CancellationToken, Task>> Pair(string name, Func<Item, CancellationToken, Task> handler)
        {
            return new KeyValuePair<string, Func<Item, CancellationToken, Task>>(name, handler);
        }

        static Dictionary<string, Func<Item, CancellationToken, Task>> Routes(params KeyValuePair<string, Func<Item, CancellationToken, Task>>[] pairs)
        {
            return pairs.ToDictionary(pair => pair.Key, pair => pair.Value);
        }

        /// <summary>An IDictionary that is only a list of pairs: null and repeated keys allowed; only enumerated.</summary>
        sealed class PairList : IDictionary<string, Func<Item, CancellationToken, Task>>
        {
            readonly List<KeyValuePair<string, Func<Item, CancellationToken, Task>>> pairs;

            internal PairList(params KeyValuePair<string, Func<Item, CancellationToken, Task>>[] pairs)
            {
                this.pairs = pairs.ToList();
            }

            public IEnumerator<KeyValuePair<string, Func<Item, CancellationToken, Task>>> GetEnumerator() => pairs.GetEnumerator();
            IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
            public int Count => pairs.Count;
            public bool IsReadOnly => true;
            public ICollection<string> Keys => pairs.Select(pair => pair.Key).ToList();
            public ICollection<Func<Item, CancellationToken, Task>> Values => pairs.Select(pair => pair.Value).ToList();
            public Func<Item, CancellationToken, Task> this[string key]
            {
                get { throw new NotSupportedException(); }
                set { throw new NotSupportedException(); }
            }
            public void Add(string key, Func<Item, CancellationToken, Task> value) { throw new NotSupportedException(); }
            public void Add(KeyValuePair<string, Func<Item, CancellationToken, Task>> item) { throw new NotSupportedException(); }
            public void Clear() { throw new NotSupportedException(); }
            public bool Contains(KeyValuePair<string, Func<Item, CancellationToken, Task>> item) { throw new NotSupportedException(); }
            public bool ContainsKey(string key) { throw new NotSupportedException(); }
            public void CopyTo(KeyValuePair<string, Func<Item, CancellationToken, Task>>[] array, int index) { throw new NotSupportedException(); }
            public bool Remove(string key) { throw new NotSupportedException(); }
            public bool Remove(KeyValuePair<string, Func<Item, CancellationToken, Task>> item) { throw new NotSupportedException(); }
            public bool TryGetValue(string key, out Func<Item, CancellationToken, Task> value) { throw new NotSupportedException(); }
        }
    }
}
