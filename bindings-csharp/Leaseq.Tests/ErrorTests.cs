using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;

namespace Leaseq.Tests
{
    /// <summary>Every error kind the binding can meet, synchronously and asynchronously.</summary>
    [TestFixture]
    public class ErrorTests : QueueTest
    {
        static readonly TimeSpan[] BadLeases =
        {
            TimeSpan.Zero,
            TimeSpan.FromSeconds(-1),
            TimeSpan.FromDays(366),
            TimeSpan.MaxValue,
            TimeSpan.MinValue,
        };

        [Test]
        public void EmptyPrefixIsAnArgumentError()
        {
            var error = Assert.Throws<LeaseqArgumentException>(() => new WorkQueue(Connection, ""));
            StringAssert.Contains("prefix", error.Message);
            Assert.IsInstanceOf<ArgumentException>(error);
            Assert.AreEqual(ErrorKind.InvalidArgument, ((ILeaseqError)error).Kind);
        }

        [Test]
        public void BadLeaseDurationsAreArgumentErrorsAndTakeNothing()
        {
            Queue.AddItem(new Item(Bytes("x"), "x"));
            foreach (var lease in BadLeases)
            {
                Assert.Throws<LeaseqArgumentException>(() => Queue.Lease(lease, false), lease.ToString());
                Wait.Throws<LeaseqArgumentException>(Queue.LeaseAsync(lease, false));
            }
            Assert.Throws<LeaseqArgumentException>(() => Queue.Lease(LeaseTime, true, TimeSpan.FromSeconds(-1)));
            Wait.Throws<LeaseqArgumentException>(Queue.LeaseAsync(LeaseTime, true, TimeSpan.FromSeconds(-1)));
            Assert.AreEqual(1, Queue.QueueLength(), "nothing was taken by the refused calls");

            var item = Queue.Lease(LeaseTime, false);
            foreach (var lease in BadLeases)
            {
                Assert.Throws<LeaseqArgumentException>(() => Queue.Renew(item, lease), lease.ToString());
                Wait.Throws<LeaseqArgumentException>(Queue.RenewAsync(item, lease));
            }
            // Sub-millisecond leases round up instead of becoming zero.
            Assert.IsTrue(Queue.Renew(item, TimeSpan.FromTicks(1)));
        }

        [Test]
        public void NullArgumentsAreArgumentNullExceptions()
        {
            var item = new Item(Bytes("x"));
            Assert.Throws<ArgumentNullException>(() => new Item(null));
            Assert.Throws<ArgumentNullException>(() => Item.FromJson(null));
            Assert.Throws<ArgumentNullException>(() => Connection.Open(null));
            Assert.Throws<ArgumentNullException>(() => new WorkQueue(null, "q"));
            Assert.Throws<ArgumentNullException>(() => new WorkQueue(Connection, null));
            Assert.Throws<ArgumentNullException>(() => Queue.AddItem(null));
            Assert.Throws<ArgumentNullException>(() => Queue.AddUniqueItem(null));
            Assert.Throws<ArgumentNullException>(() => Queue.AddItems(null));
            Assert.Throws<ArgumentNullException>(() => Queue.AddItems(new[] { item, null }));
            Assert.Throws<ArgumentNullException>(() => Queue.Renew(null, LeaseTime));
            Assert.Throws<ArgumentNullException>(() => Queue.Complete(null));

            Wait.Throws<ArgumentNullException>(Connection.OpenAsync(null));
            Wait.Throws<ArgumentNullException>(Queue.AddItemAsync(null));
            Wait.Throws<ArgumentNullException>(Queue.AddUniqueItemAsync(null));
            Wait.Throws<ArgumentNullException>(Queue.AddItemsAsync(null));
            Wait.Throws<ArgumentNullException>(Queue.AddItemsAsync(new[] { null, item }));
            Wait.Throws<ArgumentNullException>(Queue.RenewAsync(null, LeaseTime));
            Wait.Throws<ArgumentNullException>(Queue.CompleteAsync(null));
            Assert.AreEqual(0, Queue.QueueLength(), "a refused batch adds nothing");
        }

        [Test]
        public void EmptyIdsAreArgumentErrors()
        {
            var empty = new Item(Bytes("x"), "");
            Assert.Throws<LeaseqArgumentException>(() => Queue.AddItem(empty));
            Assert.Throws<LeaseqArgumentException>(() => Queue.AddUniqueItem(empty));
            Assert.Throws<LeaseqArgumentException>(() => Queue.AddItems(new[] { new Item(Bytes("ok")), empty }));
            Assert.Throws<LeaseqArgumentException>(() => Queue.Renew(empty, LeaseTime));
            Assert.Throws<LeaseqArgumentException>(() => Queue.Complete(empty));
            Wait.Throws<LeaseqArgumentException>(Queue.AddItemAsync(empty));
            Wait.Throws<LeaseqArgumentException>(Queue.AddUniqueItemAsync(empty));
            Wait.Throws<LeaseqArgumentException>(Queue.AddItemsAsync(new[] { empty }));
            Wait.Throws<LeaseqArgumentException>(Queue.RenewAsync(empty, LeaseTime));
            Wait.Throws<LeaseqArgumentException>(Queue.CompleteAsync(empty));
            // A lone surrogate has no UTF-8 form: refused rather than sent as U+FFFD.
            Assert.Throws<LeaseqArgumentException>(() => Queue.AddItem(new Item(Bytes("x"), "bad\ud800")));
            Assert.AreEqual(0, Queue.QueueLength());
        }

