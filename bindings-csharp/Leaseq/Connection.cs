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
        public static Connection Open(string url)
        {
            return Open(url, null);
        }

        /// <summary>
        /// <see cref="Open(string)"/> with timeouts other than the defaults (<c>null</c>: the defaults): see
        /// <see cref="ConnectionOptions"/>.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="url"/> is null.</exception>
        /// <exception cref="LeaseqArgumentException">The URL is malformed, or a timeout is zero or negative.</exception>
        /// <exception cref="LeaseqConnectionException">The server cannot be reached within the connect timeout.</exception>
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
            return new Connection(new ConnectionHandle((IntPtr)connection));
        }

        /// <summary><see cref="Open(string)"/>, asynchronously.</summary>
        public static Task<Connection> OpenAsync(string url, CancellationToken cancellationToken = default(CancellationToken))
        {
            return OpenAsync(url, null, cancellationToken);
        }

        /// <summary><see cref="Open(string, ConnectionOptions)"/>, asynchronously.</summary>
        public static unsafe Task<Connection> OpenAsync(string url, ConnectionOptions options, CancellationToken cancellationToken = default(CancellationToken))
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
