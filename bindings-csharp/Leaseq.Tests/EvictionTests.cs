using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using NUnit.Framework;

namespace Leaseq.Tests
{
    /// <summary>
    /// The eviction check at <see cref="Connection.Open(string)"/>: a Redis whose <c>maxmemory-policy</c> is not
    /// <c>noeviction</c> may evict queue keys, so opening emits one <c>Trace.TraceWarning</c> and keeps it in
    /// <see cref="Connection.Warnings"/>, or refuses with <c>?eviction=refuse</c>. The evicting server is this
    /// fixture's own, so no other test sees its policy.
    /// </summary>
    [TestFixture]
    public class EvictionTests
    {
        const string Fix = "CONFIG SET maxmemory-policy noeviction";
        Process evictingServer;
        string evictingDir;
        string evictingUrl;

        [TestFixtureSetUp]
        public void StartAnEvictingRedis()
        {
            var port = Env.FreePort();
            evictingDir = Path.Combine(Path.GetTempPath(), "leaseq-cs-evicting-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(evictingDir);
            var start = new ProcessStartInfo("redis-server",
                "--port " + port + " --bind 127.0.0.1 --save \"\" --appendonly no --dir \"" + evictingDir +
                "\" --maxmemory-policy allkeys-lru")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            evictingServer = Process.Start(start);
            // Read (and drop) its log, so that a full pipe never stalls it.
            evictingServer.OutputDataReceived += (sender, line) => { };
            evictingServer.ErrorDataReceived += (sender, line) => { };
            evictingServer.BeginOutputReadLine();
            evictingServer.BeginErrorReadLine();
            evictingUrl = "redis://127.0.0.1:" + port;
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (true)
            {
                try
                {
                    Connection.Open(evictingUrl + "?eviction=ignore").Dispose();
                    return;
                }
                catch (LeaseqConnectionException)
                {
                    if (evictingServer.HasExited || DateTime.UtcNow > deadline)
                    {
                        Assert.Fail("redis-server on port " + port + " did not start");
                    }
                    Thread.Sleep(25);
                }
            }
        }

        [TestFixtureTearDown]
        public void StopTheEvictingRedis()
        {
            if (evictingServer != null)
            {
                if (!evictingServer.HasExited)
                {
                    evictingServer.Kill();
                }
                evictingServer.WaitForExit(10000);
                evictingServer.Dispose();
            }
            if (evictingDir != null && Directory.Exists(evictingDir))
            {
                Directory.Delete(evictingDir, true);
            }
        }

        [Test]
        public void AnEvictingRedisGivesOneTraceWarningAtOpenAndInWarnings()
        {
            IReadOnlyList<string> warnings;
            var traced = TracedWarnings(() => Connection.Open(evictingUrl), out warnings);
            Assert.AreEqual(1, traced.Count, string.Join("\n", traced));
            StringAssert.Contains("has maxmemory-policy allkeys-lru", traced[0]);
            StringAssert.Contains("lose items", traced[0]);
            StringAssert.Contains(Fix, traced[0]);
            StringAssert.Contains("eviction=ignore", traced[0]);
            CollectionAssert.AreEqual(traced, warnings, "Warnings holds what was traced");
        }

        [Test]
        public void AnEvictingRedisGivesOneTraceWarningAtOpenAsync()
        {
            IReadOnlyList<string> warnings;
            var traced = TracedWarnings(() => Wait.For(Connection.OpenAsync(evictingUrl)), out warnings);
            Assert.AreEqual(1, traced.Count, string.Join("\n", traced));
            StringAssert.Contains("has maxmemory-policy allkeys-lru", traced[0]);
            CollectionAssert.AreEqual(traced, warnings);
        }

        [Test]
        public void WarningsAreReadOnlyAndOutliveTheConnection()
        {
            var connection = Connection.Open(evictingUrl);
            var warnings = connection.Warnings;
            Assert.AreEqual(1, warnings.Count);
            var collection = (ICollection<string>)warnings;
            Assert.IsTrue(collection.IsReadOnly);
            Assert.Throws<NotSupportedException>(() => collection.Add("more"));
            connection.Dispose();
            Assert.AreSame(warnings, connection.Warnings);
            StringAssert.Contains("allkeys-lru", connection.Warnings[0]);
        }

        [Test]
        public void EvictionRefuseIsAConnectionError()
        {
            var url = evictingUrl + "?eviction=refuse";
            var error = Assert.Throws<LeaseqConnectionException>(() => Connection.Open(url));
            Assert.AreEqual(ErrorKind.Connection, error.Kind);
            StringAssert.Contains("maxmemory-policy allkeys-lru", error.Message);
            StringAssert.Contains(Fix, error.Message);
            var asyncError = Wait.Throws<LeaseqConnectionException>(Connection.OpenAsync(url));
            Assert.AreEqual(ErrorKind.Connection, asyncError.Kind);
            StringAssert.Contains("maxmemory-policy allkeys-lru", asyncError.Message);
        }

        [Test]
        public void EvictionIgnoreSkipsTheCheck()
        {
            IReadOnlyList<string> warnings;
            var url = evictingUrl + "?eviction=ignore";
            CollectionAssert.IsEmpty(TracedWarnings(() => Connection.Open(url), out warnings));
            CollectionAssert.IsEmpty(warnings);
            CollectionAssert.IsEmpty(TracedWarnings(() => Wait.For(Connection.OpenAsync(url)), out warnings));
            CollectionAssert.IsEmpty(warnings);
        }

        [Test]
        public void ANoevictionRedisGivesNoWarningAndABadParameterIsAnArgumentError()
        {
            IReadOnlyList<string> warnings;
            CollectionAssert.IsEmpty(TracedWarnings(() => Connection.Open(Env.RedisUrl), out warnings));
            CollectionAssert.IsEmpty(warnings);
            CollectionAssert.IsEmpty(TracedWarnings(() => Connection.Open(Env.RedisUrl + "?eviction=refuse"), out warnings));
            CollectionAssert.IsEmpty(warnings);
            var error = Assert.Throws<LeaseqArgumentException>(() => Connection.Open(Env.RedisUrl + "?eviction=often"));
            Assert.AreEqual(ErrorKind.InvalidArgument, error.Kind);
            StringAssert.Contains("warn, refuse or ignore", error.Message);
        }

        [Test]
        public void ATraceListenerThatThrowsFailsTheOpen()
        {
            var throwing = new ThrowingListener();
            Trace.Listeners.Add(throwing);
            try
            {
                Assert.Throws<InvalidOperationException>(() => Connection.Open(evictingUrl));
                Assert.Throws<InvalidOperationException>(() => Wait.For(Connection.OpenAsync(evictingUrl)));
            }
            finally
            {
                Trace.Listeners.Remove(throwing);
            }
        }

        /// <summary>The warnings traced while <paramref name="open"/> runs, and the connection's own.</summary>
        static List<string> TracedWarnings(Func<Connection> open, out IReadOnlyList<string> warnings)
        {
            var recorder = new WarningRecorder();
            Trace.Listeners.Add(recorder);
            try
            {
                using (var connection = open())
                {
                    warnings = connection.Warnings;
                }
            }
            finally
            {
                Trace.Listeners.Remove(recorder);
            }
            lock (recorder.Warnings)
            {
                return new List<string>(recorder.Warnings);
            }
        }

        /// <summary>Records the text of every warning traced, as a listener an application adds would see it.</summary>
        sealed class WarningRecorder : TraceListener
        {
            internal readonly List<string> Warnings = new List<string>();

            public override void TraceEvent(TraceEventCache eventCache, string source, TraceEventType eventType, int id, string message)
            {
                if (eventType == TraceEventType.Warning)
                {
                    lock (Warnings)
                    {
                        Warnings.Add(message);
                    }
                }
            }

            public override void TraceEvent(TraceEventCache eventCache, string source, TraceEventType eventType, int id, string format, params object[] args)
            {
                TraceEvent(eventCache, source, eventType, id, args == null ? format : string.Format(format, args));
            }

            public override void Write(string message)
            {
            }

            public override void WriteLine(string message)
            {
            }
        }

        sealed class ThrowingListener : TraceListener
        {
            public override void TraceEvent(TraceEventCache eventCache, string source, TraceEventType eventType, int id, string message)
            {
                throw new InvalidOperationException("a listener that throws");
            }

            public override void TraceEvent(TraceEventCache eventCache, string source, TraceEventType eventType, int id, string format, params object[] args)
            {
                throw new InvalidOperationException("a listener that throws");
            }

            public override void Write(string message)
            {
            }

            public override void WriteLine(string message)
            {
            }
        }
    }
}
