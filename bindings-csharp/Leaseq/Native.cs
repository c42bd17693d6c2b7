using System;
using System.Runtime.InteropServices;
using System.Text;
using Leaseq.Native;

namespace Leaseq
{
    /// <summary>Marshalling shared by every call: UTF-8, errors, and keeping a handle alive for a call.</summary>
    internal static unsafe class Interop
    {
        // Strict: a string with a lone surrogate has no UTF-8 form, and must not become U+FFFD silently.
        static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);

        internal static byte[] Encode(string value, string what)
        {
            try
            {
                return Utf8.GetBytes(value);
            }
            catch (EncoderFallbackException)
            {
                throw new LeaseqArgumentException(what + " is not valid UTF-16, so it has no UTF-8 form");
            }
        }

        internal static string Decode(byte* bytes, UIntPtr length)
        {
            return length == UIntPtr.Zero ? string.Empty : Utf8.GetString(bytes, checked((int)length.ToUInt64()));
        }

        internal static byte[] Copy(byte* bytes, UIntPtr length)
        {
            var copy = new byte[checked((int)length.ToUInt64())];
            if (copy.Length > 0)
            {
                Marshal.Copy((IntPtr)bytes, copy, 0, copy.Length);
            }
            return copy;
        }

        internal static UIntPtr Length(byte[] bytes)
        {
            return (UIntPtr)(uint)bytes.Length;
        }

        /// <summary>The exception for a failed call; frees the native error.</summary>
        internal static Exception Error(uint code, LeaseqError* error)
        {
            string message = "leaseq error " + code;
            if (error != null)
            {
                message = Decode(error->message, error->message_len);
                NativeMethods.leaseq_error_free(error);
            }
            return Errors.FromKind(code, message);
        }

        /// <summary>Throws the exception for a failed call (code not 0); frees the native error.</summary>
        internal static void Check(uint code, LeaseqError* error)
        {
            if (code != 0)
            {
                throw Error(code, error);
            }
        }

        internal static Item ItemFrom(LeaseqItem* item)
        {
            return new Item(Copy(item->data, item->data_len), Decode(item->id, item->id_len), Copy(item->id, item->id_len), checked((int)item->attempts));
        }
    }

    /// <summary>
    /// Keeps a <see cref="SafeHandle"/> from being released while a native call uses its pointer
    /// (a finalizer or a Dispose on another thread waits for the call). Use with <c>using</c>.
    /// </summary>
    internal struct HandleUse : IDisposable
    {
        readonly SafeHandle handle;
        readonly bool added;

        internal HandleUse(SafeHandle handle)
        {
            this.handle = handle;
            added = false;
            // Throws ObjectDisposedException once the handle is disposed.
            handle.DangerousAddRef(ref added);
        }

        internal IntPtr Pointer
        {
            get { return handle.DangerousGetHandle(); }
        }

        public void Dispose()
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>A native connection handle; releasing it frees the handle (see <c>leaseq_connection_free</c>).</summary>
    internal sealed unsafe class ConnectionHandle : SafeHandle
    {
        internal ConnectionHandle(IntPtr pointer) : base(IntPtr.Zero, true)
        {
            SetHandle(pointer);
        }

        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.leaseq_connection_free((LeaseqConnection*)handle);
            return true;
        }
    }

    /// <summary>A native queue handle; releasing it frees the handle (see <c>leaseq_queue_free</c>).</summary>
    internal sealed unsafe class QueueHandle : SafeHandle
    {
        internal QueueHandle(IntPtr pointer) : base(IntPtr.Zero, true)
        {
            SetHandle(pointer);
        }

        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.leaseq_queue_free((LeaseqQueue*)handle);
            return true;
        }
    }
}
