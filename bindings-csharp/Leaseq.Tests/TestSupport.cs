using System;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Leaseq.Tests
{
    /// <summary>The Redis and the files the tests use, from the environment test.sh sets.</summary>
    internal static class Env
    {
        internal static string RedisUrl
        {
            get { return Required("LEASEQ_REDIS_URL"); }
        }

        /// <summary>bindings-csharp/, for the checks on generated and packaging files.</summary>
        internal static string CsharpDir
        {
            get { return Required("LEASEQ_CSHARP_DIR"); }
        }

        /// <summary>The native library the tests run against.</summary>
        internal static string NativeLibrary
        {
            get { return Path.Combine(Path.GetDirectoryName(typeof(Env).Assembly.Location), "libleaseq_native.so"); }
        }

        static string Required(string name)
        {
            var value = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(value))
            {
                Assert.Fail(name + " is not set: run the tests with bindings-csharp/test.sh");
            }
            return value;
        }

        /// <summary>A key prefix no other test (or run) uses.</summary>
        internal static string UniquePrefix()
        {
            return "leaseq-cs:" + TestContext.CurrentContext.Test.Name + ":" + Guid.NewGuid().ToString("N").Substring(0, 12);
        }

        /// <summary>A loopback port nothing listens on.</summary>
        internal static int FreePort()
        {
            var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }
    }

    /// <summary>A few raw commands for setting up states leaseq itself never makes.</summary>
    internal static class RawRedis
    {
        internal static string Command(params string[] args)
        {
            var uri = new Uri(Env.RedisUrl);
            using (var client = new TcpClient(uri.Host, uri.Port))
            using (var stream = client.GetStream())
            {
                var request = new StringBuilder("*" + args.Length + "\r\n");
                foreach (var arg in args)
                {
                    request.Append("$" + Encoding.UTF8.GetByteCount(arg) + "\r\n" + arg + "\r\n");
                }
                var bytes = Encoding.UTF8.GetBytes(request.ToString());
                stream.Write(bytes, 0, bytes.Length);
                var reply = new StringBuilder();
                int next;
                while ((next = stream.ReadByte()) != -1 && next != '\n')
                {
                    reply.Append((char)next);
                }
                return reply.ToString().TrimEnd('\r');
            }
        }
    }

    internal static class Wait
    {
        /// <summary>The task's result, rethrowing its own exception (not an AggregateException).</summary>
        internal static T For<T>(Task<T> task, int seconds = 30)
        {
            if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(seconds)))
            {
                Assert.Fail("the task did not complete within " + seconds + " s");
            }
            return task.GetAwaiter().GetResult();
        }

        internal static void For(Task task, int seconds = 30)
        {
            if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(seconds)))
            {
                Assert.Fail("the task did not complete within " + seconds + " s");
            }
            task.GetAwaiter().GetResult();
        }

        /// <summary>The exception a faulted task holds, asserting its exact type.</summary>
        internal static TException Throws<TException>(Task task) where TException : Exception
        {
            try
            {
                For(task);
            }
            catch (TException expected)
            {
                Assert.AreEqual(typeof(TException), expected.GetType(), expected.ToString());
                return expected;
            }
            catch (Exception other)
            {
                Assert.Fail("expected " + typeof(TException).Name + ", got " + other);
            }
            Assert.Fail("expected " + typeof(TException).Name + ", the task succeeded");
            return null;
        }

        internal static void Until(Func<bool> condition, int milliseconds = 5000)
        {
            var deadline = DateTime.UtcNow.AddMilliseconds(milliseconds);
            while (!condition())
            {
                if (DateTime.UtcNow > deadline)
                {
                    Assert.Fail("condition not met within " + milliseconds + " ms");
                }
                Thread.Sleep(10);
            }
        }
    }

    /// <summary>A connection and a queue under a fresh prefix for each test.</summary>
    public abstract class QueueTest
    {
        protected static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(30);
        protected Connection Connection;
        protected WorkQueue Queue;
        protected string Prefix;

        [SetUp]
        public void OpenQueue()
        {
            Connection = Connection.Open(Env.RedisUrl);
            Prefix = Env.UniquePrefix();
            Queue = new WorkQueue(Connection, Prefix);
        }

        [TearDown]
        public void CloseQueue()
        {
            Queue.Dispose();
            Connection.Dispose();
        }

        protected static byte[] Bytes(string text)
        {
            return Encoding.UTF8.GetBytes(text);
        }

        protected static string Text(byte[] bytes)
        {
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
