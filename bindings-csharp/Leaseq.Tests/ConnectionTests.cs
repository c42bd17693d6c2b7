using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using NUnit.Framework;

namespace Leaseq.Tests
{
    /// <summary>The connection's timeouts (the core's <c>ConnectionOptions</c>), against a Redis kept busy by a script.</summary>
    [TestFixture]
    public class ConnectionTests
    {
        static readonly TimeSpan ShortTimeout = TimeSpan.FromMilliseconds(200);

        /// <summary>A script that keeps Redis busy for ARGV[1] ms, looping on TIME (no DEBUG command needed).</summary>
        const string BusyScript =
            "local s=redis.call('TIME'); local t0=s[1]*1000000+s[2]; " +
            "repeat local n=redis.call('TIME') until n[1]*1000000+n[2]-t0 >= tonumber(ARGV[1])*1000; return 1";

        [Test]
        public void OptionsStartAtTheCoreDefaults()
        {
            var options = new ConnectionOptions();
            Assert.AreEqual(TimeSpan.FromSeconds(5), options.ConnectTimeout);
            Assert.AreEqual(TimeSpan.FromSeconds(30), options.ResponseTimeout);
        }

        [Test]
        public void ZeroOrNegativeTimeoutsAreArgumentErrors()
        {
            var refused = new[]
            {
                new ConnectionOptions { ConnectTimeout = TimeSpan.Zero },
                new ConnectionOptions { ConnectTimeout = TimeSpan.FromSeconds(-1) },
                new ConnectionOptions { ResponseTimeout = TimeSpan.Zero },
                new ConnectionOptions { ResponseTimeout = TimeSpan.FromMilliseconds(-1) },
            };
            foreach (var options in refused)
            {
                var what = options.ConnectTimeout + "/" + options.ResponseTimeout;
                var error = Assert.Throws<LeaseqArgumentException>(() => Connection.Open(Env.RedisUrl, options), what);
                Assert.AreEqual(ErrorKind.InvalidArgument, error.Kind);
                StringAssert.Contains("timeout", error.Message, what);
                Wait.Throws<LeaseqArgumentException>(Connection.OpenAsync(Env.RedisUrl, options));
            }
            // No response timeout (wait for ever), and null options (the defaults), are fine.
            using (Connection.Open(Env.RedisUrl, new ConnectionOptions { ResponseTimeout = null }))
            using (Connection.Open(Env.RedisUrl, null))
            using (Wait.For(Connection.OpenAsync(Env.RedisUrl, new ConnectionOptions { ResponseTimeout = null })))
            using (Wait.For(Connection.OpenAsync(Env.RedisUrl, null)))
            {
            }
            Assert.Throws<ArgumentNullException>(() => Connection.Open(null, new ConnectionOptions()));
        }

        [Test]
        public void AnAnswerLaterThanTheResponseTimeoutIsATimeoutError()
        {
            using (var connection = Connection.Open(Env.RedisUrl, new ConnectionOptions { ResponseTimeout = ShortTimeout }))
            using (var queue = new WorkQueue(connection, Env.UniquePrefix()))
            {
                Assert.AreEqual(0, queue.QueueLength());
                using (var busy = KeepRedisBusy(800))
                {
                    var watch = Stopwatch.StartNew();
                    var error = Assert.Throws<LeaseqTimeoutException>(() => queue.QueueLength());
                    AssertTimedOutAfterTheTimeout(watch.Elapsed);
                    Assert.AreEqual(ErrorKind.Timeout, error.Kind);
                    WaitForExit(busy);
                }
                // The connection stays usable once Redis answers again.
                Assert.AreEqual(0, queue.QueueLength());
            }
        }

        [Test]
        public void AnAnswerLaterThanTheResponseTimeoutIsATimeoutErrorAsync()
        {
            using (var connection = Wait.For(Connection.OpenAsync(Env.RedisUrl, new ConnectionOptions { ResponseTimeout = ShortTimeout })))
            using (var queue = new WorkQueue(connection, Env.UniquePrefix()))
            {
                Assert.AreEqual(0, Wait.For(queue.QueueLengthAsync()));
                using (var busy = KeepRedisBusy(800))
                {
                    var watch = Stopwatch.StartNew();
                    var error = Wait.Throws<LeaseqTimeoutException>(queue.QueueLengthAsync());
                    AssertTimedOutAfterTheTimeout(watch.Elapsed);
                    Assert.AreEqual(ErrorKind.Timeout, error.Kind);
                    WaitForExit(busy);
                }
                Assert.AreEqual(0, Wait.For(queue.QueueLengthAsync()));
                Assert.AreEqual(0, queue.QueueLength());
            }
        }

