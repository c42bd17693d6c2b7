using System;
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

        internal Connection(ConnectionHandle handle)
        {
            Handle = handle;
        }

        /// <summary>
        /// Opens a connection from a URL: <c>redis://[user:password@]host:port[/db]</c>,
        /// <c>rediss://…</c> (TLS) or <c>unix:///path/to/redis.sock</c>.
        ///
        /// Connects at once, so a server that cannot be reached is a <see cref="LeaseqConnectionException"/>
        /// here rather than at the first operation.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="url"/> is null.</exception>
        /// <exception cref="LeaseqArgumentException">The URL is malformed.</exception>
        /// <exception cref="LeaseqConnectionException">The server cannot be reached.</exception>
        public static unsafe Connection Open(string url)
        {
            var bytes = Interop.Encode(CheckUrl(url), "url");
            LeaseqConnection* connection = null;
            LeaseqError* error = null;
            uint code;
            fixed (byte* urlBytes = bytes)
            {
                code = NativeMethods.leaseq_connection_open(urlBytes, Interop.Length(bytes), &connection, &error);
            }
            Interop.Check(code, error);
            return new Connection(new ConnectionHandle((IntPtr)connection));
        }

        /// <summary><see cref="Open"/>, asynchronously.</summary>
        public static unsafe Task<Connection> OpenAsync(string url, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Opened, cancellationToken, (index, error) =>
            {
                var bytes = Interop.Encode(CheckUrl(url), "url");
                fixed (byte* urlBytes = bytes)
                {
                    return NativeMethods.leaseq_connection_open_async(index, urlBytes, Interop.Length(bytes), error);
                }
            });
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
