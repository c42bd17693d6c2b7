// Trace.TraceWarning is [Conditional("TRACE")]: without this, a build that does not define TRACE (mcs
// does not by default) would drop the warning at open.
#define TRACE
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Leaseq.Native;

namespace Leaseq
{
    /// <summary>
    /// A connection to one Redis server, shared by any number of <see cref="WorkQueue"/>s.
    ///
    /// Operations are multiplexed over one socket that reconnects by itself; a blocking lease waits on a
    /// connection of its own so it never stalls the others. Safe to share between threads.
    /// </summary>
    public sealed class Connection : IDisposable
    {
        internal readonly ConnectionHandle Handle;
        readonly IReadOnlyList<string> warnings;

        /// <summary>Takes over <paramref name="handle"/> and reads what opening found (the caller emits it).</summary>
        internal Connection(ConnectionHandle handle)
        {
            Handle = handle;
            try
            {
                warnings = ReadWarnings(handle);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>
        /// Opens a connection from a URL: <c>redis://[user:password@]host:port[/db]</c>,
        /// <c>rediss://…</c> (TLS) or <c>unix:///path/to/redis.sock</c>.
        ///
        /// Connects at once, so a server that cannot be reached is a <see cref="LeaseqConnectionException"/>
        /// here rather than at the first operation.
        ///
        /// Reads Redis's <c>maxmemory-policy</c> once: under any policy but <c>noeviction</c> Redis may evict
        /// queue keys and lose items, so opening emits one <see cref="Trace.TraceWarning(string, object[])"/> per
        /// finding (seen by the listeners in <see cref="Trace.Listeners"/>, e.g. a <see cref="ConsoleTraceListener"/>)
        /// and keeps it in <see cref="Warnings"/>. <c>?eviction=refuse</c> in the URL makes such a server a
        /// <see cref="LeaseqConnectionException"/> instead, <c>?eviction=ignore</c> skips the check. A server that
        /// refuses <c>INFO</c> is the same warning, saying the policy could not be checked.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="url"/> is null.</exception>
        /// <exception cref="LeaseqArgumentException">The URL is malformed, or its <c>eviction</c> is not
        /// <c>warn</c>, <c>refuse</c> or <c>ignore</c>.</exception>
        /// <exception cref="LeaseqConnectionException">The server cannot be reached, or it may evict keys and the
        /// URL says <c>eviction=refuse</c>.</exception>
        public static Connection Open(string url)
        {
            return Open(url, null);
        }

        /// <summary>
        /// <see cref="Open(string)"/> with timeouts other than the defaults (<c>null</c>: the defaults): see
        /// <see cref="ConnectionOptions"/>.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="url"/> is null.</exception>
        /// <exception cref="LeaseqArgumentException">The URL is malformed (as at <see cref="Open(string)"/>), or a
        /// timeout is zero or negative.</exception>
        /// <exception cref="LeaseqConnectionException">The server cannot be reached within the connect timeout, or
        /// it may evict keys and the URL says <c>eviction=refuse</c>.</exception>
        public static unsafe Connection Open(string url, ConnectionOptions options)
        {
            var bytes = Interop.Encode(CheckUrl(url), "url");
            var raw = (options ?? new ConnectionOptions()).ToNative();
            LeaseqConnection* connection = null;
            LeaseqError* error = null;
            uint code;
            fixed (byte* urlBytes = bytes)
            {
                code = NativeMethods.leaseq_connection_open_with_options(urlBytes, Interop.Length(bytes), &raw, &connection, &error);
            }
            Interop.Check(code, error);
            return new Connection(new ConnectionHandle((IntPtr)connection)).WarnOnce();
        }

        /// <summary><see cref="Open(string)"/>, asynchronously.</summary>
        public static Task<Connection> OpenAsync(string url, CancellationToken cancellationToken = default(CancellationToken))
        {
            return OpenAsync(url, null, cancellationToken);
        }

        /// <summary><see cref="Open(string, ConnectionOptions)"/>, asynchronously.</summary>
        public static async Task<Connection> OpenAsync(string url, ConnectionOptions options, CancellationToken cancellationToken = default(CancellationToken))
        {
            var connection = await StartOpen(url, options, cancellationToken).ConfigureAwait(false);
            // Here, on the thread pool, rather than in the reader: that runs on the dispatcher thread, which
            // trace listeners (user code, perhaps slow) must not hold up.
            return connection.WarnOnce();
        }

        static unsafe Task<Connection> StartOpen(string url, ConnectionOptions options, CancellationToken cancellationToken)
        {
            return Calls.Start(Readers.Opened, cancellationToken, (index, error) =>
            {
                var bytes = Interop.Encode(CheckUrl(url), "url");
                var raw = (options ?? new ConnectionOptions()).ToNative();
                fixed (byte* urlBytes = bytes)
                {
                    return NativeMethods.leaseq_connection_open_with_options_async(index, urlBytes, Interop.Length(bytes), &raw, error);
                }
            });
        }

        /// <summary>
        /// What the eviction check found when this connection opened, each also emitted then with
        /// <see cref="Trace.TraceWarning(string, object[])"/>: one sentence per finding, naming the server, its
        /// <c>maxmemory-policy</c> and the fix, when Redis may evict queue keys (or its policy could not be
        /// read). Empty when the policy is <c>noeviction</c>, and with <c>?eviction=ignore</c> in the URL.
        /// Read-only, and still readable after <see cref="Dispose"/>.
        /// </summary>
        public IReadOnlyList<string> Warnings
        {
            get { return warnings; }
        }

        /// <summary>
        /// Closes the connection: every queue using it fails with a <see cref="LeaseqConnectionException"/>
        /// from now on. <see cref="Dispose"/> closes it too.
        /// </summary>
        public unsafe void Close()
        {
            if (Handle.IsClosed)
            {
                return;
            }
            using (var use = new HandleUse(Handle))
            {
                NativeMethods.leaseq_connection_close((LeaseqConnection*)use.Pointer);
            }
        }

        /// <summary>
        /// Closes the connection (see <see cref="Close"/>) and frees its handle. A connection that is never
        /// disposed is freed by the finalizer without being closed: it then closes when its last queue is freed.
        /// </summary>
        public void Dispose()
        {
            try
            {
                Close();
            }
            catch (ObjectDisposedException)
            {
                // Disposed on another thread meanwhile: nothing left to close.
            }
            Handle.Dispose();
        }

        /// <summary>
        /// Emits each of <see cref="Warnings"/> once, as .NET libraries report a hazard found at start-up: through
        /// <see cref="Trace"/>, whose listeners the application chooses. A listener that throws fails the open
        /// (the connection is disposed), as a Python warning filter set to error does.
        /// </summary>
        Connection WarnOnce()
        {
            try
            {
                foreach (var warning in warnings)
                {
                    // As a format argument, so that no listener reads a brace in the text as a placeholder.
                    Trace.TraceWarning("{0}", warning);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
            return this;
        }

        static unsafe IReadOnlyList<string> ReadWarnings(ConnectionHandle handle)
        {
            return Interop.ReadValue(Readers.Strings, (value, error) =>
            {
                using (var use = new HandleUse(handle))
                {
                    return NativeMethods.leaseq_connection_warnings((LeaseqConnection*)use.Pointer, value, error);
                }
            }).AsReadOnly();
        }

        static string CheckUrl(string url)
        {
            if (url == null)
            {
                throw new ArgumentNullException("url");
            }
            return url;
        }
    }
}