        [Test]
        public void JsonIsCheckedByTheCore()
        {
            Assert.Throws<LeaseqArgumentException>(() => Item.FromJson("{not json"));
            Assert.Throws<LeaseqArgumentException>(() => Item.FromJson("1 2"));
            Assert.Throws<LeaseqArgumentException>(() => new Item(new byte[] { 0xff }).Json());
            Assert.AreEqual("[1,true,null]", Item.FromJson("[1,true,null]").Json());
        }

        [Test]
        public void UnreachableServerIsAConnectionError()
        {
            var url = "redis://127.0.0.1:" + Env.FreePort();
            Assert.Throws<LeaseqConnectionException>(() => Connection.Open(url));
            var error = Wait.Throws<LeaseqConnectionException>(Connection.OpenAsync(url));
            Assert.AreEqual(ErrorKind.Connection, error.Kind);
        }

        [Test]
        public void MalformedUrlIsAnArgumentError()
        {
            Assert.Throws<LeaseqArgumentException>(() => Connection.Open("http://nope"));
            Wait.Throws<LeaseqArgumentException>(Connection.OpenAsync("http://nope"));
        }

        [Test]
        public void ClosedConnectionIsAConnectionError()
        {
            Connection.Close();
            Assert.Throws<LeaseqConnectionException>(() => Queue.AddItem(new Item(Bytes("x"))));
            Wait.Throws<LeaseqConnectionException>(Queue.LeaseAsync(LeaseTime, true));
            Assert.Throws<LeaseqConnectionException>(() => Queue.QueueLength());
        }

        [Test]
        public void RedisErrorRepliesAreInternalErrors()
        {
            Assert.AreEqual("+OK", RawRedis.Command("SET", Prefix + ":queue", "not a list"));
            var error = Assert.Throws<LeaseqException>(() => Queue.QueueLength());
            Assert.AreEqual(ErrorKind.Internal, error.Kind);
            Assert.AreEqual(typeof(LeaseqException), Wait.Throws<LeaseqException>(Queue.QueueLengthAsync()).GetType());
        }

        [Test]
        public void DisposedHandlesAreObjectDisposed()
        {
            Queue.Dispose();
            Assert.Throws<ObjectDisposedException>(() => Queue.QueueLength());
            Wait.Throws<ObjectDisposedException>(Queue.QueueLengthAsync());
            Connection.Dispose();
            Assert.Throws<ObjectDisposedException>(() => new WorkQueue(Connection, "q"));
            Connection.Dispose();
        }

        [Test]
        public unsafe void EveryCoreErrorKindMapsToItsException()
        {
            var expected = new Dictionary<string, Type>
            {
                { "ECONNECTION", typeof(LeaseqConnectionException) },
                { "ETIMEOUT", typeof(LeaseqTimeoutException) },
                { "EINVAL", typeof(LeaseqArgumentException) },
                { "ELEASE_LOST", typeof(LeaseLostException) },
                { "EINTERNAL", typeof(LeaseqException) },
            };
            var codes = new uint[64];
            int count;
            fixed (uint* start = codes)
            {
                count = (int)Native.NativeMethods.leaseq_error_kinds(start, (UIntPtr)(uint)codes.Length);
            }
            Assert.AreEqual(expected.Count, count, "the core has a kind this table lacks");
            foreach (var code in codes.Take(count))
            {
                UIntPtr length;
                var name = Interop.Decode(Native.NativeMethods.leaseq_error_kind_name(code, &length), length);
                Assert.IsTrue(expected.ContainsKey(name), "no exception for core kind " + name);
                var exception = Errors.FromKind(code, "message");
                Assert.AreEqual(expected[name], exception.GetType(), name);
                Assert.AreEqual((ErrorKind)code, ((ILeaseqError)exception).Kind, name);
                Assert.IsTrue(Enum.IsDefined(typeof(ErrorKind), (ErrorKind)code), name);
                Assert.AreEqual("message", exception.Message);
                Assert.IsTrue(exception is LeaseqException || exception is LeaseqArgumentException, name);
            }
            Assert.AreEqual(typeof(LeaseqException), Errors.FromKind(99, "newer kind").GetType());
        }
    }
}