        [Test]
        public void WithoutAResponseTimeoutAnOperationWaitsForTheAnswer()
        {
            using (var connection = Connection.Open(Env.RedisUrl, new ConnectionOptions { ResponseTimeout = null }))
            using (var queue = new WorkQueue(connection, Env.UniquePrefix()))
            {
                Assert.AreEqual(0, queue.QueueLength());
                using (var busy = KeepRedisBusy(800))
                {
                    var watch = Stopwatch.StartNew();
                    Assert.AreEqual(0, queue.QueueLength());
                    Assert.Greater(watch.Elapsed, TimeSpan.FromMilliseconds(400), "it waited for the script to end");
                    WaitForExit(busy);
                }
            }
        }

        [Test]
        public void TheConnectTimeoutBoundsAnOpenOnAServerThatNeverAnswers()
        {
            // Accepts connections (the kernel does) and never answers. The core tries 3 times: with the
            // default 5 s that would take over 15 s.
            var silent = new TcpListener(IPAddress.Loopback, 0);
            silent.Start();
            try
            {
                var url = "redis://127.0.0.1:" + ((IPEndPoint)silent.LocalEndpoint).Port;
                var options = new ConnectionOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) };
                var watch = Stopwatch.StartNew();
                Assert.Throws<LeaseqConnectionException>(() => Connection.Open(url, options));
                Assert.Less(watch.Elapsed, TimeSpan.FromSeconds(4));
                watch.Restart();
                Wait.Throws<LeaseqConnectionException>(Connection.OpenAsync(url, options));
                Assert.Less(watch.Elapsed, TimeSpan.FromSeconds(4));
            }
            finally
            {
                silent.Stop();
            }
        }

        static void AssertTimedOutAfterTheTimeout(TimeSpan elapsed)
        {
            Assert.GreaterOrEqual(elapsed, ShortTimeout - TimeSpan.FromMilliseconds(20), "it waited for the answer first");
            Assert.Less(elapsed, TimeSpan.FromMilliseconds(600), "it did not wait for the script to end");
        }

        /// <summary>
        /// Runs the busy script for <paramref name="milliseconds"/> on a connection of redis-cli's, and returns once
        /// Redis has stopped answering others.
        /// </summary>
        static Process KeepRedisBusy(int milliseconds)
        {
            var start = new ProcessStartInfo("redis-cli")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Arguments = "-u " + Env.RedisUrl + " EVAL \"" + BusyScript + "\" 0 " + milliseconds;
            var process = Process.Start(start);
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (Answers())
            {
                if (process.HasExited)
                {
                    Assert.Fail("redis-cli ended before Redis was seen busy: " + process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd());
                }
                if (DateTime.UtcNow > deadline)
                {
                    Assert.Fail("Redis was not seen busy within 5 s");
                }
                Thread.Sleep(5);
            }
            return process;
        }

        /// <summary>Whether Redis answers a PING within 50 ms.</summary>
        static bool Answers()
        {
            var uri = new Uri(Env.RedisUrl);
            using (var client = new TcpClient(uri.Host, uri.Port))
            using (var stream = client.GetStream())
            {
                stream.ReadTimeout = 50;
                var ping = Encoding.ASCII.GetBytes("PING\r\n");
                stream.Write(ping, 0, ping.Length);
                try
                {
                    return stream.ReadByte() == '+';
                }
                catch (IOException)
                {
                    return false;
                }
            }
        }

        static void WaitForExit(Process busy)
        {
            Assert.IsTrue(busy.WaitForExit(10000), "the busy script ended");
            Assert.AreEqual("1", busy.StandardOutput.ReadToEnd().Trim(), busy.StandardError.ReadToEnd());
        }
    }
}
